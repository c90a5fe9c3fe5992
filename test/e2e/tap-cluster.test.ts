/**
 * `kubectl shark tap` end to end against the sandbox cluster with the demo shop (front-end ->
 * catalogue -> db, real servers and traffic): the real CLI (dist/cmd/main.js) with KUBECONFIG set,
 * as kubectl would run the plugin. Issue 6, acceptance 2 and 4: entries named on both sides,
 * -A -l, a pod created mid-tap tapped within 5 s, a deleted pod ending with a notice while the rest
 * go on, a broken agent stream retried, --dry-run changing nothing; no agent left in any pod.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import * as k8s from '@kubernetes/client-node';
import { demoShopFixture, requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';
import { SHOP_IPS, SHOP_SCRIPT, shopCallOf } from '../sandbox/demo-app.ts';
import { findKubectl, LAUNCHER, runCommand } from '../helpers/run-cli.ts';
import { agentsIn, assertNoAgents, coreApiOf, requireBuild, runTap, startTap, tapEnv } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-cluster skipped: ${skip}\n`);

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
const shop: Record<'frontEnd' | 'catalogue' | 'db', string> = { frontEnd: '', catalogue: '', db: '' };
/** Every pod ever created here, to look for left-over agents in. */
const allPods: [string, string][] = [];

before(async () => {
  if (skip) return;
  sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
  core = coreApiOf(sandbox);
  for (const p of (await core.listNamespacedPod({ namespace: 'shop' })).items) {
    const name = p.metadata!.name!;
    allPods.push(['shop', name]);
    if (name.startsWith('front-end-')) shop.frontEnd = name;
    if (name.startsWith('catalogue-')) shop.catalogue = name;
    if (name.startsWith('db-')) shop.db = name;
  }
});

after(async () => {
  if (!skip) await sandbox.stop();
});

async function sharkContainers(namespace: string, name: string): Promise<string[]> {
  const pod = await core.readNamespacedPod({ namespace, name });
  return (pod.spec?.ephemeralContainers ?? []).map((c) => c.name).filter((n) => n.startsWith('shark-'));
}

/** A pod of the shop script calling `call` every 100 ms. */
function caller(name: string, call: string): FixturePod {
  return {
    namespace: 'shop',
    name,
    labels: { app: 'loadgen' },
    containers: [{ name: 'loadgen', image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: 'loadgen', PORT: '8081', CALL: call, INTERVAL_MS: '100' } }],
  };
}

test('tap front-end -n shop -o json --count N: N entries, both ends named by pod, service and namespace', { skip }, async () => {
  const res = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '8']);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(entries.length, 8);
  for (const e of entries) {
    assert.match(e.id, new RegExp(`^shop/${shop.frontEnd}/`));
    assert.deepEqual(e.src, { ip: SHOP_IPS.frontEnd, port: e.src.port, name: 'front-end', namespace: 'shop', pod: shop.frontEnd, service: 'front-end' });
    assert.deepEqual(e.dst, { ip: SHOP_IPS.catalogue, port: 8080, name: 'catalogue', namespace: 'shop', pod: shop.catalogue, service: 'catalogue' });
    // The shop answers some calls 4xx by design, and 502 when its db fails one (DB_FAIL_EVERY).
    const call = shopCallOf(e.request.method, e.request.url, e.request.postData?.text ?? null);
    assert.ok(call && [call.status, 502].includes(e.response.status), `${e.request.method} ${e.request.url}: ${e.response.status}`);
  }
  // The per-pod summary goes to stderr.
  // The pod's row counts what it sent: it may have sent more before the stop reached it (--count
  // stops the tap at 8 written); the total is what was written.
  const podRow = new RegExp(`shop/${shop.frontEnd}\\s+ended\\s+(\\d+)`).exec(res.stderr);
  assert.ok(podRow !== null && Number(podRow[1]) >= 8, res.stderr);
  assert.match(res.stderr, /total: 8 entries from 1 pod/);
  assert.deepEqual(await sharkContainers('shop', shop.frontEnd), [(await sharkContainers('shop', shop.frontEnd))[0]]);
  await assertNoAgents(sandbox, allPods);

  // A second tap reuses the still-running capture container instead of adding another.
  const again = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '2']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await sharkContainers('shop', shop.frontEnd)).length, 1);
  await assertNoAgents(sandbox, allPods);
});

