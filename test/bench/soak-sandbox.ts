/**
 * The soak benchmark's sandbox cluster in a process of its own, so its RSS is the exec relay's
 * (the API server every agent's output passes through) and not the benchmark's bookkeeping.
 *
 * `node test/bench/soak-sandbox.ts FIXTURE.json`: starts the sandbox with that fixture, prints
 * one line `SOAK-SANDBOX {"kubeconfig":...,"netns":{"ns/pod":"name"}}`, and on SIGTERM, SIGINT or
 * the end of stdin stops it and prints `SOAK-SANDBOX-STOPPED {"ok":true}` (or the leftovers its
 * stop found, then exits 1).
 */
import { readFileSync } from 'node:fs';
import { startSandbox } from '../sandbox/index.ts';
import type { SandboxFixture } from '../sandbox/types.ts';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: soak-sandbox.ts FIXTURE.json\n');
  process.exit(2);
}
const fixture = JSON.parse(readFileSync(file, 'utf8')) as SandboxFixture;
let stopping = false;
// Handlers first: a signal while the pods start must still stop what was made.
const stopRequested = new Promise<void>((resolve) => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => resolve());
  process.stdin.on('end', () => resolve());
  process.stdin.resume();
});
const sandbox = await startSandbox(fixture);
const netns: Record<string, string> = {};
for (const pod of fixture.pods ?? []) netns[`${pod.namespace}/${pod.name}`] = sandbox.podNetns(pod.namespace, pod.name);
process.stdout.write(`SOAK-SANDBOX ${JSON.stringify({ kubeconfig: sandbox.kubeconfig, pid: process.pid, netns })}\n`);
await stopRequested;
if (!stopping) {
  stopping = true;
  try {
    await sandbox.stop();
    process.stdout.write(`SOAK-SANDBOX-STOPPED ${JSON.stringify({ ok: true })}\n`);
    process.exit(0);
  } catch (err) {
    process.stdout.write(`SOAK-SANDBOX-STOPPED ${JSON.stringify({ ok: false, error: String(err) })}\n`);
    process.exit(1);
  }
}
