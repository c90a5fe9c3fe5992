/**
 * Real memory cgroups for tests and the sandbox's pods: a limit the kernel enforces (its OOM killer
 * picks a victim inside the group when the limit is hit), the usage the kubelet reports, and the OOM
 * kills counted. cgroup v1 (the `memory` hierarchy) and v2 (a unified hierarchy whose parent can
 * delegate the `memory` controller) are both handled; a machine with neither says why.
 *
 * Groups are made under this process's own memory cgroup (so whoever accounts for this process keeps
 * accounting for them), named `ks-<pid>-<n>-<tag>` like the network namespaces of ./netns.ts, so
 * leftovers of a killed run are swept by the next one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, uniqueName } from './netns.ts';

export type CgroupVersion = 1 | 2;

export interface MemoryHierarchy {
  readonly version: CgroupVersion;
  /** Our own cgroup's folder: new groups are made under it. */
  readonly parentDir: string;
}

interface MountPoint {
  readonly root: string;
  readonly mountPoint: string;
}

/** The mount of the v1 memory hierarchy, or of cgroup2, from /proc/self/mountinfo. */
function findMount(version: CgroupVersion): MountPoint | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>"
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (version === 1 && fstype === 'cgroup' && superOptions.split(',').includes('memory')) return { root, mountPoint };
    if (version === 2 && fstype === 'cgroup2') return { root, mountPoint };
  }
  return null;
}

/** This process's cgroup path in the v1 memory hierarchy ("memory" in the controller list) or in v2 ("0::"). */
function ownPath(version: CgroupVersion): string | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (version === 1 && m[2]!.split(',').includes('memory')) return m[3]!;
    if (version === 2 && m[1] === '0' && m[2] === '') return m[3]!;
  }
  return null;
}

function dirOf(mount: MountPoint, path: string): string {
  const inside = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return join(mount.mountPoint, inside);
}

let probed: MemoryHierarchy | string | undefined;
let swept = false;

/** Where memory cgroups can be made here, or why not (a string: the reason to print when skipping). */
export function memoryHierarchy(): MemoryHierarchy | string {
  probed ??= probe();
  return probed;
}