test('tap -A -l app=catalogue: the catalogue pod only, its calls in and out named', { skip }, async () => {
  const res = await runTap(sandbox, ['-A', '-l', 'app=catalogue', '-o', 'json', '--count', '10', '--stats']);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const entries = lines.filter((l) => l.type === undefined);
  assert.equal(entries.length, 10);
  const pairs = new Set(entries.map((e) => `${e.src.name}->${e.dst.name}`));
  assert.deepEqual([...pairs].sort(), ['catalogue->db', 'front-end->catalogue']);
  for (const e of entries) {
    assert.match(e.id, new RegExp(`^shop/${shop.catalogue}/`));
    const far = e.src.name === 'catalogue' ? e.dst : e.src;
    assert.equal(far.pod, e.src.name === 'catalogue' ? shop.db : shop.frontEnd);
    assert.equal(far.namespace, 'shop');
  }
  // --stats lines carry the pod (each ends the run, so at least the last one is there).
  for (const s of lines.filter((l) => l.type === 'stats')) assert.equal(s.pod, shop.catalogue);
  await assertNoAgents(sandbox, allPods);
});

test('both ends tapped (every shop pod): each call comes out once, the copies are counted as duplicates', { skip }, async () => {
  const res = await runTap(sandbox, ['-n', 'shop', '-o', 'json', '--duration', '4s']);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as HttpEntry);
  const calls = entries.filter((e) => e.src.name === 'front-end' && e.dst.name === 'catalogue');
  assert.ok(calls.length >= 5, `front-end -> catalogue calls: ${calls.length}`);
  // The shop's keep-alive connections were open long before the tap, and each agent joined them at
  // another request, so pair ordinals say nothing here. Two sightings of one call share the client
  // socket and request line and start within microseconds (one host clock); the same request line
  // on one socket comes again only after the front-end's next round (4 paths, 200 ms apart).
  const twice: string[] = [];
  const bySocketAndLine = new Map<string, number[]>();
  for (const e of entries) {
    const k = `${e.src.ip}:${e.src.port} ${e.request.method} ${e.request.url}`;
    bySocketAndLine.set(k, [...(bySocketAndLine.get(k) ?? []), Date.parse(e.startTime)]);
  }
  for (const [k, times] of bySocketAndLine) {
    times.sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! < 50) twice.push(`${k} at ${new Date(times[i]!).toISOString()}`);
  }
  assert.deepEqual(twice, [], 'no call twice');
  const dups = /(\d+) duplicates dropped/.exec(res.stderr);
  assert.ok(dups && Number(dups[1]) > 0, `the summary counts the copies dropped: ${res.stderr}`);
  await assertNoAgents(sandbox, allPods);
});

test('an API server before 1.30 (WebSocket exec v4 only): the upload and the tap still work', { skip }, async () => {
  sandbox.faults.websocketV4Only = true;
  try {
    // A fresh container (another image tag), so the upload runs under v4 too.
    const res = await runTap(sandbox, ['catalogue', '-n', 'shop', '-o', 'json', '--count', '3', '--image', 'node:24-bookworm-slim']);
    assert.equal(res.code, 0, res.stderr);
    const entries = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as HttpEntry);
    assert.equal(entries.length, 3);
    assert.ok(entries.every((e) => e.id.startsWith(`shop/${shop.catalogue}/`)));
  } finally {
    sandbox.faults.websocketV4Only = false;
  }
  await assertNoAgents(sandbox, allPods);
});

