/**
 * The keeper runs with the pinned Node against a fake /proc: it must stay while an agent of its
 * folder runs, ignore other agents and itself, and exit 0 (removing its folder) once idle.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KEEPER_SCRIPT, keeperCommand } from './keeper.ts';

const root = mkdtempSync(join(tmpdir(), 'shark-keeper-'));
after(() => rmSync(root, { recursive: true, force: true }));

function fakeProcess(proc: string, pid: number, argv: string[]): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
}

test('the keeper command is node -e with the folder as argument; the script parses', () => {
  const cmd = keeperCommand('/tmp/kubectl-shark-shark-ab12c');
  assert.deepEqual([cmd[0], cmd[1], cmd[3]], ['node', '-e', '/tmp/kubectl-shark-shark-ab12c']);
  assert.doesNotThrow(() => new Function('require', 'process', KEEPER_SCRIPT));
  // Its own command line must not look like an agent of its folder.
  assert.ok(!cmd.join('\0').includes('/tmp/kubectl-shark-shark-ab12c/agent.js'));
});

test('stays while its agent runs, then exits 0 and removes the folder once idle', async () => {
  const proc = join(root, 'proc');
  const dir = join(root, 'kubectl-shark-shark-x1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'agent.js'), '');
  fakeProcess(proc, 4242, ['node', `${dir}/agent.js`, 'capture']);
  // Another pod's agent (another folder) and a lookalike do not count.
  fakeProcess(proc, 4243, ['node', `${dir}-other/agent.js`, 'capture']);
  fakeProcess(proc, 1, ['sleep', 'infinity']);

  const started = Date.now();
  const child = spawn(process.execPath, ['-e', KEEPER_SCRIPT, dir, '400', '50', proc], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(child.exitCode, null, 'the keeper must stay while its agent runs');
  // Ours, not the app's: the first OOM victim of the pod, at the lowest CPU priority.
  assert.equal(readFileSync(`/proc/${child.pid}/oom_score_adj`, 'utf8').trim(), '1000');
  assert.equal(getPriority(child.pid), 19);
  rmSync(join(proc, '4242'), { recursive: true });
  const removedAt = Date.now();
  const code = await exited;
  const idle = Date.now() - removedAt;
  assert.equal(code, 0);
  assert.ok(idle >= 350 && idle < 2000, `exited ${idle} ms after the agent went`);
  assert.ok(Date.now() - started > 1200);
  assert.equal(existsSync(dir), false, 'the folder is removed');
});

test('exits after the idle time when no agent ever comes, and on SIGTERM', async () => {
  const proc = join(root, 'proc-empty');
  mkdirSync(proc, { recursive: true });
  const dir = join(root, 'kubectl-shark-shark-x2');
  const child = spawn(process.execPath, ['-e', KEEPER_SCRIPT, dir, '200', '50', proc], { stdio: 'ignore' });
  assert.equal(await new Promise((r) => child.on('exit', r)), 0);
  const longer = spawn(process.execPath, ['-e', KEEPER_SCRIPT, dir, '60000', '50', proc], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  longer.kill('SIGTERM');
  assert.equal(await new Promise((r) => longer.on('exit', r)), 0);
});

test('with the real /proc it sees a real agent process of its folder', async () => {
  const dir = join(root, 'kubectl-shark-shark-x3');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'agent.js'), 'setTimeout(() => {}, 1500);');
  const agent = spawn(process.execPath, [join(dir, 'agent.js')], { stdio: 'ignore' });
  const keeper = spawn(process.execPath, ['-e', KEEPER_SCRIPT, dir, '300', '50'], { stdio: 'ignore' });
  const agentDone = new Promise((r) => agent.on('exit', r));
  const keeperDone = new Promise((r) => keeper.on('exit', r));
  await agentDone;
  assert.equal(keeper.exitCode, null, 'alive while the agent ran');
  assert.equal(await keeperDone, 0);
});
