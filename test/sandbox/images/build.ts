/**
 * The one image builder: `planImage` works out everything that goes into an image (the package
 * closure at its installed versions, the hashes of every other file, the config) and names the
 * image by a digest of that; `buildImage` writes the tree. The digest is over inputs, not over the
 * tree, so it costs no build to know whether the cache has an image, and two builds on the same
 * machine give the same id.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import type { HostFile, ImageDefinition, ImageUser } from './catalog.ts';
import { FileHashes } from './file-hashes.ts';
import { alternativeLinks, DpkgDatabase, MissingPackageError, packageFiles, type AlternativeLink, type InstalledPackage } from './dpkg.ts';
import { hostTopLevelLinks, RootfsTree, sharedLibraries } from './tree.ts';
import type { ImageConfig } from './types.ts';

const run = promisify(execFile);

/** Bump when the builder makes different trees from the same inputs: every image gets a new id. */
export const BUILDER_VERSION = 1;

/** What an image copy leaves out of packages, as debian:*-slim does. */
const EXCLUDED = ['/usr/share/doc/', '/usr/share/man/', '/usr/share/info/', '/usr/share/locale/', '/usr/share/lintian/', '/usr/share/doc-base/'];

const BASE_PASSWD = '/usr/share/base-passwd';

/** glibc looks users up in /etc/passwd only with this (without it, it tries modules images do not have). */
const NSSWITCH = ['passwd:         files', 'group:          files', 'shadow:         files', 'hosts:          files dns', 'networks:       files', 'protocols:      files', 'services:       files', 'ethers:         files', 'rpc:            files', ''].join('\n');

export interface PlannedFile {
  readonly from: string;
  readonly to: string;
  readonly sha256: string;
}

export interface ImagePlan {
  readonly definition: ImageDefinition;
  /** `sha256:<hex>` */
  readonly id: string;
  readonly config: ImageConfig;
  readonly packages: readonly InstalledPackage[];
  /** Per package, the paths of its files the image gets. */
  readonly packageFiles: ReadonlyMap<string, readonly string[]>;
  readonly alternatives: readonly AlternativeLink[];
  readonly binaries: readonly PlannedFile[];
  /** The libraries (and loader) the binaries load, at their host paths. */
  readonly libraries: readonly PlannedFile[];
  readonly files: readonly PlannedFile[];
}

/** /bin/x and /usr/bin/x are one file under usrmerge: compare paths in their /usr form. */
function usrForm(path: string, topLinks: readonly { name: string; target: string }[]): string {
  for (const { name, target } of topLinks) {
    if (path === `/${name}` || path.startsWith(`/${name}/`)) return `/${target}${path.slice(name.length + 1)}`;
  }
  return path;
}

async function planFile(image: string, ctx: PlanContext, file: HostFile): Promise<PlannedFile> {
  const from = typeof file.from === 'string' ? file.from : file.from();
  if (file.package !== undefined && ctx.db.installed(file.package) === undefined) throw new MissingPackageError(image, file.package);
  try {
    return { from, to: file.to ?? from, sha256: await ctx.hashes.sha256(from) };
  } catch (e) {
    throw new Error(`the sandbox image ${image} needs ${from}, which cannot be read: ${(e as Error).message}`);
  }
}

export interface PlanContext {
  readonly db: DpkgDatabase;
  readonly alternatives: readonly AlternativeLink[];
  readonly topLinks: readonly { name: string; target: string }[];
  readonly hashes: FileHashes;
}

/** This machine's state that images are made of, read once per ensure. */
export function planContext(hashes: FileHashes = new FileHashes()): PlanContext {
  return { db: DpkgDatabase.read(), alternatives: alternativeLinks(), topLinks: hostTopLevelLinks(), hashes };
}