test('a pod created mid-tap is tapped within 5 s; a deleted one ends with a notice while the rest go on', { skip }, async () => {
  // Tapped: front-end and any loadgen pod; the loadgen calls catalogue (not tapped), so its
  // entries can only come from its own agent.
  const tap = startTap(sandbox, ['front-end|loadgen', '-n', 'shop', '-o', 'json']);
  try {
    await tap.until('entries from front-end', () => tap.entries().length >= 3);
    const name = 'loadgen-7f9c4d8b6d-abcde';
    allPods.push(['shop', name]);
    const createdAt = Date.now();
    await sandbox.createPod(caller(name, `http://${SHOP_IPS.catalogue}:8080`));
    await tap.until('entries captured in the new pod', () => tap.entries().some((e) => e.src.pod === name), 15_000);
    const first = tap.lines.find((l) => l.value.src?.pod === name)!;
    const delay = first.at - createdAt;
    process.stdout.write(`# new pod: first entry ${delay} ms after createPod\n`);
    assert.ok(delay < 5000, `the new pod's first entry came ${delay} ms after it was created`);
    assert.match(tap.stderr, new RegExp(`new pod shop/${name}: tapping it`));
    const newEntry = tap.entries().find((e) => e.src.pod === name)!;
    assert.equal(newEntry.src.namespace, 'shop');
    assert.equal(newEntry.dst.name, 'catalogue');

    await sandbox.deletePod('shop', name);
    await tap.until('the deletion notice', () => new RegExp(`pod shop/${name} (is being deleted|was deleted): its capture ended`).test(tap.stderr), 10_000);
    const afterDelete = tap.entries().length;
    await tap.until('front-end entries after the deletion', () => tap.entries().slice(afterDelete).filter((e) => e.src.pod === shop.frontEnd).length >= 5, 10_000);

    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`shop/${name}\\s+ended\\s+\\d+.*pod (is being deleted|was deleted)`));
    assert.match(res.stderr, new RegExp(`shop/${shop.frontEnd}\\s+ended`));
  } finally {
    if (tap.child.exitCode === null) await tap.interrupt();
  }
  await assertNoAgents(sandbox, allPods);
});

test('an agent killed in the pod (SIGKILL, as the OOM killer kills) is reported and comes back, once', { skip }, async () => {
  const tap = startTap(sandbox, ['db', '-n', 'shop', '-o', 'json']);
  try {
    await tap.until('entries from db', () => tap.entries().length >= 2);
    const agents = agentsIn(sandbox, [['shop', shop.db]]);
    assert.equal(agents.length, 1, agents.join('\n'));
    const pid = Number(/pid (\d+)/.exec(agents[0]!)![1]);
    process.kill(pid, 'SIGKILL');
    await tap.until('the restart notice', () => new RegExp(`pod shop/${shop.db}: the agent was killed \\(out of memory\\?\\): exit code 137, SIGKILL, with --max-memory 200 MiB, no pod memory limit; restarting it once`).test(tap.stderr), 10_000);
    await tap.until('entries of the second agent run', () => tap.entries().some((e) => e.id.includes('/r2.')), 15_000);
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  } finally {
    if (tap.child.exitCode === null) await tap.interrupt();
  }
  await assertNoAgents(sandbox, allPods);
});

test('--dry-run prints targets and pre-flight and adds no container', { skip }, async () => {
  const name = 'quiet-5b7d9c8f4-zzzzz';
  allPods.push(['shop', name]);
  await sandbox.createPod({ ...caller(name, `http://${SHOP_IPS.db}:8080`), labels: { app: 'quiet' } });
  const res = await runTap(sandbox, ['quiet', '-n', 'shop', '--dry-run']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`targets \\(1\\):\\n  shop/${name}`));
  assert.match(res.stdout, /ok {7}patch pods\/ephemeralcontainers in namespace shop/);
  assert.match(res.stdout, /dry run: nothing was changed/);
  const pod = await core.readNamespacedPod({ namespace: 'shop', name });
  assert.equal(pod.spec?.ephemeralContainers, undefined);
  assert.deepEqual(agentsIn(sandbox, allPods), []);
});

test('the keeper of a capture container runs in the pod, and only the keeper is left after a tap', { skip }, async () => {
  const pids = sandbox.processesIn('shop', shop.frontEnd);
  const lines = pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      return '';
    }
  });
  assert.ok(lines.some((l) => l.startsWith('sh\0-c\0') && /\0kubectl-shark-keeper\0kubectl-shark-shark-[a-z0-9]{5}\.\0?$/.test(l)), 'the keeper is running');
  assert.ok(!lines.some((l) => /agent\.js\0capture/.test(l)));
});

