/**
 * A container's root filesystem: an overlay mount whose lower layer is the image's tree (read only,
 * shared by every container of the image) and whose upper and work folders live in the bundle, so
 * what a container writes is its own and goes with it. Also command lookup inside such a tree, with
 * symlinks resolved as the container would see them (never escaping to the host).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

export interface BundleLayout {
  readonly dir: string;
  readonly config: string;
  /** The overlay mount point: config.json's root.path "rootfs". */
  readonly rootfs: string;
  readonly upper: string;
  readonly work: string;
}

export function bundleLayout(dir: string): BundleLayout {
  return { dir, config: join(dir, 'config.json'), rootfs: join(dir, 'rootfs'), upper: join(dir, 'upper'), work: join(dir, 'work') };
}

/** Mount points (decoded from mountinfo's octal escapes) of this process's mount namespace. */
export function mountPoints(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) out.push(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}

/** overlayfs takes ',' and ':' as separators in its options: such paths cannot be layers. */
function checkLayerPath(path: string): void {
  if (/[,:\\\n]/.test(path)) throw new Error(`cannot use ${JSON.stringify(path)} in an overlay mount: the path has a ',', ':', '\\' or newline`);
}

/** Mounts the overlay at layout.rootfs (lower = the image's tree). */
export function mountOverlay(lower: string, layout: BundleLayout): void {
  for (const p of [lower, layout.upper, layout.work]) checkLayerPath(p);
  for (const d of [layout.rootfs, layout.upper, layout.work]) mkdirSync(d, { recursive: true });
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${layout.upper},workdir=${layout.work}`, layout.rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot mount the overlay root filesystem at ${layout.rootfs}: ${(r.stderr || r.error?.message || '').trim()}`);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Unmounts `path` (every mount stacked on it): retried while busy (a process of the container may
 * still be going), then detached lazily so the kernel frees it when the last user goes. Returns
 * false when it is still a mount point afterwards.
 */
export function unmount(path: string, retries = 10): boolean {
  for (let i = 0; isMountPoint(path); i++) {
    if (i < retries) {
      spawnSync('umount', [path], { stdio: 'ignore' });
      if (isMountPoint(path)) sleepSync(30);
    } else if (i < retries + 5) {
      spawnSync('umount', ['-l', path], { stdio: 'ignore' });
    } else {
      return false;
    }
  }
  return true;
}

const MAX_SYMLINKS = 40;

/**
 * The host path `path` (absolute, inside the container) resolves to in the tree `root`: symlinks
 * followed the way the kernel would inside the container, absolute targets and '..' kept inside
 * `root`. Undefined when a component is missing or the links loop.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) return undefined;
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return join(root, ...done);
}

function isExecutableFile(hostPath: string): boolean {
  try {
    const st = statSync(hostPath);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * What `cmd` runs inside the container, as its exec would find it: a name with a '/' relative to
 * `cwd`, else the first PATH entry holding an executable file of that name. The answer is the path
 * inside the container; undefined when there is none.
 */
export function lookPathInRoot(root: string, cmd: string, pathVar: string, cwd: string): string | undefined {
  if (cmd === '') return undefined;
  const candidates = cmd.includes('/') ? [posix.resolve('/', cwd, cmd)] : pathVar.split(':').map((dir) => posix.join(posix.resolve('/', cwd, dir === '' ? '.' : dir), cmd));
  for (const inside of candidates) {
    const host = resolveInRoot(root, inside);
    if (host !== undefined && isExecutableFile(host)) return inside;
  }
  return undefined;
}
