/**
 * The sandbox's local image store: the catalogue's images built once per machine into a cache
 * folder, one folder per image id (`<hex>/rootfs` and `<hex>/image.json`), and reused from then on.
 *
 * An image is built into a temp folder beside its final one and renamed into place, so two
 * sandboxes building at once cannot see or leave half a tree: the first rename wins, the other
 * build is thrown away. Temp folders of killed builds are removed by the next ensure.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '../../../src/model/byte-units.ts';
import { fullImageRef } from '../runtime.ts';
import { buildImage, planContext, planImage, type ImagePlan, type PlanContext } from './build.ts';
import { CATALOG, type ImageDefinition } from './catalog.ts';
import { DpkgDatabase, MissingPackageError } from './dpkg.ts';
import { FileHashes } from './file-hashes.ts';
import type { ImageStoreApi, SandboxImage } from './types.ts';

/** `$KSHARK_SANDBOX_IMAGES`, or ~/.cache/kubectl-shark/sandbox-images. */
export function defaultImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KSHARK_SANDBOX_IMAGES || join(homedir(), '.cache/kubectl-shark/sandbox-images');
}

const TEMP_PREFIX = '.build-';

/**
 * Temp folders of builds in progress in this process. A process that exits mid-build (`npm run
 * sandbox` stopped with Ctrl-C while it builds) removes them on its way out; only a killed one
 * leaves them, for the next ensure's sweep.
 */
const building = new Set<string>();
let exitHookInstalled = false;

function removeOnExit(temp: string): void {
  building.add(temp);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dir of building) rmSync(dir, { recursive: true, force: true });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ImageStore implements ImageStoreApi {
  private readonly images = new Map<string, SandboxImage>();
  private ensured: Promise<void> | undefined;
  private readonly byRef: ReadonlyMap<string, ImageDefinition>;

  readonly dir: string;

  constructor(dir: string = defaultImageDir(), catalog: readonly ImageDefinition[] = CATALOG) {
    this.dir = dir;
    this.byRef = new Map(catalog.map((d) => [fullImageRef(d.ref), d]));
  }

  refs(): readonly string[] {
    return [...this.byRef.keys()];
  }

  /** Builds what is missing (once per store: later calls share the first one's work). */
  ensure(progress: (line: string) => void = () => undefined): Promise<void> {
    this.ensured ??= this.ensureNow(progress).catch((e: unknown) => {
      this.ensured = undefined; // a failed ensure (a package missing) may be retried once fixed
      throw e;
    });
    return this.ensured;
  }

  get(image: string): SandboxImage | undefined {
    if (this.images.size === 0 && this.ensured === undefined) {
      throw new Error('the sandbox image store answers get() only after ensure() has built or found its images');
    }
    const ref = fullImageRef(image);
    const found = this.images.get(ref);
    if (found) return found;
    // Another tag of a catalogue image: the same image under the name it was asked by.
    const owner = [...this.byRef.values()].find((d) => d.aliases?.some((a) => fullImageRef(a) === ref));
    const aliased = owner ? this.images.get(fullImageRef(owner.ref)) : undefined;
    return aliased ? { ...aliased, ref } : undefined;
  }

  /** The folder of an image id (`sha256:<hex>`). */
  folderOf(id: string): string {
    return join(this.dir, id.replace(/^sha256:/, ''));
  }

  private async ensureNow(progress: (line: string) => void): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.sweepDeadBuilds();
    const ctx = planContext(new FileHashes(join(this.dir, 'file-hashes.json')));
    const plans = await Promise.all([...this.byRef].map(([ref, def]) => planImage(def, ref, ctx)));
    await ctx.hashes.save();
    const missing = plans.filter((p) => !existsSync(join(this.folderOf(p.id), 'image.json')));
    const reused = plans.length - missing.length;
    if (missing.length === 0) progress(`reusing ${plans.length} sandbox images from ${this.dir}`);
    else {
      progress(
        `building ${missing.length} sandbox image${missing.length === 1 ? '' : 's'} from this machine's Debian packages into ${this.dir}` +
          `${reused > 0 ? ` (reusing ${reused})` : ''}: once, later runs reuse them`,
      );
    }
    for (const [i, plan] of missing.entries()) {
      const started = Date.now();
      const built = await this.build(plan, ctx);
      const what = plan.packages.length > 0 ? `${plan.packages.length} packages` : `${plan.binaries.length + plan.libraries.length + plan.files.length} files`;
      const size = built === undefined ? 'built at the same time by another process' : formatBytes(built.bytes);
      progress(`built ${plan.definition.ref} (${i + 1}/${missing.length}): ${what}, ${size}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    for (const plan of plans) {
      const ref = fullImageRef(plan.definition.ref);
      this.images.set(ref, { ref, id: plan.id, rootfs: join(this.folderOf(plan.id), 'rootfs'), config: plan.config });
    }
  }

  /** Builds one image into a temp folder and renames it into place; undefined when another process won. */
  private async build(plan: ImagePlan, ctx: PlanContext): Promise<{ bytes: number } | undefined> {
    const final = this.folderOf(plan.id);
    const temp = join(this.dir, `${TEMP_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    removeOnExit(temp);
    try {
      await mkdir(temp);
      const built = await buildImage(plan, join(temp, 'rootfs'), ctx);
      const meta = { ref: fullImageRef(plan.definition.ref), id: plan.id, config: plan.config, packages: plan.packages.map((p) => `${p.name}=${p.version}`), files: built.files, bytes: built.bytes };
      await writeFile(join(temp, 'image.json'), `${JSON.stringify(meta, null, 2)}\n`);
      try {
        await rename(temp, final);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(join(final, 'image.json'))) return undefined;
        throw e;
      }
      return built;
    } finally {
      await rm(temp, { recursive: true, force: true });
      building.delete(temp);
    }
  }

  /** Temp folders whose builder process is gone (killed mid-build). */
  private async sweepDeadBuilds(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const m = new RegExp(`^${TEMP_PREFIX.replace('.', '\\.')}(\\d+)-`).exec(name);
      if (m && !alive(Number(m[1]))) await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * Why the catalogue's images cannot be built here (a Debian package they need is not installed, or
 * this is no dpkg machine), or null: what tests and `requireSandbox` say instead of failing mid-build.
 */
export function requireImages(catalog: readonly ImageDefinition[] = CATALOG): string | null {
  let db: DpkgDatabase;
  try {
    db = DpkgDatabase.read();
  } catch (e) {
    return `the sandbox images are built from Debian packages, and dpkg-query failed: ${(e as Error).message.split('\n')[0]}`;
  }
  try {
    for (const def of catalog) {
      db.closure(def.ref, def.packages ?? []);
      for (const b of def.binaries ?? []) if (b.package !== undefined && db.installed(b.package) === undefined) throw new MissingPackageError(def.ref, b.package);
    }
  } catch (e) {
    if (e instanceof MissingPackageError) return e.message;
    throw e;
  }
  return null;
}

let shared: ImageStore | undefined;

/** The process-wide store over the default cache folder. */
export function sandboxImages(): ImageStore {
  shared ??= new ImageStore();
  return shared;
}
