/**
 * Honest silence in `tap`, against the sandbox: a filter that matches nothing says how many
 * entries the agents saw ("N seen, 0 matched the filter"), pushed down into the agents or not;
 * a pod whose traffic we do not dissect (TLS handshakes between two real Node peers; HTTP/2 and
 * then Redis were the example until they were dissected) is named in the per-pod summary, in
 * --stats lines, and in the TUI's header and empty list; a pod's Redis traffic gives entries.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { demoShopFixture, requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { requireBuild, runTap } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-silence skipped: ${skip}\n`);
const RESP_PEER = fileURLToPath(new URL('./fixtures/resp-peer.mjs', import.meta.url));
const RESP_SERVER_IP = '10.244.0.30';
const TLS_SERVER_IP = '10.244.0.32';

function respPod(name: string, ip: string, env: Record<string, string>): FixturePod {
  return { namespace: 'shop', name, labels: { app: name }, ip, containers: [{ name, image: 'node:24-slim', command: ['node', RESP_PEER], env }] };
}

let sandbox: Sandbox;
before(async () => {
  if (skip) return;
  const shop = demoShopFixture({ intervalMs: 200 });
  sandbox = await startSandbox({
    ...shop,
    pods: [
      ...(shop.pods ?? []),
      respPod('cart-cache', RESP_SERVER_IP, { PORT: '6379' }),
      respPod('checkout', '10.244.0.31', { CALL: `${RESP_SERVER_IP}:6379`, INTERVAL_MS: '300' }),
      respPod('vault', TLS_SERVER_IP, { PORT: '8443', MODE: 'tls-hello' }),
      respPod('payments', '10.244.0.33', { CALL: `${TLS_SERVER_IP}:8443`, INTERVAL_MS: '300', MODE: 'tls-hello' }),
    ],
  });
});
after(async () => {
  if (!skip) await sandbox.stop();
});

/** The "total: ..." line of tap's summary. */
const totalLine = (stderr: string): string => stderr.split('\n').find((l) => l.startsWith('total: ')) ?? '';

test('a filter that matches nothing: "N seen, 0 matched the filter", pushed down or not', { skip }, async () => {
  // Pushed down into the agent (no cluster words): the agent's own counts say what it saw.
  const pushed = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--filter', 'response.status == 599', '--duration', '6s']);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(pushed.stdout, '', 'no entry matched');
  const seen = /, ([\d,]+) seen, 0 matched the filter$/.exec(totalLine(pushed.stderr));
  assert.ok(seen, `summary:\n${pushed.stderr}`);
  assert.ok(Number(seen[1]!.replace(/,/g, '')) >= 10, `${seen[1]} entries seen in 6 s at 5 calls a second`);
  assert.match(totalLine(pushed.stderr), /^total: 0 entries from 1 pod in /);
  // Names are only known to the CLI, so this one is filtered there: still seen vs matched.
  const local = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--filter', 'dst.name == "nowhere"', '--duration', '5s']);
  assert.equal(local.code, 0, local.stderr);
  assert.match(totalLine(local.stderr), /, [1-9][\d,]* seen, 0 matched the filter$/);
  // Without a filter nothing is said about one.
  const plain = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '3']);
  assert.doesNotMatch(totalLine(plain.stderr), /seen|matched/);
});

test('Redis traffic is dissected: each PING of a pod is an entry answered PONG, nothing counted as not dissected', { skip }, async () => {
  const res = await runTap(sandbox, ['checkout', '-n', 'shop', '-o', 'json', '--stats', '--duration', '10s']);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type?: string; protocol?: { name: string }; request?: { command: string }; response?: { value: string } });
  const redis = lines.filter((l) => l.protocol?.name === 'redis');
  assert.ok(redis.length >= 5, `${redis.length} Redis entries in 10 s at one every 300 ms`);
  assert.ok(redis.every((e) => e.request?.command === 'PING' && e.response?.value === 'PONG'), JSON.stringify(redis.slice(0, 3)));
  const last = (lines.filter((l) => l.type === 'stats') as unknown as StatsFrame[]).at(-1);
  assert.equal(last?.undissected?.connections['redis'], undefined, 'no Redis connection counted as not dissected');
  assert.doesNotMatch(res.stderr, /not dissected in shop\/checkout/);
});

test('TLS traffic (not dissected) is counted per pod: --stats lines and the summary name it', { skip }, async () => {
  const res = await runTap(sandbox, ['payments', '-n', 'shop', '-o', 'json', '--stats', '--duration', '10s']);
  assert.equal(res.code, 0, res.stderr);
  const stats = res.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StatsFrame & { pod: string })
    .filter((f) => f.type === 'stats');
  const last = stats.at(-1);
  assert.ok(last?.undissected !== undefined, `stats lines carry the counts:\n${res.stdout.slice(0, 2000)}`);
  const tls = last.undissected.connections['tls'] ?? 0;
  assert.ok(tls >= 5, `${tls} TLS connections in 10 s at one every 300 ms`);
  assert.deepEqual(Object.keys(last.undissected.connections), ['tls'], 'nothing else guessed');
  assert.match(res.stderr, new RegExp(`^not dissected in shop/payments: ${tls} TLS connections$`, 'm'));
});

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SOCKET = `shark-tap-silence-${process.pid}`;

test('tap in the TUI: header and empty list say "not dissected" for a pod with only TLS', { skip: skip || skipFor(hasTmux ? null : 'tmux is not installed') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shark-tap-silence-'));
  const session = `s${Date.now()}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  try {
    tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '30', `env -u CI KUBECONFIG=${sandbox.kubeconfig} ${LAUNCHER} tap payments -n shop 2>${dir}/err; echo $? > ${dir}/rc; sleep 60`);
    const deadline = Date.now() + 60_000;
    let screen = '';
    while (Date.now() < deadline) {
      screen = tmux('capture-pane', '-p', '-t', session);
      if (/No entries; not dissected: \d+ TLS connections/.test(screen)) break;
      await sleep(200);
    }
    assert.match(screen, /No entries; not dissected: \d+ TLS connections/);
    assert.match(screen.split('\n')[0]!, /│ not dissected: \d+ TLS connections/);
    assert.doesNotMatch(screen, /Waiting for traffic/);
    tmux('send-keys', '-t', session, 'q');
    // The tap stops its agents after q: wait for it, then the summary names the pod's traffic too.
    const stopBy = Date.now() + 30_000;
    while (Date.now() < stopBy && !(existsSync(`${dir}/rc`) && readFileSync(`${dir}/rc`, 'utf8').trim() !== '')) await sleep(200);
    assert.equal(readFileSync(`${dir}/rc`, 'utf8').trim(), '0', readFileSync(`${dir}/err`, 'utf8'));
    assert.match(readFileSync(`${dir}/err`, 'utf8'), /^not dissected in shop\/payments: \d+ TLS connections$/m);
  } finally {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  }
});
