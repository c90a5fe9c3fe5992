/**
 * Finds what to hook: the processes the agent can see in /proc that share its network namespace
 * (the tapped pod), and in each its TLS library: a mapped libssl.so.3 / libssl.so.1.1, or
 * crypto/tls inside a Go executable. Files are opened through /proc/PID/root (the target
 * container's filesystem) and planned once per inode (`<st_dev>:<st_ino>`), since a uprobe is
 * placed on a file, not on a process.
 *
 * The caller rescans about every second; a scan costs one /proc listing, and the full look (maps,
 * ELF headers) only for new processes and due rechecks. Libraries and
 * executables are inspected once per inode, so 500 processes of a few images cost little. A process
 * without TLS is looked at again with a growing delay (1 s .. 32 s), because Python and others
 * load libssl only when a module asks for it; a new report is returned when its outcome changes.
 *
 * Each container root seen (dev:ino of /proc/PID/root) is also searched once for the libssl files
 * it can load (root-libraries.ts), planned ahead of use: a client that starts and ends between two
 * scans maps a file already probed.
 */
import { readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { sanitizeLine } from '../../../model/terminal-text.ts';
import type { TlsLibrary } from '../events.ts';
import { ElfError, openElfFile, type Elf } from '../elf.ts';
import type { LibraryHookPlan, ProcessHookReport, UprobeSpec } from '../hooks.ts';
import { GO_READ, GO_WRITE, inspectGoBinary, type GoInspection } from './go-binary.ts';
import { LIBCRYPTO_NAME, LIBSSL_NAME, OPENSSL_FUNCTIONS, inspectLibssl, openSslVersion, versionFromSoname } from './openssl-library.ts';
import { baseName, parseMaps, readBounded, type FileMapping } from './proc-files.ts';
import { rootLibssls } from './root-libraries.ts';

export interface TargetScanOptions {
  /** Where proc is mounted (tests may point elsewhere); its `self` is the agent. */
  readonly procRoot?: string;
  /** Milliseconds, for the recheck delays (tests pass a fake clock). */
  readonly now?: () => number;
}

export interface TargetScan {
  /** Plans for library files not planned before (attach each once). */
  readonly plans: readonly LibraryHookPlan[];
  /** Reports for processes seen for the first time, or whose outcome changed. */
  readonly reports: readonly ProcessHookReport[];
  /** Processes in scope now (the agent left out). */
  readonly inScope: number;
  /** Processes whose maps were read in this scan (new ones and due rechecks). */
  readonly examined: number;
}

export const NO_LIBSSL_REASON = 'no libssl mapped (statically linked TLS is not hooked)';
/** The start of the report of a libssl file hooked before any process maps it, through a process of its container. */
export const AHEAD_OF_USE = 'hooked ahead of use in this container (for processes that load it later):';

/** A maps file larger than this is cut (a process with ~50k mappings): libraries come first in practice. */
const MAX_MAPS_BYTES = 4 * 1024 * 1024;
const FIRST_RECHECK_MS = 1000;
/** Container roots searched for libssl files per scan (each reads its ld.so.cache and stats a few files); the rest wait a scan. */
const MAX_ROOTS_PER_SCAN = 4;

/**
 * A root filesystem of processes in scope (a container), by the dev:ino of /proc/PID/root: its
 * libssl files are planned ahead of use once, through one of its processes.
 */
interface RootState {
  /** The process it is seen through (any of its processes; replaced when that one exits). */
  pid: number;
  /** Its libssl files are still to be looked at (first seen, or a plan of it was forgotten). */
  due: boolean;
  /** The plan keys found in it. */
  readonly keys: Set<string>;
}
const LAST_RECHECK_MS = 32_000;

/**
 * What is known of a pid. A pid that leaves the listing is forgotten, so a reused pid is new again
 * unless the kernel handed it out twice between two scans, which takes pid_max (4M) forks in a
 * second: not checked (reading /proc/PID/stat of every process each second was most of a scan).
 */
interface ProcessState {
  reason: string;
  /** The plan it was hooked through, if any. */
  planKey: string | null;
  /** null: the outcome cannot change (hooked, out of scope, a kernel thread, a final reason). */
  recheckAt: number | null;
  delay: number;
}

/** What a file (by inode) gives, cached: a plan, or why not. */
type FileOutcome =
  | { readonly kind: 'plan'; readonly plan: LibraryHookPlan; readonly reason: string }
  | { readonly kind: 'not-hooked'; readonly library: TlsLibrary; readonly reason: string }
  | { readonly kind: 'not-go' };

interface Examination {
  readonly report: ProcessHookReport | null;
  readonly plan: LibraryHookPlan | null;
  /** Look again later (nothing found yet that cannot change). */
  readonly recheck: boolean;
}

/** The scanner keeps what it has seen between scans; one per agent. */
export class TargetScanner {
  readonly #proc: string;
  readonly #now: () => number;
  readonly #processes = new Map<number, ProcessState>();
  readonly #files = new Map<string, FileOutcome>();
  readonly #versions = new Map<string, string | null>();
  readonly #planned = new Set<string>();
  readonly #roots = new Map<string, RootState>();
  #self: { pid: number; netns: string } | null = null;
  #previous: Promise<unknown> = Promise.resolve();

  constructor(options: TargetScanOptions = {}) {
    this.#proc = options.procRoot ?? '/proc';
    this.#now = options.now ?? Date.now;
  }

  /** Scans; a call made while one runs waits for it (the state is shared), so plans are never given twice. */
  scanTargets(): Promise<TargetScan> {
    const run = this.#previous.then(() => this.#scan());
    this.#previous = run.catch(() => undefined);
    return run;
  }

  async #scan(): Promise<TargetScan> {
    const self = this.#selfInfo();
    const now = this.#now();
    const plans: LibraryHookPlan[] = [];
    const reports: ProcessHookReport[] = [];
    const present = new Set<number>();
    let inScope = 0;
    let examined = 0;
    for (const name of readdirSync(this.#proc)) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      if (pid === self.pid) continue;
      present.add(pid);
      const state = this.#processes.get(pid);
      if (state === undefined) {
        if (this.#netns(pid) !== self.netns) {
          this.#processes.set(pid, { reason: '', planKey: null, recheckAt: null, delay: 0 });
          continue;
        }
      } else {
        if (state.reason === '') continue; // out of scope, or a kernel thread
        inScope++;
        if (state.recheckAt === null || now < state.recheckAt) continue;
      }
      examined++;
      const result = await this.#examine(pid);
      if (result === null) continue; // exited while we looked
      if (result.report === null) {
        this.#processes.set(pid, { reason: '', planKey: null, recheckAt: null, delay: 0 });
        continue;
      }
      if (state === undefined) {
        inScope++;
        this.#noteRoot(pid);
      }
      if (result.plan !== null && !this.#planned.has(result.plan.key)) {
        this.#planned.add(result.plan.key);
        plans.push(result.plan);
      }
      const delay = state === undefined ? FIRST_RECHECK_MS : Math.min(state.delay * 2, LAST_RECHECK_MS);
      if (state === undefined || state.reason !== result.report.reason) reports.push(result.report);
      this.#processes.set(pid, { reason: result.report.reason, planKey: result.report.planKey, recheckAt: result.recheck ? now + delay : null, delay });
    }
    for (const pid of this.#processes.keys()) if (!present.has(pid)) this.#processes.delete(pid);
    this.#planRoots(present, plans, reports);
    return { plans, reports, inScope, examined };
  }

  /**
   * Plan `key` again at the next scan (its attach failed, e.g. the process whose /proc/PID/root
   * path the plan named exited first): the processes hooked through it are looked at again, and
   * the next one still running gives a new plan with its own path.
   */
  forgetPlan(key: string): void {
    this.#planned.delete(key);
    this.#files.delete(key);
    for (const root of this.#roots.values()) if (root.keys.delete(key)) root.due = true;
    for (const state of this.#processes.values()) {
      if (state.planKey === key) {
        state.recheckAt = 0;
        state.planKey = null;
        // Reported again only if the outcome differs.
      }
    }
  }

  /** One process: its report and plan, or null when it exited meanwhile. */
  async #examine(pid: number): Promise<Examination | null> {
    const dir = `${this.#proc}/${pid}`;
    let maps: FileMapping[];
    let comm: string;
    try {
      maps = parseMaps(readBounded(`${dir}/maps`, MAX_MAPS_BYTES).toString('utf8'));
      comm = readBounded(`${dir}/comm`, 64).toString('utf8').replace(/\n$/, '');
    } catch (err) {
      if (gone(err)) return null;
      return { report: report(pid, '', null, null, `cannot read ${dir}/maps (${errCode(err)}): not hooked`), plan: null, recheck: false };
    }
    // Kernel threads and zombies map nothing: not a program to hook.
    if (maps.length === 0) return { report: null, plan: null, recheck: false };

    const go = await this.#goOutcome(pid);
    if (go.kind === 'plan') return { report: report(pid, comm, 'go', go.plan.key, go.reason), plan: go.plan, recheck: false };
    const ssl = maps.find((m) => m.executable && LIBSSL_NAME.test(baseName(m.path)));
    if (ssl !== undefined) {
      const outcome = this.#openSslOutcome(pid, ssl, maps);
      if (outcome.kind === 'plan') return { report: report(pid, comm, 'openssl', outcome.plan.key, outcome.reason), plan: outcome.plan, recheck: false };
      if (outcome.kind === 'not-hooked' && go.kind !== 'not-hooked') return { report: report(pid, comm, 'openssl', null, outcome.reason), plan: null, recheck: false };
    }
    if (go.kind === 'not-hooked') return { report: report(pid, comm, 'go', null, go.reason), plan: null, recheck: false };
    return { report: report(pid, comm, null, null, NO_LIBSSL_REASON), plan: null, recheck: true };
  }

  /** The process's executable as a Go program: a plan, a reason, or not Go. */
  async #goOutcome(pid: number): Promise<FileOutcome> {
    const exe = `${this.#proc}/${pid}/exe`;
    let st: Stats;
    let link: string;
    try {
      st = statSync(exe);
      link = readlinkSync(exe);
    } catch {
      return { kind: 'not-go' }; // no executable to look at (exited, or not permitted): nothing Go to say
    }
    const key = fileKey(st);
    let outcome = this.#files.get(key);
    if (outcome === undefined) {
      outcome = await this.#inspectExecutable(pid, exe, link, st);
      this.#files.set(key, outcome);
    }
    return outcome;
  }

  async #inspectExecutable(pid: number, exe: string, link: string, st: Stats): Promise<FileOutcome> {
    let inspection: GoInspection;
    let elf: Elf | null = null;
    try {
      elf = openElfFile(exe);
      inspection = await inspectGoBinary(elf);
    } catch (err) {
      // Not ELF (a script's interpreter is the exe, so this is rare) or unreadable: not Go as far as we can tell.
      if (err instanceof ElfError) return { kind: 'not-go' };
      throw err;
    } finally {
      elf?.close();
    }
    if (inspection.kind === 'not-go') return inspection;
    if (!inspection.hookable) return { kind: 'not-hooked', library: 'go', reason: inspection.reason };
    const deleted = link.endsWith(' (deleted)');
    const path = `${this.#proc}/${pid}/root${link}`;
    if (deleted || !sameFile(path, st)) {
      return { kind: 'not-hooked', library: 'go', reason: `${inspection.version}: the executable was deleted or replaced on disk since the process started: restart it to capture its TLS` };
    }
    const probes: UprobeSpec[] = [];
    for (const f of inspection.functions) {
      const [entry, ret] = f.symbol === GO_WRITE ? (['go_write_entry', 'go_write_return'] as const) : (['go_read_entry', 'go_read_return'] as const);
      probes.push({ program: entry, path, fileOffset: f.entryOffset, retprobe: false, symbol: f.symbol });
      for (const at of f.returnOffsets) probes.push({ program: ret, path, fileOffset: at, retprobe: false, symbol: f.symbol });
    }
    const returns = inspection.functions.reduce((n, f) => n + f.returnOffsets.length, 0);
    return {
      kind: 'plan',
      plan: { key: fileKey(st), library: 'go', version: inspection.version, path, probes },
      reason: `${baseName(link)} (${inspection.version}): ${GO_WRITE}, ${GO_READ} (entries and ${returns} RET instructions)`,
    };
  }

  #openSslOutcome(pid: number, ssl: FileMapping, maps: readonly FileMapping[]): FileOutcome {
    const soname = baseName(ssl.path);
    const replaced = `${soname} was deleted or replaced on disk since the process mapped it (upgraded?): restart the process to capture its TLS`;
    if (ssl.deleted) return { kind: 'not-hooked', library: 'openssl', reason: replaced };
    const path = `${this.#proc}/${pid}/root${ssl.path}`;
    let st: Stats;
    try {
      st = statSync(path);
    } catch (err) {
      return { kind: 'not-hooked', library: 'openssl', reason: `${soname} cannot be opened through ${this.#proc}/${pid}/root (${errCode(err)}): not hooked` };
    }
    if (!this.#mapsThisFile(pid, ssl, st)) return { kind: 'not-hooked', library: 'openssl', reason: replaced };
    return this.#libsslOutcome(path, soname, st, () => this.#openSslVersion(pid, maps));
  }

  /** The plan for the libssl file at `path` (stat `st`), or why not; cached per inode. */
  #libsslOutcome(path: string, soname: string, st: Stats, version: () => string | null): FileOutcome {
    const key = fileKey(st);
    const cached = this.#files.get(key);
    if (cached !== undefined) return cached;
    let outcome: FileOutcome;
    let elf: Elf | null = null;
    try {
      elf = openElfFile(path);
      const found = inspectLibssl(elf, soname);
      if (!found.ok) {
        outcome = { kind: 'not-hooked', library: 'openssl', reason: found.reason };
      } else {
        const versionText = version() ?? versionFromSoname(soname);
        const probes: UprobeSpec[] = [];
        for (const f of OPENSSL_FUNCTIONS) {
          const fileOffset = found.offsets.get(f.symbol);
          if (fileOffset === undefined) continue;
          probes.push({ program: f.entry, path, fileOffset, retprobe: false, symbol: f.symbol });
          probes.push({ program: f.ret, path, fileOffset, retprobe: true, symbol: f.symbol });
        }
        outcome = {
          kind: 'plan',
          plan: { key, library: 'openssl', version: versionText, path, probes },
          reason: `${soname} (${versionText}): ${[...found.offsets.keys()].join(', ')}`,
        };
      }
    } catch (err) {
      if (!(err instanceof ElfError)) throw err;
      outcome = { kind: 'not-hooked', library: 'openssl', reason: `${soname} cannot be read: ${err.message}` };
    } finally {
      elf?.close();
    }
    this.#files.set(key, outcome);
    return outcome;
  }

  /**
   * Whether the file at the path is the one the process maps: map_files links to the mapped file
   * itself (readable with CAP_SYS_ADMIN, which a privileged agent has); without it, the inode in
   * maps is compared (the same on ext4 and overlayfs over one filesystem).
   */
  #mapsThisFile(pid: number, mapping: FileMapping, st: Stats): boolean {
    try {
      const mapped = statSync(`${this.#proc}/${pid}/map_files/${mapping.range}`);
      return mapped.dev === st.dev && mapped.ino === st.ino;
    } catch {
      return mapping.inode === st.ino;
    }
  }

  /** The version text of the libcrypto this process maps, cached per inode. */
  #openSslVersion(pid: number, maps: readonly FileMapping[]): string | null {
    const crypto = maps.find((m) => !m.deleted && LIBCRYPTO_NAME.test(baseName(m.path)));
    if (crypto === undefined) return null;
    return this.#libcryptoVersion(`${this.#proc}/${pid}/root${crypto.path}`);
  }

  /** The version text of the libcrypto at `path`, cached per inode; null when absent or without one. */
  #libcryptoVersion(path: string): string | null {
    let key: string;
    try {
      key = fileKey(statSync(path));
    } catch {
      return null;
    }
    if (this.#versions.has(key)) return this.#versions.get(key) ?? null;
    let version: string | null = null;
    let elf: Elf | null = null;
    try {
      elf = openElfFile(path);
      version = openSslVersion(elf);
    } catch (err) {
      if (!(err instanceof ElfError)) throw err;
    } finally {
      elf?.close();
    }
    this.#versions.set(key, version);
    return version;
  }

  /** Remembers the root filesystem of a process newly in scope; a root seen before is not looked at again. */
  #noteRoot(pid: number): void {
    let key: string;
    try {
      key = fileKey(statSync(`${this.#proc}/${pid}/root`));
    } catch {
      return; // exited, or its root is not ours to see
    }
    const root = this.#roots.get(key);
    if (root === undefined) this.#roots.set(key, { pid, due: true, keys: new Set() });
    else if (!this.#processes.has(root.pid)) root.pid = pid;
  }

  /**
   * Plans the libssl files of due roots ahead of use (a few roots per scan): a process that starts
   * and ends between two scans is then hooked all the same. A root whose process has exited is
   * forgotten (the next process seen in it brings it back).
   */
  #planRoots(present: ReadonlySet<number>, plans: LibraryHookPlan[], reports: ProcessHookReport[]): void {
    let looked = 0;
    for (const [rootKey, root] of this.#roots) {
      if (!present.has(root.pid)) {
        this.#roots.delete(rootKey);
        continue;
      }
      if (!root.due || looked >= MAX_ROOTS_PER_SCAN) continue;
      looked++;
      root.due = false;
      const rootDir = `${this.#proc}/${root.pid}/root`;
      for (const lib of rootLibssls(rootDir)) {
        const path = rootDir + lib.path;
        let st: Stats;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        const key = fileKey(st);
        root.keys.add(key);
        if (this.#planned.has(key)) continue;
        const dir = lib.path.slice(0, lib.path.lastIndexOf('/'));
        const crypto = lib.soname.replace(/^libssl/, 'libcrypto');
        const outcome = this.#libsslOutcome(path, lib.soname, st, () => this.#libcryptoVersion(`${rootDir}${dir}/${crypto}`));
        if (outcome.kind !== 'plan') continue; // not hookable: said when a process maps it
        this.#planned.add(key);
        plans.push(outcome.plan);
        const comm = this.#comm(root.pid);
        reports.push(report(root.pid, comm, 'openssl', key, `${AHEAD_OF_USE} ${lib.path}: ${outcome.reason}`));
      }
    }
  }

  #comm(pid: number): string {
    try {
      return readBounded(`${this.#proc}/${pid}/comm`, 64).toString('utf8').replace(/\n$/, '');
    } catch {
      return '';
    }
  }

  #selfInfo(): { pid: number; netns: string } {
    if (this.#self === null) {
      const pid = Number(readlinkSync(`${this.#proc}/self`));
      const netns = this.#netns(pid);
      if (netns === null) throw new Error(`cannot read the agent's own ${this.#proc}/self/ns/net`);
      this.#self = { pid, netns };
    }
    return this.#self;
  }

  /** The network namespace's identity (nsfs dev:ino), or null when the process is gone or hidden. */
  #netns(pid: number): string | null {
    try {
      return fileKey(statSync(`${this.#proc}/${pid}/ns/net`));
    } catch {
      return null;
    }
  }

}

/** Reasons quote names from the target's filesystem (an executable's name, a library's folder): escaped and cut here. */
const MAX_REASON_CHARS = 300;

function report(pid: number, comm: string, library: TlsLibrary | null, planKey: string | null, reason: string): ProcessHookReport {
  const safe = sanitizeLine(reason);
  return { pid, comm, library, hooked: planKey !== null, reason: safe.length > MAX_REASON_CHARS ? `${safe.slice(0, MAX_REASON_CHARS - 1)}…` : safe, planKey };
}

function fileKey(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function sameFile(path: string, st: Stats): boolean {
  try {
    const other = statSync(path);
    return other.dev === st.dev && other.ino === st.ino;
  } catch {
    return false;
  }
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** The process exited between two reads of its /proc directory. */
function gone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}