export async function planImage(definition: ImageDefinition, fullRef: string, ctx: PlanContext): Promise<ImagePlan> {
  const image = definition.ref;
  const packages = definition.packages === undefined ? [] : ctx.db.closure(image, definition.packages);
  const filesOf = new Map<string, readonly string[]>();
  const shipped = new Set<string>();
  for (const p of packages) {
    const paths = packageFiles(p).filter((path) => !EXCLUDED.some((prefix) => path.startsWith(prefix)));
    filesOf.set(p.name, paths);
    for (const path of paths) shipped.add(usrForm(path, ctx.topLinks));
  }
  const alternatives = ctx.alternatives.filter((a) => shipped.has(usrForm(a.target, ctx.topLinks)));
  const binaries = await Promise.all((definition.binaries ?? []).map((b) => planFile(image, ctx, b)));
  const libraryPaths = [...new Set((await Promise.all(binaries.map((b) => sharedLibraries(b.from)))).flat())].sort();
  const libraries = await Promise.all(libraryPaths.map((path) => planFile(image, ctx, { from: path })));
  const files = await Promise.all((definition.files ?? []).map((f) => planFile(image, ctx, f)));
  const binaryPackages = (definition.binaries ?? []).flatMap((b) => (b.package === undefined ? [] : [`${b.package}=${ctx.db.installed(b.package)!.version}`]));
  if (definition.users === 'debian' && !packages.some((p) => p.name === 'base-passwd')) {
    throw new Error(`the sandbox image ${image} takes Debian's users but has no base-passwd package in its list`);
  }

  // Everything that decides the tree, in a fixed order: the image id is its digest.
  const description = {
    builder: BUILDER_VERSION,
    ref: fullRef,
    config: definition.config,
    topLevelLinks: ctx.topLinks,
    packages: packages.map((p) => `${p.name}=${p.version}`),
    excluded: EXCLUDED,
    alternatives: alternatives.map((a) => `${a.link}->${a.target}`),
    binaries: binaries.map((b) => ({ to: b.to, sha256: b.sha256 })),
    binaryPackages,
    libraries: libraries.map((l) => ({ path: l.from, sha256: l.sha256 })),
    files: files.map((f) => ({ to: f.to, sha256: f.sha256 })),
    dirs: definition.dirs ?? [],
    busyboxApplets: definition.busyboxApplets ?? null,
    users: definition.users,
    nsswitch: NSSWITCH,
  };
  const id = `sha256:${createHash('sha256').update(JSON.stringify(description)).digest('hex')}`;
  return { definition, id, config: definition.config, packages, packageFiles: filesOf, alternatives, binaries, libraries, files };
}

function passwdOf(users: readonly ImageUser[]): { passwd: string; group: string } {
  return {
    passwd: users.map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.name}:${u.home}:${u.shell}\n`).join(''),
    group: users.map((u) => `${u.name}:x:${u.gid}:\n`).join(''),
  };
}

export interface BuiltTree {
  readonly bytes: number;
  readonly files: number;
}

/** Writes the image's tree into `rootfs` (an empty or missing directory). */
export async function buildImage(plan: ImagePlan, rootfs: string, ctx: PlanContext): Promise<BuiltTree> {
  const def = plan.definition;
  const tree = new RootfsTree(rootfs);
  await tree.mkdir('/');
  // The usrmerge layout first, so /bin/sh of a package lands in /usr/bin as on the host.
  for (const { name, target } of ctx.topLinks) {
    await tree.mkdir(`/${target}`);
    await tree.symlink(`/${name}`, target);
  }
  for (const p of plan.packages) {
    for (const path of plan.packageFiles.get(p.name) ?? []) await tree.copyFromHost(path);
  }
  for (const a of plan.alternatives) {
    await tree.symlink(`/etc/alternatives/${a.name}`, a.target);
    await tree.symlink(a.link, `/etc/alternatives/${a.name}`);
  }
  for (const b of plan.binaries) await tree.copyFromHost(b.from, b.to, true);
  for (const l of plan.libraries) await tree.copyFromHost(l.from, l.from, true);
  for (const f of plan.files) await tree.copyFromHost(f.from, f.to);
  if (def.busyboxApplets !== undefined) {
    const busybox = plan.binaries.find((b) => b.to === def.busyboxApplets);
    if (busybox === undefined) throw new Error(`the sandbox image ${def.ref} links busybox applets to ${def.busyboxApplets}, which is none of its binaries`);
    const { stdout } = await run(busybox.from, ['--list'], { encoding: 'utf8' });
    const dir = posix.dirname(def.busyboxApplets);
    const self = posix.basename(def.busyboxApplets);
    for (const applet of stdout.split('\n').map((a) => a.trim()).filter((a) => /^[\w.[\]-]+$/.test(a) && a !== self)) {
      await tree.symlink(posix.join(dir, applet), self);
    }
  }
  for (const [path, mode, uid, gid] of def.dirs ?? []) await tree.mkdir(path, mode, uid, gid);
  // What every container runtime expects to mount on, and a /tmp anyone can write.
  for (const path of ['/proc', '/sys', '/dev', '/etc']) await tree.mkdir(path);
  await tree.mkdir('/tmp', 0o1777);
  if (def.users === 'debian') {
    await tree.writeFile('/etc/passwd', readFileSync(`${BASE_PASSWD}/passwd.master`));
    await tree.writeFile('/etc/group', readFileSync(`${BASE_PASSWD}/group.master`));
  } else if (def.users !== 'none') {
    const { passwd, group } = passwdOf(def.users);
    await tree.writeFile('/etc/passwd', passwd);
    await tree.writeFile('/etc/group', group);
  }
  if (def.users !== 'none') await tree.writeFile('/etc/nsswitch.conf', NSSWITCH).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e; // a package's own
  });
  if (plan.packages.length > 0 || plan.libraries.length > 0) {
    // -X: the packages made their soname links already; only the cache the loader reads is missing.
    await run('ldconfig', ['-X', '-r', rootfs]).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`ldconfig -r ${rootfs} failed: ${e.stderr?.trim() || e.message}`);
    });
  }
  return { bytes: tree.bytes, files: tree.files };
}
