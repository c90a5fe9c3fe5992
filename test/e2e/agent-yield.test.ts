/**
 * The agent yields to the app it shares a pod with (issue 10, item 8): oom_score_adj 1000 (the
 * kernel's first OOM victim) and nice 19 on every thread, still in effect after the agent has
 * re-executed itself with its heap flags (process.execve), and reported in hello. Where it cannot
 * raise its OOM score (here: /proc/<pid>/oom_score_adj bind-mounted read-only over it), it says so
 * in a warning frame and captures on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { AgentProcess, prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { isHttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { NODE } from '../helpers/capture.ts';
import { requireNetns, Scope } from '../helpers/netns.ts';
import { agentTopology, runClientList } from './agent-fixtures/topology.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]));

/** The nice value of each thread of `pid` (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

test('the agent runs as the first OOM victim at nice 19 on every thread, after its re-exec, and says so in hello', { skip, timeout: 60_000 }, async () => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const agent = startAgent(topo.server, ['--iface', 'any', '--max-memory', '128'], { dir: prepareAgentDir(scope), scope });
    const hello = await agent.ready();
    assert.equal(hello.oomScoreAdj, 1000);
    assert.equal(hello.nice, 19);
    // The hello comes from the re-executed process (same pid, new image with the heap flags).
    const cmdline = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.some((a) => a.startsWith('--max-old-space-size=')), `re-executed with heap flags: ${cmdline.join(' ')}`);
    assert.equal(readFileSync(`/proc/${agent.pid}/oom_score_adj`, 'utf8').trim(), '1000');
    const nices = threadNices(agent.pid);
    assert.ok(nices.size >= 4, `node's threads are there (${nices.size})`);
    assert.deepEqual([...nices].filter(([, n]) => n !== 19), [], 'every thread runs at nice 19');
    assert.deepEqual(agent.notices('OOM_SCORE'), []);
    assert.deepEqual(agent.notices('CPU_PRIORITY'), []);
    // And it captures as before.
    await runClientList(topo, [{ method: 'GET', target: '/yield/1/fixed/100' }]);
    await agent.waitFor((f) => f.type === 'entry' && isHttpEntry(f.entry) && f.entry.request.path === '/yield/1/fixed/100', 10_000, 'the entry');
    assert.equal((await agent.stop()).code, 0);
  } finally {
    await scope.close();
  }
});

test('an agent that cannot raise its OOM score warns and captures on', { skip, timeout: 60_000 }, async () => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    // A private mount namespace where the agent's own oom_score_adj is a read-only file holding 0.
    const frozen = join(topo.workDir, 'oom_score_adj');
    writeFileSync(frozen, '0\n');
    const args = ['--iface', 'any'];
    const [ip, ipArgs] = topo.server.wrap(NODE, ['agent.js', 'capture', ...args]);
    const script = 'mount --bind "$0" /proc/$$/oom_score_adj && mount -o remount,ro,bind /proc/$$/oom_score_adj && exec "$@"';
    const child = spawn('unshare', ['-m', 'sh', '-c', script, frozen, ip, ...ipArgs], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const agent = new AgentProcess(child, args, { dir, scope });
    scope.defer(() => agent.kill());
    const hello = await agent.ready();
    assert.equal(hello.oomScoreAdj, 0);
    assert.equal(hello.nice, 19);
    const [warning] = await agent.waitUntil(() => (agent.notices('OOM_SCORE').length > 0 ? agent.notices('OOM_SCORE') : undefined), 5000, 'the OOM_SCORE warning');
    assert.equal(warning!.type, 'warning');
    assert.match(warning!.message, /could not raise \/proc\/self\/oom_score_adj to 1000 \(.*read-only file system.*\): if the pod runs out of memory, the kernel may kill the app instead of the agent/i);
    await runClientList(topo, [{ method: 'GET', target: '/yield/2/fixed/100' }]);
    await agent.waitFor((f) => f.type === 'entry' && isHttpEntry(f.entry) && f.entry.request.path === '/yield/2/fixed/100', 10_000, 'the entry');
    assert.equal((await agent.stop()).code, 0);
  } finally {
    await scope.close();
  }
});
