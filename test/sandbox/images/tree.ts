/**
 * Writing an image's root filesystem tree from this machine's files. Every path is resolved inside
 * the tree as a chroot would: a package's absolute symlink (`/etc/foo -> /usr/share/foo`) copied
 * into the tree must never lead a later write out of it onto the host.
 */
import { execFile } from 'node:child_process';
import { constants, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { chmod, copyFile, lchown, lstat, mkdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How many symlinks a path may pass through (the kernel's limit). */
const MAX_LINKS = 40;

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** The host's usrmerge links at / (`bin -> usr/bin`, `lib64 -> usr/lib64`): an image has the same layout. */
export function hostTopLevelLinks(): { name: string; target: string }[] {
  return readdirSync('/')
    .sort()
    .flatMap((name) => {
      try {
        if (!lstatSync(join('/', name)).isSymbolicLink()) return [];
        const target = readlinkSync(join('/', name));
        return target.startsWith('usr/') ? [{ name, target }] : [];
      } catch {
        return [];
      }
    });
}

/** The shared libraries `ldd` says `binary` loads, the dynamic loader included (none for a static binary). */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let out: string;
  try {
    out = (await run('ldd', [binary], { encoding: 'utf8' })).stdout;
  } catch (e) {
    // ldd exits 1 with "not a dynamic executable" for static binaries.
    const stdout = (e as { stdout?: string }).stdout ?? '';
    const stderr = (e as { stderr?: string }).stderr ?? '';
    if (/not a dynamic executable/.test(stdout + stderr)) return [];
    throw new Error(`ldd ${binary} failed: ${stderr.trim() || String(e)}`);
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
    else if (/=>\s*not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`);
  }
  return libs;
}

export class RootfsTree {
  /** Bytes of the regular files written. */
  bytes = 0;
  files = 0;

  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The host path of `imagePath` inside the tree, its directories' symlinks followed within the tree. */
  async resolve(imagePath: string): Promise<string> {
    const parts = imagePath.split('/').filter((p) => p !== '' && p !== '.');
    const last = parts.pop();
    if (last === undefined) return this.root;
    const done: string[] = [];
    let links = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const here = join(this.root, ...done, part);
      const st = await lstatOrUndefined(here);
      if (st?.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new Error(`too many symlinks resolving ${imagePath} in ${this.root}`);
        const target = await readlink(here);
        if (target.startsWith('/')) done.length = 0;
        parts.unshift(...target.split('/').filter((p) => p !== ''));
        continue;
      }
      done.push(part);
    }
    if (last === '..') done.pop();
    return last === '..' ? join(this.root, ...done) : join(this.root, ...done, last);
  }

  /** Makes `imagePath` and its missing parents (0755, root) unless it exists (a link to a directory counts). */
  async mkdir(imagePath: string, mode = 0o755, uid = 0, gid = 0, links = 0): Promise<void> {
    const dest = await this.resolve(imagePath);
    const st = await lstatOrUndefined(dest);
    if (st?.isSymbolicLink()) {
      // A link to a directory (`/bin -> usr/bin`, or dangling so far): make its target, in the tree.
      if (links >= MAX_LINKS) throw new Error(`too many symlinks making ${imagePath} in ${this.root}`);
      const target = await readlink(dest);
      return this.mkdir(target.startsWith('/') ? target : posix.join(posix.dirname(imagePath), target), mode, uid, gid, links + 1);
    }
    if (st !== undefined) return;
    if (dest !== this.root) await this.mkdir(posix.dirname(imagePath));
    await mkdir(dest);
    await lchown(dest, uid, gid);
    await chmod(dest, mode);
  }

  async symlink(imagePath: string, target: string): Promise<void> {
    const dest = await this.resolve(imagePath);
    if ((await lstatOrUndefined(dest)) !== undefined) return;
    await this.mkdir(posix.dirname(imagePath));
    await symlink(target, dest);
  }

  async writeFile(imagePath: string, content: string | Buffer, mode = 0o644, uid = 0, gid = 0): Promise<void> {
    await this.mkdir(posix.dirname(imagePath));
    const dest = await this.resolve(imagePath);
    await writeFile(dest, content, { mode, flag: 'wx' });
    await lchown(dest, uid, gid);
    await chmod(dest, mode);
    this.bytes += Buffer.byteLength(content);
    this.files += 1;
  }

  /**
   * Copies the host's `hostPath` to `imagePath` (the same path unless given): a directory as an empty
   * directory, a symlink as a symlink, a file with its mode and owner. With `followLinks` the file a
   * symlink points to is copied too (a library's soname link and the library). Returns false when the
   * host has no such path (dpkg's path-exclude left it out), and leaves what the tree has already.
   */
  async copyFromHost(hostPath: string, imagePath = hostPath, followLinks = false): Promise<boolean> {
    const st = await lstatOrUndefined(hostPath);
    if (st === undefined) return false;
    const dest = await this.resolve(imagePath);
    const existing = await lstatOrUndefined(dest);
    if (st.isSymbolicLink()) {
      const target = await readlink(hostPath);
      if (existing === undefined) {
        await this.mkdir(posix.dirname(imagePath));
        await symlink(target, dest);
      }
      if (followLinks) await this.copyFromHost(resolve(dirname(hostPath), target), undefined, true);
      return true;
    }
    if (existing !== undefined) return true;
    if (st.isDirectory()) {
      await this.mkdir(imagePath, st.mode & 0o7777, st.uid, st.gid);
      return true;
    }
    if (!st.isFile()) return true; // devices, fifos: nothing an image needs from a package list
    await this.mkdir(posix.dirname(imagePath));
    await copyFile(hostPath, dest, constants.COPYFILE_FICLONE);
    // chown before chmod: chown clears setuid bits.
    await lchown(dest, st.uid, st.gid);
    await chmod(dest, st.mode & 0o7777);
    this.bytes += st.size;
    this.files += 1;
    return true;
  }
}
