/**
 * Network namespaces for end-to-end tests: create namespaces and veth pairs, run commands inside,
 * and tear everything down again (also after a failure). Names carry the test process's pid so
 * runs in parallel, or leftovers of a killed run, cannot collide.
 *
 * Needs root and a working `ip netns`; `requireNetns()` says why not when they are missing, so the
 * tests can skip with that reason.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { hasCommand } from './requirements.ts';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

let counter = 0;

/** A name unique to this process (pid) and this call (counter): `ks-<pid>-<n><suffix>`. */
export function uniqueName(suffix = ''): string {
  counter += 1;
  return `ks-${process.pid}-${counter}${suffix}`;
}

let python: string | undefined;

/**
 * The python3 interpreter itself: version-manager shims (pyenv) take seconds per start, so the
 * real executable is resolved once and used directly.
 */
export function python3(): string {
  if (python === undefined) {
    const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    python = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : 'python3';
  }
  return python;
}

let probed: string | null | undefined;

/** null when namespaces can be used here, else the reason to print when skipping. */
export function requireNetns(tools: readonly string[] = ['tcpdump', 'curl', 'python3']): string | null {
  if (probed === undefined) probed = probe();
  if (probed !== null) return probed;
  for (const tool of tools) {
    if (!hasCommand(tool)) return `${tool} is not installed`;
  }
  return null;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'network namespaces need root';
  if (!hasCommand('ip')) return '`ip` (iproute2) is not installed';
  const name = uniqueName('-probe');
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) return `\`ip netns add\` does not work here: ${(add.stderr || add.error?.message || '').trim()}`;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  return null;
}

/** Runs a command to completion (no shell); rejects only when it cannot be started. */
export function run(cmd: string, args: readonly string[], options: SpawnOptions & { input?: Buffer | string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const { input, ...spawnOptions } = options;
    const child = spawn(cmd, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function runOk(cmd: string, args: readonly string[], options: SpawnOptions = {}): Promise<ExecResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${result.code ?? result.signal}): ${result.stderr.trim()}`);
  }
  return result;
}

export class Netns {
  readonly name: string;
  #deleted = false;
  readonly #children = new Set<ChildProcess>();

  constructor(name: string) {
    this.name = name;
  }

  /** Arguments that run `cmd args` inside this namespace. */
  wrap(cmd: string, args: readonly string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, cmd, ...args]];
  }

  exec(cmd: string, args: readonly string[], options: SpawnOptions & { input?: Buffer | string } = {}): Promise<ExecResult> {
    const [c, a] = this.wrap(cmd, args);
    return run(c, a, options);
  }

  async execOk(cmd: string, args: readonly string[], options: SpawnOptions = {}): Promise<ExecResult> {
    const [c, a] = this.wrap(cmd, args);
    return runOk(c, a, options);
  }

  /** A long-running process inside the namespace; killed by `destroy()` if still running. */
  spawn(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const [c, a] = this.wrap(cmd, args);
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  ip(args: readonly string[]): Promise<ExecResult> {
    return runOk('ip', ['-n', this.name, ...args]);
  }

  /** Kills what we started inside and deletes the namespace (its interfaces go with it). */
  async destroy(): Promise<void> {
    for (const child of this.#children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2000))]);
      }
    }
    this.#children.clear();
    if (this.#deleted) return;
    this.#deleted = true;
    // Processes still in the namespace (started by someone else) would keep it alive: kill them by pid.
    const pids = await run('ip', ['netns', 'pids', this.name]);
    for (const pid of pids.stdout.toString('utf8').split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await run('ip', ['netns', 'del', this.name]);
  }
}

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let swept = false;

/**
 * Deletes namespaces (and root-namespace veth ends) left by earlier test processes that were killed
 * before their clean-up ran: their names carry a pid that no longer exists.
 */
export async function sweepStale(): Promise<string[]> {
  const removed: string[] = [];
  const list = await run('ip', ['netns', 'list']);
  for (const line of list.stdout.toString('utf8').split('\n')) {
    const m = /^(ks-(\d+)-\S+)/.exec(line.trim());
    if (!m || alive(Number(m[2]))) continue;
    await new Netns(m[1]!).destroy();
    removed.push(m[1]!);
  }
  const links = await run('ip', ['-o', 'link', 'show']);
  for (const line of links.stdout.toString('utf8').split('\n')) {
    const m = /^\d+: (ks[ab](\d+)x\d+)[@:]/.exec(line);
    if (!m || alive(Number(m[2]))) continue;
    await run('ip', ['link', 'del', m[1]!]);
    removed.push(m[1]!);
  }
  return removed;
}

export async function createNetns(tag: string): Promise<Netns> {
  if (!swept) {
    swept = true;
    const removed = await sweepStale();
    if (removed.length > 0) process.stderr.write(`removed leftovers of killed test runs: ${removed.join(' ')}\n`);
  }
  const ns = new Netns(uniqueName(`-${tag}`));
  try {
    await runOk('ip', ['netns', 'add', ns.name]);
    await ns.ip(['link', 'set', 'lo', 'up']);
    // IPv6 would add router solicitations and neighbour discovery to the captures: not needed.
    await ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    await ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
  } catch (err) {
    // A step failed (its `ip` killed by a Ctrl-C, say) maybe after the namespace was made.
    await ns.destroy();
    throw err;
  }
  return ns;
}

/** A veth pair with one end in each namespace (interface names are local to each namespace). */
export async function addVeth(a: Netns, ifA: string, b: Netns, ifB: string, mtu = 1500): Promise<void> {
  // Create in the root namespace under unique names, then move: avoids clashes with leftovers.
  // ks[ab]<pid>x<n>: at most 15 characters for pids up to 2^22 and n < 10000.
  counter += 1;
  const tmpA = `ksa${process.pid}x${counter}`;
  const tmpB = `ksb${process.pid}x${counter}`;
  await runOk('ip', ['link', 'add', tmpA, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', tmpB, 'mtu', String(mtu)]);
  try {
    await runOk('ip', ['link', 'set', tmpA, 'netns', a.name, 'name', ifA]);
    await runOk('ip', ['link', 'set', tmpB, 'netns', b.name, 'name', ifB]);
  } catch (err) {
    await run('ip', ['link', 'del', tmpA]);
    throw err;
  }
  await a.ip(['link', 'set', ifA, 'up']);
  await b.ip(['link', 'set', ifB, 'up']);
}

export async function addAddress(ns: Netns, iface: string, cidr: string): Promise<void> {
  await ns.ip(['addr', 'add', cidr, 'dev', iface]);
}

/**
 * Namespaces created through `scope.netns()` are destroyed by `scope.close()`, in reverse order;
 * other clean-up steps can be added with `scope.defer()`. Close never throws.
 */
export class Scope {
  readonly #cleanups: (() => Promise<void> | void)[] = [];

  async netns(tag: string): Promise<Netns> {
    const ns = await createNetns(tag);
    this.#cleanups.push(() => ns.destroy());
    return ns;
  }

  defer(fn: () => Promise<void> | void): void {
    this.#cleanups.push(fn);
  }

  async close(): Promise<void> {
    while (this.#cleanups.length > 0) {
      const fn = this.#cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`cleanup failed: ${String(err)}\n`);
      }
    }
  }
}

/** Waits until a TCP port accepts connections inside the namespace (polls with bash's /dev/tcp). */
export async function waitForPort(ns: Netns, host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ns.exec('bash', ['-c', `exec 3<>/dev/tcp/${host}/${port}`]);
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} in ${ns.name}: ${r.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
