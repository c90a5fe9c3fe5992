/**
 * The libssl files a container can load, before any process maps them: a process that lives less
 * than the agent's rescan (a `curl`, a cron-style client) is hooked only if its library file
 * already is, and a uprobe lives on the file. Found in the container's own ld.so.cache, or in the
 * standard library folders when it has none, always resolved inside that container's root
 * (`/proc/PID/root`): a symlink there means the container's path, never the agent's.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { ldCacheEntries } from './ld-so-cache.ts';
import { LIBSSL_NAME } from './openssl-library.ts';
import { readBounded } from './proc-files.ts';

/** A larger ld.so.cache is not read (a real one is tens of KiB). */
const MAX_CACHE_BYTES = 4 * 1024 * 1024;
/** Symlinks followed in one resolution (the kernel's own limit is 40). */
const MAX_LINKS = 40;
const MAX_COMPONENTS = 256;
/** Where the dynamic linker looks without a cache (x86-64 Debian/Ubuntu, Fedora/RHEL, others). */
export const STANDARD_LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'] as const;
const SONAMES = ['libssl.so.3', 'libssl.so.1.1'] as const;

export interface RootLibrary {
  readonly soname: string;
  /** The path inside the root, symlinks resolved there (open it as `<root><path>`). */
  readonly path: string;
}

/** The libssl files of the filesystem at `root` (e.g. /proc/PID/root), each path once. */
export function rootLibssls(root: string): RootLibrary[] {
  const found = new Map<string, RootLibrary>();
  const add = (soname: string, path: string): void => {
    const resolved = resolveInRoot(root, path);
    if (resolved !== null && isRegularFile(root + resolved) && !found.has(resolved)) found.set(resolved, { soname, path: resolved });
  };
  const cache = readCache(root);
  if (cache !== null) {
    for (const e of ldCacheEntries(cache, (soname) => LIBSSL_NAME.test(soname))) add(e.soname, e.path);
  } else {
    for (const dir of STANDARD_LIBRARY_DIRS) for (const soname of SONAMES) add(soname, `${dir}/${soname}`);
  }
  return [...found.values()];
}

/** The root's ld.so.cache bytes, or null when it has none (musl, distroless) or it cannot be read. */
function readCache(root: string): Buffer | null {
  const path = resolveInRoot(root, '/etc/ld.so.cache');
  if (path === null || !isRegularFile(root + path)) return null;
  try {
    return readBounded(root + path, MAX_CACHE_BYTES);
  } catch {
    return null;
  }
}

/**
 * `path` with every symlink resolved as the container sees it: an absolute target starts again at
 * the root, `..` stops at the root. Null when a component is missing or the links loop. The
 * components are looked at with lstat through `root`, whose own link (/proc/PID/root) the kernel
 * resolves to the container's root; no other link is followed by the kernel.
 */
export function resolveInRoot(root: string, path: string): string | null {
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  let steps = 0;
  while (pending.length > 0) {
    if (++steps > MAX_COMPONENTS) return null;
    const [name, ...rest] = pending as [string, ...string[]];
    pending = rest;
    if (name === '..') {
      done.pop();
      continue;
    }
    const here = `/${[...done, name].join('/')}`;
    let isLink: boolean;
    try {
      isLink = lstatSync(root + here).isSymbolicLink();
    } catch {
      return null;
    }
    if (!isLink) {
      done.push(name);
      continue;
    }
    if (++links > MAX_LINKS) return null;
    let target: string;
    try {
      target = readlinkSync(root + here);
    } catch {
      return null;
    }
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return `/${done.join('/')}`;
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}
