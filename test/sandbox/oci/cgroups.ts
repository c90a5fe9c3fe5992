/**
 * The cgroup folders runc makes for our containers. A RELATIVE linux.cgroupsPath puts the group
 * under runc's own cgroup in every hierarchy mounted (v1: one per controller plus name=systemd;
 * the v2 tree too on a hybrid machine), and `runc delete` removes only the leaf: the parents it made
 * are ours to remove. Also where the container's memory group keeps its OOM kill count.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../../helpers/netns.ts';
import { removeTree } from '../../helpers/memory-cgroup.ts';

export interface Hierarchy {
  readonly version: 1 | 2;
  /** v1: the controllers (`memory`, `cpu,cpuacct`, `name=systemd`); v2: empty. */
  readonly controllers: readonly string[];
  /** Our own (so runc's) cgroup folder in this hierarchy: relative cgroupsPaths start here. */
  readonly base: string;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

let cached: readonly Hierarchy[] | undefined;

/** Every mounted cgroup hierarchy with our cgroup's folder in it (mountinfo x /proc/self/cgroup). */
export function hierarchies(): readonly Hierarchy[] {
  if (cached !== undefined) return cached;
  const own = new Map<string, string>();
  for (const line of (readText('/proc/self/cgroup') ?? '').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1] === '0' && m[2] === '' ? '' : m[2]!, m[3]!);
  }
  const out: Hierarchy[] = [];
  for (const line of (readText('/proc/self/mountinfo') ?? '').split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    let key: string | undefined;
    if (fstype === 'cgroup2') key = '';
    else if (fstype === 'cgroup') {
      const options = superOptions.split(',');
      key = [...own.keys()].find((k) => k !== '' && k.split(',').every((c) => options.includes(c)));
    }
    if (key === undefined) continue;
    const path = own.get(key);
    if (path === undefined) continue;
    const inside = root !== '/' && path.startsWith(root) ? path.slice(root.length) : path;
    // join() keeps a trailing '/' (the root cgroup): strip it, names are cut after `${base}/`.
    const base = join(mountPoint, inside).replace(/(.)\/+$/, '$1');
    out.push({ version: fstype === 'cgroup2' ? 2 : 1, controllers: key === '' ? [] : key.split(','), base });
  }
  cached = out;
  return out;
}

/** The v1 memory hierarchy, else v2 (runc puts memory there only when no v1 memory is mounted). */
function memoryHierarchy(): Hierarchy | undefined {
  const all = hierarchies();
  return all.find((h) => h.version === 1 && h.controllers.includes('memory')) ?? all.find((h) => h.version === 2);
}

/** True when per-group swap can be limited (v1 memory.memsw.*, v2 memory.swap.max). */
export function memorySwapAccounted(): boolean {
  const h = memoryHierarchy();
  if (h === undefined) return false;
  if (h.version === 1) return existsSync(join(h.base, 'memory.memsw.limit_in_bytes'));
  return (readText(join(h.base, 'cgroup.subtree_control')) ?? '').split(/\s+/).includes('memory');
}

function keyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

/** Processes the kernel's OOM killer killed in the container's memory group (it must still exist). */
export function oomKillsOf(cgroupsPath: string): number {
  const h = memoryHierarchy();
  if (h === undefined) return 0;
  const dir = join(h.base, cgroupsPath);
  const file = h.version === 1 ? join(dir, 'memory.oom_control') : join(dir, 'memory.events');
  return keyed(file).get('oom_kill') ?? 0;
}

interface Folders {
  readonly leaf: string;
  /** Deepest first. */
  readonly parents: readonly string[];
}

/** The folder of cgroupsPath and those of its parents, in every hierarchy. */
function foldersOf(cgroupsPath: string): Folders[] {
  const parts = cgroupsPath.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  if (parts.length === 0) return [];
  return hierarchies().map((h) => {
    const chain: string[] = [];
    for (let n = parts.length; n >= 1; n--) chain.push(join(h.base, ...parts.slice(0, n)));
    return { leaf: chain[0]!, parents: chain.slice(1) };
  });
}

function allFolders(cgroupsPath: string): string[] {
  return foldersOf(cgroupsPath).flatMap((f) => [f.leaf, ...f.parents]);
}

/** Which of cgroupsPath's folders exist now (taken before a start: what runc then makes is ours). */
export function existingFolders(cgroupsPath: string): Set<string> {
  return new Set(allFolders(cgroupsPath).filter((d) => existsSync(d)));
}

/** Folders runc made for our containers: removed with the last container that needs them. */
const madeByUs = new Set<string>();

/** Records what a start made: the folders of cgroupsPath that did not exist before it. */
export function recordMadeFolders(cgroupsPath: string, before: ReadonlySet<string>): void {
  for (const d of allFolders(cgroupsPath)) if (!before.has(d) && existsSync(d)) madeByUs.add(d);
}

/**
 * Removes the container's leaf group in every hierarchy (killing what is left in it) and the parents
 * runc made for us once no other container uses them. Returns what could not be removed.
 */
export function removeContainerFolders(cgroupsPath: string, waitMs = 2000): string[] {
  const left: string[] = [];
  for (const { leaf, parents } of foldersOf(cgroupsPath)) {
    left.push(...removeTree(leaf, waitMs));
    madeByUs.delete(leaf);
    for (const dir of parents) {
      if (!madeByUs.has(dir)) break;
      try {
        rmdirSync(dir);
        madeByUs.delete(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          madeByUs.delete(dir);
          continue;
        }
        // Another container of the same pod still has its group inside: the last one removes it.
        if (code !== 'ENOTEMPTY' && code !== 'EBUSY') left.push(`${dir} (${code})`);
        break;
      }
    }
  }
  return left;
}

function subdirs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return statSync(p).isDirectory();
      } catch {
        return false;
      }
    });
}

/** Our groups in any hierarchy: folders right under our cgroup whose name starts with idPrefix. */
export function cgroupFoldersWithPrefix(idPrefix: string): string[] {
  return hierarchies().flatMap((h) => subdirs(h.base).filter((d) => d.slice(h.base.length + 1).startsWith(idPrefix)));
}

/** Removes `ks-<pid>-...` groups of dead processes in every hierarchy; returns what went. */
export function sweepStaleFolders(): string[] {
  const removed: string[] = [];
  for (const h of hierarchies()) {
    for (const dir of subdirs(h.base)) {
      const m = /^ks-(\d+)-/.exec(dir.slice(h.base.length + 1));
      if (!m || alive(Number(m[1]))) continue;
      if (removeTree(dir, 1000).length === 0) removed.push(dir);
    }
  }
  return removed;
}
