/**
 * What this machine's dpkg knows: installed packages, the closure of their dependencies, the files
 * each one installed, and the alternatives (`/usr/bin/awk` -> mawk) its maintainer scripts set up.
 * Read once per process from one `dpkg-query` call and the files under /var/lib/dpkg, so an image
 * is made of exactly what is installed here, at the versions installed here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const DPKG_INFO = '/var/lib/dpkg/info';
const DPKG_ALTERNATIVES = '/var/lib/dpkg/alternatives';

export interface InstalledPackage {
  readonly name: string;
  /** `libc6:amd64` for Multi-Arch: same packages: the name of its files under /var/lib/dpkg/info. */
  readonly binaryName: string;
  readonly version: string;
  /** Depends and Pre-Depends: each entry a list of alternatives (`a | b`), names without versions. */
  readonly depends: readonly (readonly string[])[];
  readonly provides: readonly string[];
}

/** A package an image needs that dpkg does not have installed: say which, and how to install it. */
export class MissingPackageError extends Error {
  readonly packageName: string;

  constructor(image: string, packageName: string, neededBy?: string) {
    const why = neededBy === undefined ? '' : ` (a dependency of ${neededBy})`;
    super(
      `the sandbox image ${image} needs the Debian package ${packageName}${why}, which is not installed on this machine: ` +
        `run apt-get install -y --no-install-recommends ${packageName} (as root; .ci/run installs it in CI)`,
    );
    this.name = 'MissingPackageError';
    this.packageName = packageName;
  }
}

/** `libc6 (>= 2.34), debconf | debconf-2.0` -> [['libc6'], ['debconf', 'debconf-2.0']]. */
export function parseRelations(field: string): string[][] {
  return field
    .split(',')
    .map((entry) =>
      entry
        .split('|')
        .map((alt) => alt.trim().replace(/\s*\(.*\)$/, '').replace(/\s*\[.*\]$/, '').replace(/:any$|:native$/, '').trim())
        .filter((alt) => alt !== ''),
    )
    .filter((alts) => alts.length > 0);
}

export class DpkgDatabase {
  private readonly byName = new Map<string, InstalledPackage>();
  /** Virtual package -> the installed packages that provide it, in dpkg-query's order. */
  private readonly providers = new Map<string, InstalledPackage[]>();

  constructor(packages: readonly InstalledPackage[]) {
    for (const p of packages) {
      if (!this.byName.has(p.name)) this.byName.set(p.name, p);
      for (const v of p.provides) {
        const list = this.providers.get(v) ?? [];
        list.push(p);
        this.providers.set(v, list);
      }
    }
  }

  /** The installed packages, from `dpkg-query -W` (only those in state `install ok installed`). */
  static read(): DpkgDatabase {
    const format = '${db:Status-Abbrev}\\t${Package}\\t${binary:Package}\\t${Version}\\t${Pre-Depends}\\t${Depends}\\t${Provides}\\n';
    const out = execFileSync('dpkg-query', ['-W', '-f', format], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const packages: InstalledPackage[] = [];
    for (const line of out.split('\n')) {
      const [status, name, binaryName, version, preDepends, depends, provides] = line.split('\t');
      if (status === undefined || !status.startsWith('ii') || name === undefined || version === undefined) continue;
      packages.push({
        name,
        binaryName: binaryName || name,
        version,
        depends: [...parseRelations(preDepends ?? ''), ...parseRelations(depends ?? '')],
        provides: parseRelations(provides ?? '').map((alts) => alts[0]!),
      });
    }
    return new DpkgDatabase(packages);
  }

  installed(name: string): InstalledPackage | undefined {
    return this.byName.get(name);
  }

  /** The installed package that satisfies `name`: itself, or the first installed one providing it. */
  satisfying(name: string): InstalledPackage | undefined {
    return this.byName.get(name) ?? this.providers.get(name)?.[0];
  }

  /**
   * `names` and everything they depend on (Depends + Pre-Depends, over installed packages), sorted
   * by name. Of alternatives (`a | b`) the first that is installed wins, as apt would keep it.
   */
  closure(image: string, names: readonly string[]): InstalledPackage[] {
    const found = new Map<string, InstalledPackage>();
    const queue: { name: string; neededBy?: string }[] = names.map((name) => ({ name }));
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const p = this.byName.get(next.name);
      if (p === undefined) throw new MissingPackageError(image, next.name, next.neededBy);
      if (found.has(p.name)) continue;
      found.set(p.name, p);
      for (const alternatives of p.depends) {
        const chosen = alternatives.map((a) => this.byName.get(a)).find((x) => x !== undefined) ?? alternatives.map((a) => this.providers.get(a)?.[0]).find((x) => x !== undefined);
        if (chosen === undefined) throw new MissingPackageError(image, alternatives.join(' | '), p.name);
        if (!found.has(chosen.name)) queue.push({ name: chosen.name, neededBy: p.name });
      }
    }
    return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** The paths a package installed, as `dpkg -L` lists them (from its .list file, without `/.`). */
export function packageFiles(p: InstalledPackage): string[] {
  const candidates = [join(DPKG_INFO, `${p.binaryName}.list`), join(DPKG_INFO, `${p.name}.list`)];
  const list = candidates.find((f) => existsSync(f));
  if (list === undefined) throw new Error(`dpkg has no file list for the installed package ${p.binaryName} (looked for ${candidates.join(', ')})`);
  return readFileSync(list, 'utf8')
    .split('\n')
    .filter((path) => path.startsWith('/') && path !== '/.');
}

/** One link an alternative makes: `link` (/usr/bin/awk) -> /etc/alternatives/`name` -> `target`. */
export interface AlternativeLink {
  readonly name: string;
  readonly link: string;
  readonly target: string;
}

/**
 * The alternatives in effect on this machine (what `update-alternatives` set up from maintainer
 * scripts, which an image built by copying files does not run): master and slave links whose
 * /etc/alternatives entry points somewhere.
 */
export function alternativeLinks(): AlternativeLink[] {
  if (!existsSync(DPKG_ALTERNATIVES)) return [];
  const links: AlternativeLink[] = [];
  for (const master of readdirSync(DPKG_ALTERNATIVES).sort()) {
    // Format: mode, master link, then (slave name, slave link) pairs up to an empty line.
    const lines = readFileSync(join(DPKG_ALTERNATIVES, master), 'utf8').split('\n');
    const pairs: [string, string][] = [[master, lines[1] ?? '']];
    for (let i = 2; i + 1 < lines.length && lines[i] !== ''; i += 2) pairs.push([lines[i]!, lines[i + 1]!]);
    for (const [name, link] of pairs) {
      let target: string;
      try {
        target = readlinkSync(join('/etc/alternatives', name));
      } catch {
        continue; // a slave the current choice does not have
      }
      if (link.startsWith('/') && target.startsWith('/')) links.push({ name, link, target });
    }
  }
  return links;
}
