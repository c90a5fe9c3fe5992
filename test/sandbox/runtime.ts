/**
 * The kubelet's side of a running container: image references as it reports them, the container's
 * captured output for `logs` and `attach`, and its main process (a runc container: see oci/).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ContainerExit, RuncContainerApi } from './oci/types.ts';

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

export function newContainerID(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
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

/** One running container: its runc container, output captured and fanned out to attached clients. */
export class ContainerProcess extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer]; closed: [ContainerExit] }> {
  readonly container: RuncContainerApi;
  readonly logs: LogBuffer;
  readonly startedAt: string;
  exit: ContainerExit | undefined;
  #destroying: Promise<void> | undefined;
  /** Resolves once the container's init ended and its output was read to the end. */
  readonly closed: Promise<ContainerExit>;

  constructor(container: RuncContainerApi, logs: LogBuffer, startedAt: string) {
    super();
    this.container = container;
    this.logs = logs;
    this.startedAt = startedAt;
    const child = container.child;
    child.stdin?.on('error', () => {
      /* the process stopped reading: nothing to tell anyone */
    });
    container.stdout.on('data', (b: Buffer) => {
      logs.append(b);
      this.emit('stdout', b);
    });
    container.stderr.on('data', (b: Buffer) => {
      logs.append(b);
      this.emit('stderr', b);
    });
    const outputDone = Promise.all([container.stdout, container.stderr].map((s) => new Promise<void>((resolve) => s.once('end', () => resolve()))));
    this.closed = container.exited.then(async (exit) => {
      // Its output ends with it, unless a process it left behind (in a shared PID namespace) still
      // holds the pipe: then what came in the second after is all there is.
      await Promise.race([outputDone, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      this.exit = exit;
      logs.end();
      this.emit('closed', exit);
      return exit;
    });
  }

  /** Stops and removes the container, once (the kubelet's teardown and its exit handler both ask). */
  destroy(graceMs: number): Promise<void> {
    this.#destroying ??= this.container.destroy(graceMs);
    return this.#destroying;
  }

  get child(): ChildProcess {
    return this.container.child;
  }

  get running(): boolean {
    return this.exit === undefined;
  }
}
