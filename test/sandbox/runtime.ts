/**
 * The "container runtime": images known to the sandbox, container processes started in a pod's
 * network namespace (`ip netns exec`), and their captured output for `logs` and `attach`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { delimiter, join } from 'node:path';
import { argvInCgroup } from '../helpers/memory-cgroup.ts';

let ipPath: string | undefined;

/** The `ip` executable itself: container PATHs do not contain /usr/sbin. */
export function ipBinary(): string {
  if (ipPath === undefined) {
    const r = spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' });
    ipPath = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : '/usr/sbin/ip';
  }
  return ipPath;
}

/** `busybox:1.36` -> `docker.io/library/busybox:1.36`, as the kubelet reports images. */
export function fullImageRef(image: string): string {
  let ref = image.trim();
  const first = ref.split('/')[0]!;
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) ref = `docker.io/${ref.includes('/') ? ref : `library/${ref}`}`;
  const last = ref.split('/').pop()!;
  if (!last.includes(':') && !ref.includes('@')) ref += ':latest';
  return ref;
}

export const DEFAULT_IMAGES = ['node:24-slim', 'node:22-slim', 'busybox:1.36', 'nicolaka/netshoot'];

export function imageID(image: string): string {
  const ref = fullImageRef(image);
  const repo = ref.replace(/[:@][^/]*$/, '');
  return `${repo}@sha256:${createHash('sha256').update(ref).digest('hex')}`;
}

export function newContainerID(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

/** What the image would run without a command (its entrypoint on this machine). */
export function defaultEntrypoint(image: string): string[] {
  const repo = fullImageRef(image).split('/').pop()!.split(/[:@]/)[0];
  return repo === 'node' ? ['node'] : ['sh'];
}

/** The executable `cmd` resolves to with `PATH`, or undefined (exec's "executable file not found"). */
export function resolveExecutable(cmd: string, path: string, cwd: string): string | undefined {
  const candidates = cmd.includes('/') ? [cmd.startsWith('/') ? cmd : join(cwd, cmd)] : path.split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}

/** A bounded buffer of a container's output (the last `max` bytes), with followers for `logs -f`. */
export class LogBuffer extends EventEmitter<{ data: [Buffer]; end: [] }> {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #size = 0;
  ended = false;

  constructor(max = 1024 * 1024) {
    super();
    this.#max = max;
  }

  append(b: Buffer): void {
    this.#chunks.push(b);
    this.#size += b.length;
    while (this.#size > this.#max && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const over = this.#size - this.#max;
      if (first.length <= over) {
        this.#chunks.shift();
        this.#size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(over);
        this.#size -= over;
      }
    }
    this.emit('data', b);
  }

  end(): void {
    this.ended = true;
    this.emit('end');
  }

  contents(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

export interface ProcessSpec {
  netns: string;
  /** Run first inside the namespace: sets the container's identity and capabilities (security.ts setprivPrefix). */
  wrap?: readonly string[];
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdin: boolean;
  /** The container's memory cgroup (its cgroup.procs): the process joins it before it runs. */
  cgroupProcs?: string | undefined;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The exit code a container runtime reports: the code, or 128+signal number. */
export function exitCodeOf(e: ExitInfo): number {
  if (e.code !== null) return e.code;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return 128 + (e.signal ? (signals[e.signal] ?? 0) : 0);
}

/** Starts `argv` inside the namespace in its own process group (so the whole tree can be signalled). */
export function spawnIn(spec: ProcessSpec, stdio: { stdout: boolean; stderr: boolean }): ChildProcess {
  const inNetns = [ipBinary(), 'netns', 'exec', spec.netns, ...(spec.wrap ?? []), ...spec.argv];
  // The cgroup is joined before `ip netns exec`, which mounts a fresh sysfs without /sys/fs/cgroup.
  const argv = spec.cgroupProcs === undefined ? inNetns : argvInCgroup(spec.cgroupProcs, inNetns);
  return spawn(argv[0]!, argv.slice(1), {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: [spec.stdin ? 'pipe' : 'ignore', stdio.stdout ? 'pipe' : 'ignore', stdio.stderr ? 'pipe' : 'ignore'],
  });
}

export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM the process group, SIGKILL after `graceMs`; resolves when the child has exited. */
export function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone; members of its group may still run.
    signalGroup(child, 'SIGKILL');
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      signalGroup(child, 'SIGKILL');
      resolve();
    });
    signalGroup(child, 'SIGTERM');
  });
}

/** One running container: its main process, output captured and fanned out to attached clients. */
export class ContainerProcess extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer]; closed: [ExitInfo] }> {
  readonly child: ChildProcess;
  readonly logs: LogBuffer;
  readonly startedAt: string;
  exit: ExitInfo | undefined;
  readonly closed: Promise<ExitInfo>;

  constructor(spec: ProcessSpec, logs: LogBuffer, startedAt: string) {
    super();
    this.logs = logs;
    this.startedAt = startedAt;
    this.child = spawnIn(spec, { stdout: true, stderr: true });
    this.child.stdin?.on('error', () => {
      /* the process stopped reading: nothing to tell anyone */
    });
    this.child.stdout!.on('data', (b: Buffer) => {
      logs.append(b);
      this.emit('stdout', b);
    });
    this.child.stderr!.on('data', (b: Buffer) => {
      logs.append(b);
      this.emit('stderr', b);
    });
    this.closed = new Promise((resolve) => {
      this.child.on('error', (err) => {
        logs.append(Buffer.from(`${err.message}\n`));
      });
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        logs.end();
        this.emit('closed', this.exit);
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }
}
