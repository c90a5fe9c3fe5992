/**
 * The images the sandbox has, as data: what goes into each tree and how it runs. One builder
 * (build.ts) makes all of them. Two kinds:
 *
 * - Debian images (`packages`): the named packages and the closure of their dependencies, as
 *   debian:bookworm-slim is a set of packages; the base is bookworm-slim's essential set.
 * - Distroless-like images (`binaries` without `packages`): only the named executables, the
 *   libraries `ldd` names for them and the dynamic loader; no shell, no package manager.
 */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageConfig } from './types.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const APPS = join(REPO_ROOT, 'test/sandbox/apps');

/** The Node 24 the project pins (npm's `node` package), the binary itself rather than npm's link to it. */
export function projectNodeBinary(): string {
  const link = join(REPO_ROOT, 'node_modules/.bin/node');
  try {
    return realpathSync(link);
  } catch {
    throw new Error(`the sandbox images need the project's Node 24 at ${link}, which is missing: run npm ci in ${REPO_ROOT}`);
  }
}

/** A file of this machine put into an image. `package` names the Debian package it comes from, if any. */
export interface HostFile {
  readonly from: string | (() => string);
  /** Where in the image; `from` when absent. */
  readonly to?: string;
  readonly package?: string;
}

export interface ImageUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface ImageDefinition {
  /** As pod specs write it (`node:24-slim`); the store answers its full form too. */
  readonly ref: string;
  /** Other tags of the same image (a registry's `node:24-bookworm-slim` is `node:24-slim`). */
  readonly aliases?: readonly string[];
  /** Debian packages, installed with their dependency closure. */
  readonly packages?: readonly string[];
  /** Executables copied with the shared libraries ldd names for them. */
  readonly binaries?: readonly HostFile[];
  /** Files copied as they are (mode kept). */
  readonly files?: readonly HostFile[];
  /** Directories to make: [path, mode, uid, gid]. */
  readonly dirs?: readonly (readonly [string, number, number, number])[];
  /** The image path of a busybox binary: one symlink per applet it lists (`busybox --list`), beside it. */
  readonly busyboxApplets?: string;
  /** /etc/passwd and /etc/group: Debian's (base-passwd's master files), these users, or none. */
  readonly users: 'debian' | readonly ImageUser[] | 'none';
  readonly config: ImageConfig;
}

/** debian:bookworm-slim's essential set (what `docker run debian:12-slim` has, apt and perl's friends aside). */
export const DEBIAN_BASE = [
  'base-files',
  'base-passwd',
  'bash',
  'bsdutils',
  'coreutils',
  'dash',
  'debianutils',
  'diffutils',
  'findutils',
  'grep',
  'gzip',
  'hostname',
  'libc-bin',
  'mawk',
  'ncurses-base',
  'sed',
  'tar',
  'util-linux',
] as const;

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function config(partial: Partial<ImageConfig>): ImageConfig {
  return { entrypoint: [], cmd: [], env: [PATH], user: { uid: 0, gid: 0 }, workingDir: '/', ...partial };
}

/** gcr.io/distroless's users: root, nobody, and nonroot (65532) that its :nonroot images run as. */
const DISTROLESS_USERS: readonly ImageUser[] = [
  { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/sbin/nologin' },
  { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/sbin/nologin' },
  { name: 'nonroot', uid: 65532, gid: 65532, home: '/home/nonroot', shell: '/sbin/nologin' },
];

const NODE: HostFile = { from: projectNodeBinary, to: '/usr/local/bin/node' };

export const CATALOG: readonly ImageDefinition[] = [
  {
    // The official image is Debian bookworm-slim plus Node at /usr/local/bin/node; ours is Node 24
    // from npm's `node` package, the one the project pins.
    ref: 'node:24-slim',
    aliases: ['node:24-bookworm-slim'],
    packages: [...DEBIAN_BASE, 'libstdc++6'],
    files: [NODE],
    users: 'debian',
    config: config({ cmd: ['node'] }),
  },
  {
    ref: 'debian:12-slim',
    packages: DEBIAN_BASE,
    users: 'debian',
    config: config({ cmd: ['bash'] }),
  },
  {
    // Debian's busybox (1.35, dynamically linked to libc) under the tag the tests and kubectl debug use.
    ref: 'busybox:1.36',
    binaries: [{ from: '/bin/busybox', package: 'busybox' }],
    busyboxApplets: '/bin/busybox',
    dirs: [['/root', 0o700, 0, 0], ['/home', 0o755, 0, 0]],
    users: [
      { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' },
      { name: 'nobody', uid: 65534, gid: 65534, home: '/home', shell: '/bin/false' },
    ],
    config: config({ cmd: ['sh'] }),
  },
  {
    ref: 'sandbox.local/dig:1',
    packages: [...DEBIAN_BASE, 'bind9-dnsutils'],
    users: 'debian',
    config: config({ cmd: ['bash'] }),
  },
  {
    // dnsmasq runs as root and drops to nobody; no shell to exec into.
    ref: 'sandbox.local/dnsmasq:1',
    binaries: [{ from: '/usr/sbin/dnsmasq', package: 'dnsmasq-base' }],
    // Where it writes its pid file, unless told --pid-file=.
    dirs: [['/var/run', 0o755, 0, 0]],
    users: DISTROLESS_USERS,
    config: config({ entrypoint: ['/usr/sbin/dnsmasq'], cmd: ['--keep-in-foreground', '--log-facility=-'] }),
  },
  {
    ref: 'sandbox.local/nginx:1',
    packages: [...DEBIAN_BASE, 'nginx-light'],
    users: 'debian',
    config: config({ cmd: ['nginx', '-g', 'daemon off;'] }),
  },
  {
    // The demo shop as a distroless node image would ship it: node, the app, a non-root user.
    ref: 'sandbox.local/shop:1',
    binaries: [NODE],
    files: [
      { from: join(APPS, 'shop-service.mjs'), to: '/app/shop-service.mjs' },
      { from: join(APPS, 'memory-app.mjs'), to: '/app/memory-app.mjs' },
    ],
    dirs: [['/home/nonroot', 0o700, 65532, 65532]],
    users: DISTROLESS_USERS,
    config: config({ entrypoint: ['/usr/local/bin/node'], cmd: ['/app/shop-service.mjs'], user: { uid: 65532, gid: 65532 }, workingDir: '/app' }),
  },
  {
    // For data-protocol tests: redis-server and redis-cli (redis-tools), as Debian ships them.
    ref: 'sandbox.local/redis:1',
    packages: [...DEBIAN_BASE, 'redis-server'],
    users: 'debian',
    config: config({ cmd: ['redis-server'] }),
  },
  {
    // For TLS tests: servers (nginx, python3's ssl, openssl s_server) and clients (curl, openssl s_client).
    ref: 'sandbox.local/tls:1',
    packages: [...DEBIAN_BASE, 'openssl', 'curl', 'nginx-light', 'python3-minimal'],
    users: 'debian',
    config: config({ cmd: ['bash'] }),
  },
  {
    // The pod's infrastructure container: Debian's static catatonit in pause mode, as the real
    // pause image runs as 65535.
    ref: 'registry.k8s.io/pause:3.10',
    binaries: [{ from: '/usr/bin/catatonit', to: '/catatonit', package: 'catatonit' }],
    users: 'none',
    config: config({ entrypoint: ['/catatonit', '-P'], user: { uid: 65535, gid: 65535 } }),
  },
];
