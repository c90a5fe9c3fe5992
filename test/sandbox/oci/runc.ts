/**
 * Containers run by runc the way containerd's shim runs a kubelet's: `runc run --keep` in the
 * foreground from a bundle (config.json from spec.ts, an overlay root filesystem), its stdio the
 * container's; `runc exec` for exec; `runc delete` and the clean-up of mounts, bundle and cgroup
 * folders on destroy. A private `--root` keeps our containers apart from anyone else's runc, and
 * every id, bundle and cgroup is named `ks-<pid>-...` so the next run sweeps what a killed one left.
 */
import { PassThrough, type Readable } from 'node:stream';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { alive } from '../../helpers/netns.ts';
import { hasCommand } from '../../helpers/requirements.ts';
import {
  cgroupFoldersWithPrefix,
  existingFolders,
  memorySwapAccounted,
  oomKillsOf,
  recordMadeFolders,
  removeContainerFolders,
  sweepStaleFolders,
} from './cgroups.ts';
import { bundleLayout, isMountPoint, lookPathInRoot, mountOverlay, mountPoints, unmount, type BundleLayout } from './rootfs.ts';
import { ociSpec, type OciProcess } from './spec.ts';
import type { ContainerConfig, ContainerExit, ExecOptions, RuncContainerApi, RuntimeLeftovers } from './types.ts';

const RUNC_ROOT = '/run/kubectl-shark-sandbox/runc';

/** runc's state folder for our containers (its --root), apart from any other runc user's. */
export function runcRoot(): string {
  return RUNC_ROOT;
}

function runcArgs(...args: string[]): string[] {
  return ['--root', RUNC_ROOT, ...args];
}

let reason: string | null | undefined;

