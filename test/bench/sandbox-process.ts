/**
 * The sandbox cluster in a process of its own (soak-sandbox.ts), for benchmarks that measure the
 * exec relay (the sandbox's API server, every agent's output passes through it): its CPU and RSS
 * are then that process's alone, and the benchmark's own work (reading the CLI's stdout) neither
 * counts as the relay's nor competes with it on one event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxFixture } from '../sandbox/types.ts';
import { NODE, REPO_ROOT } from '../helpers/capture.ts';

export interface SandboxProcess {
  readonly child: ChildProcess;
  readonly kubeconfig: string;
  /** The sandbox process: the exec relay. */
  readonly pid: number;
  /** "namespace/pod" -> the pod's named network namespace. */
  readonly netns: Record<string, string>;
  /** Settles once the sandbox process says it stopped (or exited without saying so). */
  readonly stopped: Promise<{ ok: boolean; error?: string }>;
}

/** Starts the sandbox of `fixture` (written to `work`/fixture.json) in its own process. */
export async function startSandboxProcess(fixture: SandboxFixture, work: string): Promise<SandboxProcess> {
  const fixtureFile = join(work, 'fixture.json');
  writeFileSync(fixtureFile, JSON.stringify(fixture));
  const child = spawn(NODE, [join(REPO_ROOT, 'test/bench/soak-sandbox.ts'), fixtureFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  type Ready = { kubeconfig: string; pid: number; netns: Record<string, string> };
  let ready: (v: Ready) => void = () => {};
  let stoppedWith: (v: { ok: boolean; error?: string }) => void = () => {};
  const readyP = new Promise<Ready>((r) => (ready = r));
  const stopped = new Promise<{ ok: boolean; error?: string }>((r) => (stoppedWith = r));
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    if (line.startsWith('SOAK-SANDBOX ')) ready(JSON.parse(line.slice('SOAK-SANDBOX '.length)) as Ready);
    else if (line.startsWith('SOAK-SANDBOX-STOPPED ')) stoppedWith(JSON.parse(line.slice('SOAK-SANDBOX-STOPPED '.length)) as { ok: boolean; error?: string });
    else process.stdout.write(`  sandbox: ${line}\n`);
  });
  child.on('exit', (code) => stoppedWith({ ok: false, error: `the sandbox process exited (${code}) before it said it stopped` }));
  const started = await Promise.race([
    readyP,
    new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`the sandbox process exited (${code}) while starting`)))),
    sleep(300_000).then(() => {
      throw new Error('the sandbox did not start within 5 minutes');
    }),
  ]);
  return { child, ...started, stopped };
}

/** Stops it (end of its stdin), waiting up to 2 minutes, then SIGKILL; what its stop said. */
export async function stopSandboxProcess(sb: SandboxProcess): Promise<{ ok: boolean; error?: string }> {
  sb.child.stdin!.end();
  const stopped = await Promise.race([sb.stopped, sleep(120_000).then(() => ({ ok: false, error: 'the sandbox did not stop within 2 minutes' }))]);
  if (sb.child.exitCode === null) sb.child.kill('SIGKILL');
  return stopped;
}

/** The named network namespace of a pod of the sandbox. */
export function podNetnsOf(sb: SandboxProcess, namespace: string, pod: string): string {
  const name = sb.netns[`${namespace}/${pod}`];
  if (name === undefined) throw new Error(`no pod ${namespace}/${pod} in the sandbox`);
  return name;
}
