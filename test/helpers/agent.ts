/**
 * Running the bundled capture agent (dist/agent) in a network namespace, as `kubectl exec` would in
 * a pod: `node agent.js capture ...` from a copy of the bundle in an empty folder (proving it needs
 * nothing else), with its NDJSON stdout parsed into frames (docs/agent-protocol.md) and its stdin
 * open for control frames.
 */
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Entry } from '../../src/model/entry.ts';
import { LineSplitter } from '../../src/model/line-splitter.ts';
import { isHttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { entriesOf, type EntryOf, type ProtocolName } from './entries-of.ts';
import {
  maxFrameLineBytes,
  parseAgentLine,
  type AgentFrame,
  type ByeFrame,
  type ControlFrame,
  type FilterAppliedFrame,
  type HelloFrame,
  type NoticeFrame,
  type StatsFrame,
} from '../../src/remote-agent/wire/protocol.ts';
import { NODE, REPO_ROOT } from './capture.ts';
import { argvInCgroup, type MemoryCgroup } from './memory-cgroup.ts';
import { run, type Netns, type Scope } from './netns.ts';

export const AGENT_DIST = join(REPO_ROOT, 'dist/agent');

/**
 * Copies dist/agent into a fresh empty temp folder and returns its path. Throws when the bundle is
 * missing or when the copy holds a symlink that leads outside it (the folder is uploaded as is).
 * With a scope, the folder is removed on close; without one, the caller removes it.
 */
export function prepareAgentDir(scope?: Scope): string {
  if (!existsSync(join(AGENT_DIST, 'agent.js'))) {
    throw new Error(`${AGENT_DIST}/agent.js is missing: run npm run build`);
  }
  const dir = mkdtempSync(join(tmpdir(), `ks-agent-${process.pid}-`));
  scope?.defer(() => rmSync(dir, { recursive: true, force: true }));
  // verbatimSymlinks: a link is copied as written, so one pointing back into dist/ is caught below.
  cpSync(AGENT_DIST, dir, { recursive: true, verbatimSymlinks: true });
  const escaping = linksLeaving(dir);
  if (escaping.length > 0) {
    throw new Error(`the agent bundle has symlinks leading outside it: ${escaping.join(', ')}`);
  }
  return dir;
}

/** Symlinks under `dir` whose target is not inside `dir` (or does not exist). */
export function linksLeaving(dir: string): string[] {
  const root = realpathSync(dir);
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const p = join(at, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(p);
        const abs = isAbsolute(target) ? target : resolve(dirname(p), target);
        let real: string;
        try {
          real = realpathSync(abs);
        } catch {
          out.push(`${relative(dir, p)} -> ${target} (dangling)`);
          continue;
        }
        const rel = relative(root, real);
        if (rel.startsWith('..') || isAbsolute(rel)) out.push(`${relative(dir, p)} -> ${target}`);
      } else if (st.isDirectory()) {
        walk(p);
      }
    }
  };
  walk(dir);
  return out;
}

export interface AgentExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the process exited. */
  readonly atMs: number;
}

export interface StartAgentOptions {
  /** The folder prepared by prepareAgentDir(): the agent's working directory. */
  readonly dir: string;
  /** Kills the agent on close if it is still running. */
  readonly scope: Scope;
  /** Keep every stdout byte, for searching the raw stream (rawStdout()). */
  readonly keepRaw?: boolean;
  /** Drop body texts of entry frames once parsed: bounds the test's memory under heavy load. */
  readonly dropBodies?: boolean;
  /** Run the agent inside this memory cgroup (as a pod's ephemeral container would be). */
  readonly cgroup?: MemoryCgroup;
  /** The node executable to run it with (default NODE): e.g. a copy of its own, as in the pod's image. */
  readonly node?: string;
}

type Waiter = () => void;