/** null when runc containers can run here; else why not (to print when skipping). */
export function runtimeReason(): string | null {
  reason ??= probe();
  return reason;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `runc containers need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'runc containers need root';
  for (const tool of ['runc', 'mount', 'umount', 'script']) {
    if (!hasCommand(tool)) return `${tool} is not installed${tool === 'script' ? ' (util-linux: tty exec needs it)' : ''}`;
  }
  const version = spawnSync('runc', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return `runc does not run: ${(version.stderr || version.error?.message || '').trim()}`;
  let filesystems = '';
  try {
    filesystems = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* checked below */
  }
  if (!/\toverlay$/m.test(filesystems)) {
    spawnSync('modprobe', ['overlay'], { stdio: 'ignore' });
    if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return 'the kernel has no overlayfs (not in /proc/filesystems, modprobe overlay failed)';
  }
  return null;
}

interface RuncListEntry {
  readonly id: string;
  readonly pid: number;
  readonly status: string;
  readonly bundle: string;
}

function runcList(): RuncListEntry[] {
  const r = spawnSync('runc', runcArgs('list', '--format', 'json'), { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout.trim() === '' || r.stdout.trim() === 'null') return [];
  try {
    return JSON.parse(r.stdout) as RuncListEntry[];
  } catch {
    return [];
  }
}

/** What runc wrote to its --log (JSON lines) at level error: its own words for why it failed. */
function runcErrors(logFile: string): string {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
  const messages: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) messages.push(entry.msg);
    } catch {
      messages.push(line.trim());
    }
  }
  return messages.join('; ');
}

function signalOf(exitCode: number): NodeJS.Signals | null {
  if (exitCode <= 128) return null;
  const n = exitCode - 128;
  const entry = Object.entries(constants.signals).find(([, v]) => v === n);
  return entry === undefined ? null : (entry[0] as NodeJS.Signals);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs runc to completion; resolves with its status and stderr (never rejects). */
function runc(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('runc', runcArgs(...args), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 64 * 1024) stderr += s;
    });
    child.on('error', (err) => resolve({ code: null, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** A word of a shell command line, safe whatever it holds (`script -c` runs its command with a shell). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

const PID_WAIT_MS = 20_000;

let execCounter = 0;

class RuncContainer implements RuncContainerApi {
  readonly id: string;
  readonly pid: number;
  readonly rootfs: string;
  readonly child: ChildProcess;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<ContainerExit>;
  readonly #layout: BundleLayout;
  readonly #config: ContainerConfig;
  readonly #process: OciProcess;
  #destroyed: Promise<void> | undefined;
  #ended = false;

  /** Resolves when `runc run` has ended and the OOM count is read (before the cgroups can go). */
  readonly #ran: Promise<unknown>;

  constructor(
    id: string,
    pid: number,
    layout: BundleLayout,
    config: ContainerConfig,
    process: OciProcess,
    child: ChildProcess,
    output: { stdout: Readable; stderr: Readable },
    ran: Promise<unknown>,
    exited: Promise<ContainerExit>,
  ) {
    this.id = id;
    this.pid = pid;
    this.rootfs = layout.rootfs;
    this.child = child;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
    this.#layout = layout;
    this.#config = config;
    this.#process = process;
    this.exited = exited;
    this.#ran = ran;
    void ran.then(() => {
      this.#ended = true;
    });
  }

  resolve(cmd: string, path: string, cwd: string): string | undefined {
    return lookPathInRoot(this.rootfs, cmd, path, cwd);
  }

  /**
   * Signals sent to the returned process (SIGTERM, SIGINT, ...) are passed on by runc to the exec'd
   * process; a SIGKILL ends runc only, the exec'd process runs on until destroy().
   */
  exec(o: ExecOptions): ChildProcess {
    if (this.#destroyed !== undefined) throw new Error(`cannot exec in container ${this.id}: it is being destroyed`);
    // A process.json of our own: exactly this env and cwd, with the container's user, capabilities
    // and no_new_privs (runc applies the container's seccomp profile and cgroups to it anyway).
    execCounter += 1;
    const file = join(this.#layout.dir, `exec-${process.pid}-${execCounter}.json`);
    const spec: OciProcess = {
      ...this.#process,
      terminal: o.tty,
      args: [...o.args],
      env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
      cwd: o.cwd,
    };
    writeFileSync(file, JSON.stringify(spec));
    const stdio = [o.stdin ? 'pipe' : 'ignore', o.stdout ? 'pipe' : 'ignore', o.stderr ? 'pipe' : 'ignore'] as const;
    const args = runcArgs('exec', '--process', file, this.id);
    let child: ChildProcess;
    if (o.tty) {
      // runc exec with a terminal wants a controlling terminal on its stdin: util-linux `script`
      // gives it one (a host pty) and copies between the pty and our pipes. -e: its exit code.
      const line = ['runc', ...args].map(shellQuote).join(' ');
      child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: [...stdio], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SHELL: '/bin/sh', TERM: o.env['TERM'] ?? 'xterm' } });
    } else {
      child = spawn('runc', args, { stdio: [...stdio] });
    }
    const forget = (): void => {
      try {
        unlinkSync(file);
      } catch {
        /* the bundle is gone already */
      }
    };
    child.once('exit', forget);
    child.once('error', forget);
    return child;
  }

  async kill(signal: NodeJS.Signals, all = false): Promise<void> {
    const r = await runc(['kill', ...(all ? ['--all'] : []), this.id, signal]);
    if (r.code !== 0 && !this.#ended) throw new Error(`runc kill ${this.id} ${signal} failed: ${r.stderr.trim()}`);
  }

  destroy(graceMs: number): Promise<void> {
    this.#destroyed ??= this.#destroy(graceMs);
    return this.#destroyed;
  }

  async #destroy(graceMs: number): Promise<void> {
    const ended = this.#ran.then(() => true);
    if (!this.#ended) {
      await runc(['kill', this.id, 'SIGTERM']);
      if (!(await Promise.race([ended, sleep(graceMs).then(() => false)]))) {
        await runc(['kill', '--all', this.id, 'SIGKILL']);
        await Promise.race([ended, sleep(5000)]);
      }
    }
    const problems = await cleanUp(this.id, this.#layout, this.#config.cgroupsPath);
    if (!this.#ended) this.child.kill('SIGKILL');
    if (problems.length > 0) throw new Error(`container ${this.id} left: ${problems.join('; ')}`);
  }
}

/** runc delete, unmount, the bundle, the cgroup folders: what a container leaves. Returns what stayed. */
async function cleanUp(id: string, layout: BundleLayout, cgroupsPath: string): Promise<string[]> {
  const problems: string[] = [];
  const del = await runc(['delete', '--force', id]);
  if (del.code !== 0 && !/does not exist|not found/i.test(del.stderr)) problems.push(`runc delete: ${del.stderr.trim()}`);
  if (!unmount(layout.rootfs)) problems.push(`${layout.rootfs} is still mounted`);
  else rmSync(layout.dir, { recursive: true, force: true });
  problems.push(...removeContainerFolders(cgroupsPath));
  return problems;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

/** runc's id rule, and a cgroupsPath that stays under runc's cgroup (relative, no '.' or '..'). */
function checkNames(id: string, cgroupsPath: string): void {
  if (!ID.test(id)) throw new Error(`cannot start container ${JSON.stringify(id)}: an id is letters, digits, '_', '.' and '-' (runc's rule)`);
  const parts = cgroupsPath.split('/');
  if (cgroupsPath.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\n'))) {
    throw new Error(`cannot start container ${id}: cgroupsPath ${JSON.stringify(cgroupsPath)} must be relative (under runc's own cgroup), without '.', '..' or empty parts`);
  }
}

/**
 * Starts one container: writes the bundle (config.json, the overlay root filesystem) and runs
 * `runc run --keep` in the foreground. Resolves once runc has created it (its init's pid known);
 * rejects with runc's own error text when it cannot start (executable not found, bad mount, ...),
 * after removing what the attempt made.
 */
export async function startContainer(o: { id: string; bundleDir: string; config: ContainerConfig }): Promise<RuncContainerApi> {
  const why = runtimeReason();
  if (why !== null) throw new Error(`cannot run containers here: ${why}`);
  const { id, config } = o;
  checkNames(id, config.cgroupsPath);
  // Checked before anything is made: the clean-up of a failed start deletes by id.
  if (existsSync(join(RUNC_ROOT, id))) throw new Error(`cannot start container ${id}: runc has one of that id already (runc --root ${RUNC_ROOT} list)`);
  const layout = bundleLayout(o.bundleDir);
  if (isMountPoint(layout.rootfs)) throw new Error(`cannot start container ${id}: ${layout.rootfs} is mounted already (another container's bundle?)`);
  mkdirSync(layout.dir, { recursive: true });
  mkdirSync(RUNC_ROOT, { recursive: true, mode: 0o700 });
  const spec = ociSpec(config, { memorySwap: config.memoryLimitBytes !== undefined && memorySwapAccounted() });
  const before = existingFolders(config.cgroupsPath);
  try {
    mountOverlay(config.image.rootfs, layout);
    writeFileSync(layout.config, JSON.stringify(spec, null, 2));
  } catch (err) {
    unmount(layout.rootfs);
    rmSync(layout.dir, { recursive: true, force: true });
    throw err;
  }
  const logFile = join(layout.dir, 'runc.log');
  const pidFile = join(layout.dir, 'init.pid');
  // Own process group: a Ctrl-C meant for the sandbox's terminal must not reach runc, which would
  // pass it on to the container before the kubelet stops it gracefully.
  const child = spawn('runc', ['--log', logFile, '--log-format', 'json', ...runcArgs('run', '--keep', '--pid-file', pidFile, '--bundle', layout.dir, id)], {
    stdio: [config.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Held from the first byte: Node drains a child's pipes nobody reads when it exits, and a
  // container that prints and ends at once has its runc gone before the caller attaches.
  const output = { stdout: child.stdout!.pipe(new PassThrough()), stderr: child.stderr!.pipe(new PassThrough()) };
  const runEnded = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  let pid = 0;
  const deadline = Date.now() + PID_WAIT_MS;
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void runEnded.then((e) => {
    ended = e;
  });
  while (pid === 0) {
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim()) || 0;
    } catch {
      /* not yet written */
    }
    if (pid !== 0) break;
    if (ended !== undefined || Date.now() > deadline) {
      const text = runcErrors(logFile) || spawnError?.message || (ended === undefined ? `runc did not start ${id} within ${PID_WAIT_MS} ms` : `runc run exited (${ended.code ?? ended.signal}) before the container was created`);
      if (ended === undefined) child.kill('SIGKILL');
      recordMadeFolders(config.cgroupsPath, before);
      await cleanUp(id, layout, config.cgroupsPath);
      throw new Error(text);
    }
    await sleep(5);
  }
  recordMadeFolders(config.cgroupsPath, before);

  // --keep: the container and its cgroups stay until `runc delete` (checked on runc 1.1.5: the leaf
  // groups in every hierarchy are still there after `runc run` returns), so the OOM count can be
  // read before destroy() deletes them; destroy waits for this.
  const ran = runEnded.then((e) => ({ e, oomKilled: oomKillsOf(config.cgroupsPath) > 0 }));
  const exited = (async (): Promise<ContainerExit> => {
    const { e, oomKilled } = await ran;
    // The output pipes close when the last writer (init, or what it left running) is gone; the
    // exit is what counts, the tail of the output gets a moment.
    await Promise.race([new Promise((resolve) => child.once('close', resolve)), sleep(300)]);
    const exitCode = e.code ?? 128 + (e.signal === null ? 9 : (constants.signals[e.signal] ?? 9));
    return { exitCode, signal: signalOf(exitCode), oomKilled };
  })();
  return new RuncContainer(id, pid, layout, config, spec.process, child, output, ran, exited);
}

/** What our runc, cgroups and mounts hold under these names and this folder (tests: all empty). */
export function runtimeLeftovers(idPrefix: string, bundleBase: string): RuntimeLeftovers {
  const base = bundleBase.replace(/\/+$/, '');
  return {
    containers: runcList()
      .map((c) => c.id)
      .filter((cid) => cid.startsWith(idPrefix)),
    cgroups: cgroupFoldersWithPrefix(idPrefix),
    mounts: mountPoints().filter((m) => m === base || m.startsWith(`${base}/`)),
  };
}

/** The pid in a `ks-<pid>-...` name when that process is gone, else undefined. */
function deadOwner(name: string): number | undefined {
  const m = /(?:^|\/)ks-(\d+)-[^/]*/.exec(name);
  if (!m) return undefined;
  const pid = Number(m[1]);
  return alive(pid) ? undefined : pid;
}

/**
 * Removes what killed runs left: their runc containers (killed, deleted), root filesystem mounts,
 * bundles, and cgroup folders in every hierarchy. Names carry the owner's pid: only those of
 * processes that no longer exist are touched.
 */
export function sweepStaleContainers(): void {
  if (runtimeReason() !== null) return;
  const removed: string[] = [];
  for (const c of runcList()) {
    if (deadOwner(c.id) === undefined) continue;
    spawnSync('runc', runcArgs('delete', '--force', c.id), { stdio: 'ignore' });
    const layout = bundleLayout(c.bundle);
    if (unmount(layout.rootfs) && existsSync(layout.config)) rmSync(layout.dir, { recursive: true, force: true });
    removed.push(c.id);
  }
  // Root filesystems of containers runc never got to know (the owner died while starting one).
  for (const m of mountPoints()) {
    if (!m.endsWith('/rootfs') || deadOwner(m) === undefined) continue;
    const layout = bundleLayout(dirname(m));
    if (unmount(m) && existsSync(layout.config)) rmSync(layout.dir, { recursive: true, force: true });
    removed.push(m);
  }
  removed.push(...sweepStaleFolders());
  if (removed.length > 0) process.stderr.write(`removed containers of killed runs: ${removed.join(' ')}\n`);
}