function probe(): MemoryHierarchy | string {
  if (process.platform !== 'linux') return `memory cgroups need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'making memory cgroups needs root';
  const v1 = findMount(1);
  const v1Path = ownPath(1);
  if (v1 && v1Path !== null) {
    const dir = dirOf(v1, v1Path);
    if (existsSync(join(dir, 'memory.limit_in_bytes'))) return { version: 1, parentDir: dir };
  }
  const v2 = findMount(2);
  const v2Path = ownPath(2);
  if (v2 && v2Path !== null) {
    const dir = dirOf(v2, v2Path);
    const controllers = readText(join(dir, 'cgroup.controllers')) ?? '';
    if (!controllers.split(/\s+/).includes('memory')) {
      return `the cgroup2 hierarchy at ${v2.mountPoint} does not offer the memory controller here (${dir}: "${controllers.trim()}"), and there is no cgroup v1 memory hierarchy`;
    }
    try {
      // Children only get memory.max when their parent delegates the controller. cgroup v2 refuses
      // that while the parent holds processes itself (the "no internal processes" rule).
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory');
    } catch (err) {
      return `cannot delegate the memory controller below ${dir}: ${(err as Error).message}`;
    }
    return { version: 2, parentDir: dir };
  }
  return 'no memory cgroup hierarchy is mounted (neither cgroup v1 "memory" nor cgroup2)';
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function readNumber(file: string): number {
  const text = readText(file);
  if (text === null) throw new Error(`cannot read ${file}`);
  const t = text.trim();
  // v2 writes "max" for no limit.
  return t === 'max' ? Infinity : Number(t);
}

/** "key value" lines (memory.stat, memory.events, v1 memory.oom_control) as a map. */
function readKeyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One memory cgroup folder. */
export class MemoryCgroup {
  readonly dir: string;
  readonly version: CgroupVersion;
  readonly #children: MemoryCgroup[] = [];
  #destroyed = false;

  private constructor(dir: string, version: CgroupVersion) {
    this.dir = dir;
    this.version = version;
  }

  /**
   * A new group `ks-<pid>-<n>-<tag>` under our own cgroup (throws when the machine has none: see
   * memoryHierarchy()). The first one of a process sweeps the leftovers of killed runs.
   */
  static create(tag: string): MemoryCgroup {
    const h = memoryHierarchy();
    if (typeof h === 'string') throw new Error(`no memory cgroups here: ${h}`);
    if (!swept) {
      swept = true;
      const removed = sweepStaleCgroups();
      if (removed.length > 0) process.stderr.write(`removed memory cgroups of killed test runs: ${removed.join(' ')}\n`);
    }
    const safe = tag.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
    const group = new MemoryCgroup(join(h.parentDir, uniqueName(`-${safe}`)), h.version);
    mkdirSync(group.dir);
    return group;
  }

  /** A group inside this one (a container in a pod): its usage counts against this one's limit. */
  child(name: string): MemoryCgroup {
    const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
    if (this.version === 2) {
      // A v2 group may hold processes or delegate controllers, not both: ours hold none themselves.
      writeFileSync(join(this.dir, 'cgroup.subtree_control'), '+memory');
    }
    const c = new MemoryCgroup(join(this.dir, safe), this.version);
    mkdirSync(c.dir);
    this.#children.push(c);
    return c;
  }

  /**
   * A group inside this one that someone else made and removes (a runc container's): read only
   * here, never destroyed by this handle.
   */
  existingChild(name: string): MemoryCgroup {
    return new MemoryCgroup(join(this.dir, name), this.version);
  }

  /** The hard limit (v1 memory.limit_in_bytes, v2 memory.max); Infinity removes it. */
  setLimit(bytes: number): void {
    if (this.version === 1) writeFileSync(join(this.dir, 'memory.limit_in_bytes'), Number.isFinite(bytes) ? String(Math.floor(bytes)) : '-1');
    else writeFileSync(join(this.dir, 'memory.max'), Number.isFinite(bytes) ? String(Math.floor(bytes)) : 'max');
  }

  limitBytes(): number {
    const n = readNumber(join(this.dir, this.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'));
    // v1 reports "no limit" as a huge page-rounded number.
    return n >= 2 ** 62 ? Infinity : n;
  }

  /** The file a process joins by writing its pid to it. */
  get procsFile(): string {
    return join(this.dir, 'cgroup.procs');
  }

  /** Moves a running process (and no other) into this group. */
  join(pid: number): void {
    writeFileSync(this.procsFile, String(pid));
  }

  /** Charged memory, this group and its children (v1 memory.usage_in_bytes, v2 memory.current). */
  usageBytes(): number {
    return readNumber(join(this.dir, this.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'));
  }

  /**
   * What the kubelet reports as the working set (and the metrics API as usage): usage minus the
   * inactive file cache, which the kernel can take back without killing anything.
   */
  workingSetBytes(): number {
    const stat = readKeyed(join(this.dir, 'memory.stat'));
    const inactiveFile = (this.version === 1 ? stat.get('total_inactive_file') : stat.get('inactive_file')) ?? 0;
    return Math.max(0, this.usageBytes() - inactiveFile);
  }

  /**
   * Processes the kernel's OOM killer killed in this group and its children. v2's memory.events
   * counts the whole subtree; v1's memory.oom_control counts only the victims that were in that
   * very group, so v1 sums the tree.
   */
  oomKills(): number {
    if (this.version === 2) return readKeyed(join(this.dir, 'memory.events')).get('oom_kill') ?? 0;
    const count = (dir: string): number => (readKeyed(join(dir, 'memory.oom_control')).get('oom_kill') ?? 0) + subdirsOf(dir).reduce((n, d) => n + count(d), 0);
    return count(this.dir);
  }

  /** Times the usage hit the limit (v1 memory.failcnt, v2 memory.events "max"). */
  limitHits(): number {
    if (this.version === 1) return readNumber(join(this.dir, 'memory.failcnt'));
    return readKeyed(join(this.dir, 'memory.events')).get('max') ?? 0;
  }

  /** Pids in this group and its children. */
  pids(): number[] {
    const own = (readText(this.procsFile) ?? '').split(/\s+/).filter(Boolean).map(Number);
    return [...own, ...this.#subdirs().flatMap((d) => pidsUnder(d))];
  }

  #subdirs(): string[] {
    return subdirsOf(this.dir);
  }

  /**
   * Kills what still runs in the group (SIGKILL) and removes it with its children. A group cannot
   * be removed while a process is in it, and a killed process leaves it a moment later: retried
   * for up to `waitMs`. Never throws; returns what could not be removed.
   */
  destroy(waitMs = 3000): string[] {
    if (this.#destroyed) return [];
    this.#destroyed = true;
    return removeTree(this.dir, waitMs);
  }
}

function subdirsOf(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) => join(dir, n)).filter((p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  });
}

function pidsUnder(dir: string): number[] {
  const own = (readText(join(dir, 'cgroup.procs')) ?? '').split(/\s+/).filter(Boolean).map(Number);
  return [...own, ...subdirsOf(dir).flatMap((d) => pidsUnder(d))];
}

/** Removes a cgroup folder tree, deepest first, killing what runs in it. */
export function removeTree(dir: string, waitMs: number): string[] {
  const deadline = Date.now() + waitMs;
  for (const pid of pidsUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const left: string[] = [];
  const remove = (d: string): void => {
    for (const sub of subdirsOf(d)) remove(sub);
    for (;;) {
      try {
        rmdirSync(d);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || Date.now() > deadline) {
          left.push(`${d} (${code})`);
          return;
        }
        sleepSync(20);
      }
    }
  };
  remove(dir);
  return left;
}

/** Removes groups `ks-<pid>-...` under our own cgroup whose process is gone (a killed run's). */
export function sweepStaleCgroups(): string[] {
  const h = memoryHierarchy();
  if (typeof h === 'string') return [];
  const removed: string[] = [];
  for (const dir of subdirsOf(h.parentDir)) {
    const m = /\/ks-(\d+)-[^/]*$/.exec(dir);
    if (!m || alive(Number(m[1]))) continue;
    if (removeTree(dir, 1000).length === 0) removed.push(dir);
  }
  return removed;
}

/**
 * The argv that runs `argv` inside the group: a shell joins it (`echo $$ > cgroup.procs`) and then
 * execs the command, so the command's every allocation is charged to the group and its pid stays
 * the one spawn() returned.
 */
export function argvInCgroup(procsFile: string, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', procsFile, ...argv];
}
