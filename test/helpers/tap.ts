/**
 * Running the real `tap` CLI (dist/cmd/main.js, as the launcher would) against a sandbox cluster,
 * reading its NDJSON as it comes, and checking that no agent is left in any pod afterwards.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Entry } from '../../src/model/entry.ts';
import { LineSplitter } from '../../src/model/line-splitter.ts';
import { entriesOf, type EntryOf, type ProtocolName } from './entries-of.ts';
import type { Sandbox } from '../sandbox/index.ts';
import { NODE, REPO_ROOT } from './capture.ts';

export const MAIN = join(REPO_ROOT, 'dist', 'cmd', 'main.js');

/** A client-node CoreV1Api on the sandbox's admin kubeconfig: what tests read pods with. */
export function coreApiOf(sandbox: Sandbox): k8s.CoreV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sandbox.kubeconfig);
  return kc.makeApiClient(k8s.CoreV1Api);
}

/** Every pod of the sandbox as [namespace, name]: where assertNoAgents looks. */
export async function allPods(core: k8s.CoreV1Api): Promise<Array<[string, string]>> {
  return (await core.listPodForAllNamespaces()).items.map((p) => [p.metadata!.namespace!, p.metadata!.name!]);
}

/**
 * The node flags bin/kubectl-shark starts the CLI with (its `exec "$runtime" FLAGS "$main" "$@"`
 * line): a test that runs MAIN with node directly, to add flags of its own or to know the CLI's pid
 * before it starts, passes these so the CLI runs as a user's does (its heap sized the same).
 */
export function nodeFlagsOfLauncher(script: string): string[] {
  const m = /^exec "\$runtime"((?: +--[a-z0-9-]+(?:=[^\s"]+)?)*) +"\$main" "\$@"$/m.exec(script);
  if (m === null) throw new Error('the launcher has no line `exec "$runtime" [--flags] "$main" "$@"`');
  return m[1]!.split(' ').filter((a) => a !== '');
}

export const LAUNCHER_NODE_FLAGS: readonly string[] = nodeFlagsOfLauncher(readFileSync(join(REPO_ROOT, 'bin', 'kubectl-shark'), 'utf8'));

/** null when the built CLI and agent exist, else the reason to skip. */
export function requireBuild(): string | null {
  if (!existsSync(MAIN)) return 'dist/cmd/main.js is missing: run npm run build';
  if (!existsSync(join(REPO_ROOT, 'dist', 'agent', 'agent.js'))) return 'dist/agent/agent.js is missing: run npm run build';
  return null;
}

export interface TapLine {
  readonly at: number;
  readonly value: Entry & { type?: string; namespace?: string; pod?: string };
}

export interface TapResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class TapProcess {
  readonly child: ChildProcess;
  readonly lines: TapLine[] = [];
  stderr = '';
  readonly startedAt = Date.now();
  readonly exited: Promise<TapResult>;
  #stdout = '';
  /** The one bounded line splitter; --dry-run prints text, so only JSON lines are kept. */
  readonly #lines = new LineSplitter(256 * 1024 * 1024, {
    line: (line) => {
      if (line.startsWith('{')) this.lines.push({ at: Date.now(), value: JSON.parse(line) });
    },
    overlong: (bytes) => {
      throw new Error(`tap wrote a line of ${bytes} bytes`);
    },
  });
  readonly #waiters = new Set<() => void>();

  constructor(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
    this.child = spawn(NODE, [MAIN, 'tap', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.child.stdout!.on('data', (b: Buffer) => {
      this.#stdout += b.toString('utf8');
      this.#lines.push(b);
      this.#wake();
    });
    this.child.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        clearTimeout(kill);
        this.#wake();
        resolve({ code, signal, stdout: this.#stdout, stderr: this.stderr });
      });
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Entries of one protocol (HTTP unless named) so far (stats lines excluded). */
  entries<N extends ProtocolName = 'http'>(protocol: N = 'http' as N): EntryOf<N>[] {
    return entriesOf(this.allEntries(), protocol);
  }

  /** Entries of every protocol so far (stats lines excluded). */
  allEntries(): Entry[] {
    return this.lines.filter((l) => l.value.type === undefined).map((l) => l.value);
  }

  /** Waits until `check` holds (re-checked on every output), or fails with what was seen. */
  async until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.entries().length} entries; stderr:\n${this.stderr}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(new Error(`tap exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}; stderr:\n${this.stderr}`));
        }
      };
      this.#waiters.add(waiter);
    });
  }

  async interrupt(): Promise<TapResult> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}

export function tapEnv(kubeconfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
  delete env.KUBERNETES_SERVICE_HOST;
  return env;
}

export function startTap(sandbox: Sandbox | string, args: readonly string[], timeoutMs = 90_000): TapProcess {
  const kubeconfig = typeof sandbox === 'string' ? sandbox : sandbox.kubeconfig;
  return new TapProcess(args, tapEnv(kubeconfig), timeoutMs);
}

/** Runs tap to its end. */
export function runTap(sandbox: Sandbox | string, args: readonly string[], timeoutMs = 90_000): Promise<TapResult> {
  return startTap(sandbox, args, timeoutMs).exited;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Command lines of agent processes (`node ... agent.js capture`, not the shell around one) in the pods right now. */
export function agentsIn(sandbox: Sandbox, pods: ReadonlyArray<readonly [string, string]>): string[] {
  const found: string[] = [];
  for (const [ns, name] of pods) {
    let pids: number[];
    try {
      pids = sandbox.processesIn(ns, name);
    } catch {
      continue; // pod gone
    }
    for (const pid of pids) {
      const line = cmdline(pid);
      if (/^\S*node .*agent\.js capture/.test(line)) found.push(`${ns}/${name} pid ${pid}: ${line}`);
    }
  }
  return found;
}

/** Every agent is gone from every pod (polls briefly: the agent exits within 1 s of stdin EOF). */
export async function assertNoAgents(sandbox: Sandbox, pods: ReadonlyArray<readonly [string, string]>, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let left = agentsIn(sandbox, pods);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = agentsIn(sandbox, pods);
  }
  assert.deepEqual(left, [], 'no agent may remain in any pod');
}