test('--filter applies after naming (names work), and a name-free query runs in the agents too', { skip }, async () => {
  const byName = await runTap(sandbox, ['-n', 'shop', '-o', 'json', '--count', '6', '--filter', 'dst.name == "db" and src.pod.startsWith("catalogue-")']);
  assert.equal(byName.code, 0, byName.stderr);
  const named = byName.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(named.length, 6);
  for (const e of named) assert.deepEqual([e.src.name, e.dst.name], ['catalogue', 'db']);

  const byPath = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '3', '--filter', 'request.path == "/tags"', '--no-redact', '--stats']);
  assert.equal(byPath.code, 0, byPath.stderr);
  const lines = byPath.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const tags = lines.filter((l) => l.type === undefined);
  assert.deepEqual(tags.map((e) => e.request.path), ['/tags', '/tags', '/tags']);
  // The agent filtered the other paths itself (its stats count them).
  const stats = lines.filter((l) => l.type === 'stats');
  assert.ok(stats.some((s) => s.filtered > 0), JSON.stringify(stats));
  assert.match(byPath.stderr, /redaction is off/);
  await assertNoAgents(sandbox, allPods);
});

test('--redact-keys reaches every agent: the named header is hidden at the source', { skip }, async () => {
  const res = await runTap(sandbox, ['-n', 'shop', '-o', 'json', '--count', '4', '--redact-keys=host,-nothing', '--redact-keys', 'x-unused']);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { request: { headers: Record<string, string> } });
  assert.equal(entries.length, 4);
  for (const e of entries) {
    const hosts = Object.entries(e.request.headers).filter(([name]) => name.toLowerCase() === 'host');
    assert.deepEqual(hosts.map(([, v]) => v), ['[REDACTED]'], JSON.stringify(e.request.headers));
  }
  const bad = await runTap(sandbox, ['-n', 'shop', '-o', 'json', '--no-redact', '--redact-keys', 'host']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--redact-keys has no effect with --no-redact/);
});

test('a --filter starting with "-" reaches every agent as a query (both flag forms): entries come out', { skip }, async () => {
  const query = '-1 < response.status and request.path == "/tags"';
  for (const form of [['--filter', query], [`--filter=${query}`]]) {
    const res = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '3', '--stats', ...form]);
    assert.equal(res.code, 0, `${JSON.stringify(form)}: ${res.stderr}`);
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const entries = lines.filter((l) => l.type === undefined);
    assert.deepEqual(entries.map((e) => e.request.path), ['/tags', '/tags', '/tags'], `${JSON.stringify(form)}: ${res.stderr}`);
    // The query ran in the agent too (pushed down): it filtered the other paths itself.
    const stats = lines.filter((l) => l.type === 'stats');
    assert.ok(stats.some((st) => st.filtered > 0), JSON.stringify(stats));
  }
  await assertNoAgents(sandbox, allPods);
});

test('--duration stops the tap; -c must name a container of the pod', { skip }, async () => {
  const started = Date.now();
  const timed = await runTap(sandbox, ['db', '-n', 'shop', '-o', 'json', '--duration', '2s']);
  assert.equal(timed.code, 0, timed.stderr);
  assert.ok(timed.stdout.trim().split('\n').length >= 3, 'entries for about 2 s');
  assert.match(timed.stderr, /total: \d+ entries from 1 pod in [23]\.\ds/);
  assert.ok(Date.now() - started < 10_000);

  const bad = await runTap(sandbox, ['db', '-n', 'shop', '-o', 'json', '-c', 'sidecar']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, new RegExp(`pod shop/${shop.db} has no container "sidecar" \\(its containers: db\\); fix -c`));
  await assertNoAgents(sandbox, allPods);
});

test('through the real kubectl: `kubectl shark tap ...` finds the plugin on PATH and passes flags and KUBECONFIG', { skip: skip || skipFor(findKubectl() ? null : 'kubectl is not installed') }, async () => {
  const pathDir = mkdtempSync(join(tmpdir(), 'shark-tap-path-'));
  try {
    symlinkSync(LAUNCHER, join(pathDir, 'kubectl-shark'));
    const env = { ...tapEnv(sandbox.kubeconfig), PATH: [pathDir, '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter), KUBECACHEDIR: join(pathDir, 'cache') };
    const res = await runCommand(findKubectl()!, ['shark', 'tap', 'catalogue', '-n', 'shop', '-o', 'json', '--count', '2'], { env });
    assert.equal(res.code, 0, res.stderr);
    const entries = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(entries.length, 2);
    for (const e of entries) assert.ok([e.src.pod, e.dst.pod].includes(shop.catalogue));
  } finally {
    rmSync(pathDir, { recursive: true, force: true });
  }
  await assertNoAgents(sandbox, allPods);
});