export class AgentProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  readonly frames: AgentFrame[] = [];
  /** Date.now() when each frame of `frames` was read. */
  readonly frameTimes: number[] = [];
  /** Lines that were not frames of a known type. */
  readonly strayLines: string[] = [];
  /** Resolves when the process has exited (stdout may still hold unread frames). */
  readonly exited: Promise<AgentExit>;
  /** Resolves after the exit once stdout and stderr are closed: every frame has been read. */
  readonly closed: Promise<AgentExit>;
  #exit: AgentExit | null = null;
  #closed = false;
  readonly #keepRaw: boolean;
  readonly #dropBodies: boolean;
  readonly #raw: Buffer[] = [];
  /** The one bounded line splitter, bounded as the CLI bounds agent output (16 MiB --max-body at most in tests). */
  readonly #lines = new LineSplitter(maxFrameLineBytes(16 * 1024 * 1024), {
    line: (line) => this.#onLine(line),
    overlong: (bytes) => this.#stray(`(${bytes} bytes without a newline)`),
  });
  #linesSeen = false;
  #stderr = '';
  #stdoutBytes = 0;
  readonly #waiters = new Set<Waiter>();
  /** Why this agent fails every test that uses it: it met a bug (null: none seen). */
  internalError: string | null = null;

  constructor(child: ChildProcess, args: readonly string[], options: StartAgentOptions) {
    this.child = child;
    this.args = args;
    this.#keepRaw = options.keepRaw ?? false;
    this.#dropBodies = options.dropBodies ?? false;
    child.stdout!.on('data', (chunk: Buffer) => this.#onStdout(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < 256 * 1024) this.#stderr += chunk.toString('utf8');
    });
    // Writing to an agent that is gone must not crash the test process.
    child.stdin!.on('error', () => {});
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal, atMs: Date.now() };
        this.#wake();
        resolveExit(this.#exit);
      });
    });
    this.closed = new Promise((resolveClosed) => {
      child.once('close', (code, signal) => {
        this.#closed = true;
        const exit = this.#exit ?? { code, signal, atMs: Date.now() };
        this.#exit = exit;
        this.#wake();
        resolveClosed(exit);
      });
    });
  }

  /** The agent's pid in the root namespace: `ip netns exec` execs node, so it is the child's. */
  get pid(): number {
    return this.child.pid!;
  }

  get exit(): AgentExit | null {
    return this.#exit;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get stdoutBytes(): number {
    return this.#stdoutBytes;
  }

  /** Every byte the agent wrote on stdout (only with keepRaw). */
  rawStdout(): Buffer {
    if (!this.#keepRaw) throw new Error('rawStdout() needs startAgent(..., { keepRaw: true })');
    return Buffer.concat(this.#raw);
  }

  /**
   * Waits for the hello frame, then checks that the pid we hold is the agent's node process
   * (/proc/<pid>/cmdline runs agent.js) and the pid the agent reports.
   */
  async ready(timeoutMs = 15_000): Promise<HelloFrame> {
    const hello = await this.waitFor((f): f is HelloFrame => f.type === 'hello', timeoutMs, 'the hello frame');
    const cmdline = readFileSync(`/proc/${this.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // The agent may re-exec itself (same pid) with V8 flags and an absolute path to agent.js.
    if (!cmdline.some((a) => a === 'agent.js' || a.endsWith('/agent.js')) || !/node$/.test(cmdline[0] ?? '')) {
      throw new Error(`pid ${this.pid} is not the agent's node process: ${cmdline.join(' ')}`);
    }
    if (hello.pid !== this.pid) throw new Error(`hello.pid ${hello.pid} is not the spawned pid ${this.pid}`);
    return hello;
  }

  /**
   * Resolves once `check()` returns a value other than undefined; it is re-run after every batch
   * of frames and when the agent exits. Rejects after `timeoutMs`, or when the agent has exited
   * and all its output was read without the condition becoming true.
   */
  waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolveWait, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = () => {
        let value: T | undefined;
        try {
          if (this.internalError !== null) throw new Error(`while waiting for ${what}: ${this.internalError}`);
          value = check();
        } catch (err) {
          finish();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (value !== undefined) {
          finish();
          resolveWait(value);
        } else if (this.#closed) {
          finish();
          reject(new Error(`the agent exited (${this.#describeExit()}) before ${what}${this.#context()}`));
        }
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.#context()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      waiter();
    });
  }

  /** The first frame at index >= `from` that matches. */
  waitFor<T extends AgentFrame>(match: (f: AgentFrame) => f is T, timeoutMs: number, what: string, from?: number): Promise<T>;
  waitFor(match: (f: AgentFrame) => boolean, timeoutMs: number, what: string, from?: number): Promise<AgentFrame>;
  waitFor(match: (f: AgentFrame) => boolean, timeoutMs: number, what: string, from = 0): Promise<AgentFrame> {
    let scanned = from;
    return this.waitUntil(
      () => {
        for (; scanned < this.frames.length; scanned++) {
          const f = this.frames[scanned]!;
          if (match(f)) return f;
        }
        return undefined;
      },
      timeoutMs,
      what,
    );
  }

  /** The entries of one protocol (HTTP unless named) in entry frames from frame `from` on. */
  entries<N extends ProtocolName = 'http'>(from = 0, protocol: N = 'http' as N): EntryOf<N>[] {
    return entriesOf(this.allEntries(from), protocol);
  }

  /** The entries of every protocol of the entry frames from frame `from` on. */
  allEntries(from = 0): Entry[] {
    const out: Entry[] = [];
    for (let i = from; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.type === 'entry') out.push(f.entry);
    }
    return out;
  }

  stats(from = 0): StatsFrame[] {
    return this.frames.slice(from).filter((f): f is StatsFrame => f.type === 'stats');
  }

  lastStats(): StatsFrame | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.type === 'stats') return f;
    }
    return undefined;
  }

  notices(code?: string): NoticeFrame[] {
    return this.frames.filter((f): f is NoticeFrame => (f.type === 'warning' || f.type === 'error') && (code === undefined || f.code === code));
  }

  hellos(): HelloFrame[] {
    return this.frames.filter((f): f is HelloFrame => f.type === 'hello');
  }

  bye(): ByeFrame | undefined {
    return this.frames.find((f): f is ByeFrame => f.type === 'bye');
  }

  filterAcks(): FilterAppliedFrame[] {
    return this.frames.filter((f): f is FilterAppliedFrame => f.type === 'filter');
  }

  sendControl(frame: ControlFrame | Record<string, unknown>): void {
    this.sendLine(JSON.stringify(frame));
  }

  sendLine(text: string): void {
    this.child.stdin!.write(`${text}\n`);
  }

  closeStdin(): void {
    this.child.stdin!.end();
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Stops taking stdout: the pipe fills up and the agent's writes queue. */
  pauseReading(): void {
    this.child.stdout!.pause();
  }

  resumeReading(): void {
    this.child.stdout!.resume();
  }

  /** Resident memory of the agent now, bytes (null once it is gone). */
  rssBytes(): number | null {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : null;
    } catch {
      return null;
    }
  }

  /** Waits for the exit; kills the agent (SIGKILL) and rejects when it takes longer than `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<AgentExit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new Error(`the agent did not exit within ${timeoutMs} ms${this.#context()}`));
      }, timeoutMs);
    });
    let exit: AgentExit;
    try {
      exit = await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
    if (this.internalError !== null) throw new Error(this.internalError);
    return exit;
  }

  /** Sends {"type":"stop"} and waits until every frame is read; returns the exit and how long it took. */
  async stop(timeoutMs = 5000): Promise<AgentExit & { latencyMs: number }> {
    const askedMs = Date.now();
    if (this.#exit === null) this.sendControl({ type: 'stop' });
    const exit = await this.waitExit(timeoutMs);
    await this.closed;
    // The final stats frame may be read after the exit.
    if (this.internalError !== null) throw new Error(this.internalError);
    return { ...exit, latencyMs: exit.atMs - askedMs };
  }

  /** SIGKILL when still running; resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.#exit !== null) return;
    this.child.kill('SIGKILL');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
  }

  /** One line about what the agent said, for failure messages and diagnostics. */
  summary(): string {
    const counts = new Map<string, number>();
    for (const f of this.frames) counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
    return [...counts].map(([k, v]) => `${k}=${v}`).join(' ');
  }

  #onStdout(chunk: Buffer): void {
    this.#stdoutBytes += chunk.length;
    if (this.#keepRaw) this.#raw.push(chunk);
    this.#linesSeen = false;
    this.#lines.push(chunk);
    if (this.#linesSeen) this.#wake();
  }

  #onLine(line: string): void {
    this.#linesSeen = true;
    const frame = parseAgentLine(line);
    if (frame === null) {
      this.#stray(line);
      return;
    }
    if (this.#dropBodies && frame.type === 'entry') dropBodies(frame.entry);
    this.#noteInternalError(frame);
    this.frames.push(frame);
    this.frameTimes.push(Date.now());
  }

  #stray(line: string): void {
    this.#linesSeen = true;
    if (this.strayLines.length < 100) this.strayLines.push(line.slice(0, 500));
  }

  /**
   * Tests fail on any internal error of the agent: the first one seen makes every wait reject.
   * A stats frame without the counter is an agent that does not count them: that fails too.
   */
  #noteInternalError(frame: AgentFrame): void {
    if (this.internalError !== null) return;
    if (frame.type === 'warning' && frame.code === 'INTERNAL_ERROR') this.internalError = `agent warning: ${frame.message}`;
    else if (frame.type === 'stats' && frame.internalErrors !== 0) this.internalError = `agent stats frame: internalErrors = ${String(frame.internalErrors)}`;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #describeExit(): string {
    const e = this.#exit;
    return e === null ? 'running' : `code ${e.code ?? '-'}, signal ${e.signal ?? '-'}`;
  }

  #context(): string {
    const notices = this.notices().map((n) => `${n.type} ${n.code}: ${n.message}`);
    const parts = [`; frames: ${this.summary() || 'none'}`];
    if (notices.length > 0) parts.push(`; notices: ${notices.slice(-5).join(' | ')}`);
    if (this.#stderr.trim() !== '') parts.push(`; stderr: ${this.#stderr.trim().slice(-2000)}`);
    return parts.join('');
  }
}

