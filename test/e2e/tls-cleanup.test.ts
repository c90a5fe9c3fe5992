/**
 * The probes go with the agent (issue 15, acceptance 5): an agent with --tls hooked to nginx serving
 * HTTPS under load (curl in a loop from another namespace) is killed with SIGKILL, and another is
 * stopped normally; afterwards no uprobe is listed in tracefs' uprobe_events (tracefs is mounted
 * here for the check when it is not, and unmounted after), and `bpftool prog list`, `map list`,
 * `link list` and `perf list` show nothing that appeared while the agent ran. While it runs, the
 * same lists must show its programs, links and perf events: the check can see what it looks for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAddress, addVeth, run, runOk, Scope, requireNetns, waitForPort, type Netns } from '../helpers/netns.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { makeCertificate, startNginx, writeNginxConfig } from '../helpers/tls-servers.ts';
import { skipFor, missingCommand } from '../helpers/requirements.ts';
import { until } from '../helpers/until.ts';

const skip = skipFor(requireNetns(['curl', 'nginx', 'openssl']) ?? missingCommand('bpftool', 'Debian bpftool'));
const SERVER_IP = '10.80.0.2';
const CLIENT_IP = '10.80.0.1';
const PORT = 8443;
const TRACEFS = '/sys/kernel/tracing';

interface KernelObjects {
  readonly progs: ReadonlySet<number>;
  readonly maps: ReadonlySet<number>;
  readonly links: ReadonlySet<number>;
  /** `bpftool perf list`: perf events with a BPF program, as "pid/fd". */
  readonly perf: ReadonlySet<string>;
  readonly uprobeEvents: string;
}

async function bpftoolIds(what: 'prog' | 'map' | 'link'): Promise<Set<number>> {
  const r = await runOk('bpftool', ['-j', what, 'list']);
  const list = JSON.parse(r.stdout.toString('utf8') || '[]') as { id: number }[];
  return new Set(list.map((o) => o.id));
}

async function snapshot(): Promise<KernelObjects> {
  const perf = JSON.parse((await runOk('bpftool', ['-j', 'perf', 'list'])).stdout.toString('utf8') || '[]') as { pid: number; fd: number }[];
  return {
    progs: await bpftoolIds('prog'),
    maps: await bpftoolIds('map'),
    links: await bpftoolIds('link'),
    perf: new Set(perf.map((p) => `${p.pid}/${p.fd}`)),
    uprobeEvents: readFileSync(join(TRACEFS, 'uprobe_events'), 'utf8'),
  };
}

const added = <T>(now: ReadonlySet<T>, before: ReadonlySet<T>): T[] => [...now].filter((x) => !before.has(x));

/** tracefs mounted for the duration of the test (undone on close when it was not there). */
async function ensureTracefs(scope: Scope): Promise<void> {
  if (existsSync(join(TRACEFS, 'uprobe_events'))) return;
  mkdirSync(TRACEFS, { recursive: true });
  await runOk('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
  scope.defer(async () => void (await run('umount', [TRACEFS])));
}

async function busyServer(scope: Scope): Promise<{ server: Netns; stopLoad: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), `ks-tls-clean-${process.pid}-`));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const client = await scope.netns('ccli');
  const server = await scope.netns('csrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  const certificate = await makeCertificate(dir, SERVER_IP);
  startNginx(server, writeNginxConfig({ dir, port: PORT, certificate, tls: 'any', http2: true, sizes: [1200, 70_000] }));
  await waitForPort(server, SERVER_IP, PORT);
  // Load for as long as the test runs: new connections and keep-alive ones, HTTP/1.1 and h2.
  const load = client.spawn('bash', [
    '-c',
    `while :; do curl -sk --http1.1 -o /dev/null -o /dev/null https://${SERVER_IP}:${PORT}/bytes/1200 https://${SERVER_IP}:${PORT}/bytes/70000; ` +
      `curl -sk --http2 -o /dev/null https://${SERVER_IP}:${PORT}/bytes/1200; done`,
  ]);
  return { server, stopLoad: () => load.kill('SIGKILL') };
}

async function hookedAgent(server: Netns, scope: Scope): Promise<AgentProcess> {
  const agent = startAgent(server, ['--tls', '--iface', 'any'], { dir: prepareAgentDir(scope), scope });
  await agent.ready();
  await agent.waitFor((f) => f.type === 'warning' && (f.code as string) === 'TLS_HOOKED', 30_000, 'nginx hooked');
  // Plaintext flowing: the probes are in use when the agent goes.
  await agent.waitUntil(() => (agent.allEntries().some((e) => (e as { tls?: unknown }).tls === true) ? true : undefined), 20_000, 'a tls entry');
  return agent;
}

for (const ending of ['kill -9', 'a normal stop'] as const) {
  test(`agent --tls on a busy TLS server, ended by ${ending}: no uprobe, program, map, link or perf event of it is left`, { skip, timeout: 120_000 }, async (t) => {
    const scope = new Scope();
    try {
      await ensureTracefs(scope);
      const { server, stopLoad } = await busyServer(scope);
      scope.defer(stopLoad);
      const before = await snapshot();
      const agent = await hookedAgent(server, scope);
      const during = await snapshot();
      const mine = { progs: added(during.progs, before.progs), maps: added(during.maps, before.maps), links: added(during.links, before.links) };
      const myPerf = [...during.perf].filter((p) => p.startsWith(`${agent.pid}/`));
      t.diagnostic(`while running: ${mine.progs.length} programs, ${mine.maps.length} maps, ${mine.links.length} links, ${myPerf.length} perf events of pid ${agent.pid}`);
      assert.ok(mine.progs.length > 0, 'the agent loaded programs (bpftool sees them)');
      // Its raw tracepoints are perf events too; its uprobes are uprobe_multi links (Linux 6.6+), else perf events.
      assert.ok(myPerf.length > 0, 'the agent has perf events (bpftool perf list sees them)');

      if (ending === 'kill -9') {
        agent.signal('SIGKILL');
        const exit = await agent.waitExit(5000);
        assert.equal(exit.signal, 'SIGKILL');
      } else {
        const exit = await agent.stop(5000);
        assert.equal(exit.code, 0, agent.stderr);
      }
      // Programs are freed after an RCU grace period once their last fd closes: poll briefly.
      const after = await until(
        'the kernel to free what the agent held',
        async () => {
          const now = await snapshot();
          const left = [...mine.progs.filter((id) => now.progs.has(id)), ...mine.maps.filter((id) => now.maps.has(id)), ...mine.links.filter((id) => now.links.has(id))];
          return left.length === 0 ? now : undefined;
        },
        10_000,
      );
      assert.deepEqual([...after.perf].filter((p) => p.startsWith(`${agent.pid}/`)), [], 'bpftool perf list: none of the agent');
      assert.deepEqual(added(after.progs, before.progs), [], 'bpftool prog list: nothing new');
      assert.deepEqual(added(after.links, before.links), [], 'bpftool link list: nothing new');
      assert.deepEqual(added(after.maps, before.maps), [], 'bpftool map list: nothing new');
      assert.equal(after.uprobeEvents, before.uprobeEvents, 'tracefs uprobe_events as before');
      assert.ok(!/libssl/.test(after.uprobeEvents), `no uprobe on libssl in uprobe_events: ${after.uprobeEvents}`);
    } finally {
      await scope.close();
    }
  });
}