function dropBodies(entry: Entry): void {
  if (!isHttpEntry(entry)) return;
  if (entry.request.postData) entry.request.postData.text = '';
  if (entry.response) entry.response.content.text = '';
}

/**
 * Starts `ip netns exec NS node agent.js capture ...args` in the prepared folder, stdin, stdout and
 * stderr piped. Await `ready()` for the hello frame.
 */
export function startAgent(ns: Netns, args: readonly string[], options: StartAgentOptions): AgentProcess {
  const argv = ['agent.js', 'capture', ...args];
  let child: ChildProcess;
  const node = options.node ?? NODE;
  if (options.cgroup === undefined) {
    child = ns.spawn(node, argv, { cwd: options.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  } else {
    // The cgroup is joined before `ip netns exec`, which hides /sys/fs/cgroup behind a fresh sysfs.
    const [ipCmd, ipArgs] = ns.wrap(node, argv);
    const full = argvInCgroup(options.cgroup.procsFile, [ipCmd, ...ipArgs]);
    child = spawn(full[0]!, full.slice(1), { cwd: options.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  }
  const agent = new AgentProcess(child, args, options);
  options.scope.defer(() => agent.kill());
  return agent;
}

/** Pids `ip netns pids` lists for the namespace. */
export async function netnsPids(ns: Netns): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns.name]);
  return r.stdout.toString('utf8').split(/\s+/).filter(Boolean).map(Number);
}

/** True while /proc/<pid> exists. */
export function procExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/**
 * The agent yields the CPU to everything else (nice 19, agent-yield.test.ts); where clients,
 * servers, tcpdump and the test's reader keep both cores busy, a starved agent sheds entries as
 * designed (agent-backpressure.test.ts). Tests about dissection (and `npm run bench --
 * --normal-priority`) give it normal priority back (root may lower a nice value), as
 * agent-capture.test.ts does.
 */
export function normalPriority(pid: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), 0);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
