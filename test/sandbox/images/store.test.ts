/**
 * The local image store (issue 14), for real: every image of the catalogue built from this
 * machine's packages into a fresh cache, reused without a rebuild, the same ids from a second fresh
 * cache, and each image run (chroot) for what it is for. Needs root (file owners, chroot, a mount
 * namespace for /dev) and the Debian packages .ci/run installs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { missingCommand, missingRoot, skipFor } from '../../helpers/requirements.ts';
import { CATALOG, type ImageDefinition } from './catalog.ts';
import { MissingPackageError } from './dpkg.ts';
import { defaultImageDir, ImageStore, requireImages } from './store.ts';
import type { SandboxImage } from './types.ts';

const skip = skipFor(missingRoot('building the sandbox images (file owners, chroot)') ?? missingCommand('unshare') ?? requireImages());
if (skip) process.stderr.write(`skipping the sandbox image store tests: ${skip}\n`);

const scratch = skip ? '' : mkdtempSync(join(tmpdir(), `ks-${process.pid}-images-`));
const cacheA = join(scratch, 'a');
const cacheB = join(scratch, 'b');
let store: ImageStore;
const firstLines: string[] = [];
let firstBuildMs = 0;

/**
 * Runs `argv` in the image as a container would see it: chrooted, with the host's /dev bound on the
 * tree's empty /dev inside a private mount namespace (gone with the command; the cached tree is not
 * written to).
 */
function runIn(image: SandboxImage, argv: string[], user?: string): { code: number | null; out: string } {
  const script = 'mount --bind /dev "$0/dev" && exec chroot $CHROOT_USER "$0" "$@"';
  const r = spawnSync('unshare', ['--mount', '--fork', '--', 'sh', '-c', script, image.rootfs, ...argv], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CHROOT_USER: user === undefined ? '' : `--userspec=${user}` },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function image(ref: string): SandboxImage {
  const found = store.get(ref);
  assert.ok(found, `${ref} is built`);
  return found;
}

/** Every entry of a tree: path, kind, mode, owner, size or link target (what a reproducible build must repeat). */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(path)}` : st.isDirectory() ? 'dir' : `${st.size}`;
      out.push(`${path.slice(root.length)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

describe('the sandbox image store', { skip }, () => {
  before(async () => {
    store = new ImageStore(cacheA);
    const started = Date.now();
    await store.ensure((line) => firstLines.push(line));
    firstBuildMs = Date.now() - started;
  });
  after(() => {
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  test('the first ensure builds every image of the catalogue into the cache, one progress line each', (t) => {
    t.diagnostic(`first build of ${CATALOG.length} images: ${(firstBuildMs / 1000).toFixed(1)} s`);
    for (const line of firstLines) t.diagnostic(line);
    assert.match(firstLines[0]!, new RegExp(`^building ${CATALOG.length} sandbox images .* into ${cacheA}`));
    assert.equal(firstLines.length, 1 + CATALOG.length);
    for (const [i, def] of CATALOG.entries()) {
      assert.match(firstLines[i + 1]!, new RegExp(`^built ${def.ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(${i + 1}/${CATALOG.length}\\): \\d+ (packages|files), [\\d.]+ [KMG]?i?B, [\\d.]+ s$`));
    }
    assert.deepEqual(store.refs(), CATALOG.map((d) => store.get(d.ref)!.ref));
    for (const ref of store.refs()) {
      const img = image(ref);
      assert.match(img.id, /^sha256:[0-9a-f]{64}$/);
      assert.equal(img.rootfs, join(cacheA, img.id.slice('sha256:'.length), 'rootfs'));
      const meta = JSON.parse(readFileSync(join(img.rootfs, '..', 'image.json'), 'utf8')) as { id: string; ref: string };
      assert.deepEqual([meta.id, meta.ref], [img.id, ref]);
      assert.equal(statSync(join(img.rootfs, 'tmp')).mode & 0o7777, 0o1777, `${ref}: /tmp is 1777`);
      for (const dir of ['proc', 'sys', 'dev']) assert.deepEqual(readdirSync(join(img.rootfs, dir)), [], `${ref}: /${dir} is an empty mount point`);
    }
    // Nothing half-built is left beside the images.
    assert.deepEqual(readdirSync(cacheA).sort(), [...store.refs().map((ref) => image(ref).id.slice('sha256:'.length)), 'file-hashes.json'].sort());
  });

  test('a second ensure over the same cache reuses every image: no rebuild, same folders', async (t) => {
    const before = new Map(store.refs().map((ref) => {
      const folder = join(image(ref).rootfs, '..');
      return [ref, `${statSync(folder).ino} ${statSync(folder).mtimeMs} ${statSync(join(folder, 'image.json')).mtimeMs}`] as const;
    }));
    const again = new ImageStore(cacheA);
    const lines: string[] = [];
    const started = Date.now();
    await again.ensure((line) => lines.push(line));
    const reuseMs = Date.now() - started;
    t.diagnostic(`reusing ${CATALOG.length} images: ${reuseMs} ms`);
    assert.deepEqual(lines, [`reusing ${CATALOG.length} sandbox images from ${cacheA}`]);
    for (const ref of again.refs()) {
      const img = again.get(ref)!;
      assert.deepEqual(img, image(ref));
      const folder = join(img.rootfs, '..');
      assert.equal(`${statSync(folder).ino} ${statSync(folder).mtimeMs} ${statSync(join(folder, 'image.json')).mtimeMs}`, before.get(ref), `${ref} was not rebuilt`);
    }
    assert.ok(reuseMs < 5000, `reuse took ${reuseMs} ms`);
  });

  test('a second fresh cache ($KSHARK_SANDBOX_IMAGES) gives the same ids and the same trees: builds are reproducible', async () => {
    assert.equal(defaultImageDir({ KSHARK_SANDBOX_IMAGES: cacheB }), cacheB);
    const other = new ImageStore(defaultImageDir({ KSHARK_SANDBOX_IMAGES: cacheB }));
    await other.ensure();
    for (const ref of store.refs()) {
      const a = image(ref);
      const b = other.get(ref)!;
      assert.equal(b.id, a.id, `${ref}: same id`);
      assert.ok(b.rootfs.startsWith(cacheB));
      assert.deepEqual(listing(b.rootfs), listing(a.rootfs), `${ref}: the same tree`);
    }
  });

  test('get() resolves references as the kubelet does; an image not in the catalogue is undefined (ErrImagePull)', () => {
    assert.equal(store.get('busybox:1.36')?.ref, 'docker.io/library/busybox:1.36');
    assert.deepEqual(store.get('docker.io/library/busybox:1.36'), store.get('busybox:1.36'));
    // Another tag of the same image: its id and tree, reported under the tag asked for.
    const alias = store.get('node:24-bookworm-slim');
    assert.equal(alias?.ref, 'docker.io/library/node:24-bookworm-slim');
    assert.equal(alias?.id, store.get('node:24-slim')?.id);
    assert.equal(alias?.rootfs, store.get('node:24-slim')?.rootfs);
    assert.equal(store.get('node:24-slim')?.ref, 'docker.io/library/node:24-slim');
    assert.equal(store.get('registry.k8s.io/pause:3.10')?.config.entrypoint.join(' '), '/catatonit -P');
    assert.equal(store.get('busybox'), undefined, 'busybox:latest is not in the catalogue');
    assert.equal(store.get('busybox:1.37'), undefined);
    assert.equal(store.get('nicolaka/netshoot'), undefined);
    assert.equal(store.get('ghcr.io/example/app:1'), undefined);
  });

  test('node:24-slim runs the project\'s Node 24 and has the tools tap\'s upload script uses, and no host-only tools', () => {
    const node = image('node:24-slim');
    assert.deepEqual(node.config.cmd, ['node']);
    assert.ok(node.config.env.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
    const version = runIn(node, ['/usr/local/bin/node', '-e', 'console.log(process.version)']);
    assert.equal(version.code, 0, version.out);
    assert.match(version.out, /^v24\.\d+\.\d+\n$/);
    // The upload's tools, each actually run (nothing written: the tree is the cached image).
    const tools = runIn(node, ['sh', '-c', 'echo hi | gzip -c | gzip -dc | head -c 2 | sha256sum | wc -c; mktemp -u; tar --version | head -1; rm --version | head -1']);
    assert.equal(tools.code, 0, tools.out);
    assert.match(tools.out, /^68\n\/tmp\/tmp\.\w+\ntar \(GNU tar\).*\nrm \(GNU coreutils\)/);
    for (const tool of ['curl', 'tshark', 'tcpdump', 'kubectl', 'python3', 'apt-get']) {
      const r = runIn(node, ['sh', '-c', `command -v ${tool}`]);
      assert.ok(r.code !== 0 && r.out === '', `${tool} is not in node:24-slim: ${r.code} ${r.out}`);
    }
  });

  test('busybox:1.36 is Debian\'s busybox with a link per applet', () => {
    const busybox = image('busybox:1.36');
    assert.deepEqual(busybox.config.cmd, ['sh']);
    const r = runIn(busybox, ['sh', '-c', 'echo $((6 * 7)); busybox | head -1; ls /bin/wget /bin/nc /bin/ip >/dev/null && echo applets']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^42\nBusyBox v1\.\d+.*\napplets\n$/);
    assert.equal(existsSync(join(busybox.rootfs, 'usr/bin/bash')), false, 'no bash: busybox only');
  });

  test('debian:12-slim, dig, nginx and tls run what they are for', () => {
    const cases: [string, string[], RegExp][] = [
      ['debian:12-slim', ['bash', '-c', 'echo $BASH_VERSION; awk "BEGIN { print 6 * 7 }"'], /^5\.2\.\S+\n42\n$/],
      ['sandbox.local/dig:1', ['dig', '-v'], /^DiG 9\.\d+/],
      ['sandbox.local/nginx:1', ['nginx', '-v'], /^nginx version: nginx\/1\.\d+/],
      ['sandbox.local/nginx:1', ['nginx', '-t'], /test is successful/],
      ['sandbox.local/tls:1', ['openssl', 'version'], /^OpenSSL 3\./],
      ['sandbox.local/tls:1', ['curl', '--version'], /^curl \d+\.\d+.*OpenSSL/],
      ['sandbox.local/tls:1', ['python3', '-c', 'import ssl; print(ssl.OPENSSL_VERSION)'], /^OpenSSL 3\./],
      ['sandbox.local/tls:1', ['nginx', '-v'], /^nginx version/],
    ];
    for (const [ref, argv, expected] of cases) {
      const r = runIn(image(ref), argv);
      assert.equal(r.code, 0, `${ref} ${argv.join(' ')}: ${r.out}`);
      assert.match(r.out, expected, `${ref} ${argv.join(' ')}`);
    }
  });

  test('the distroless-like images (dnsmasq, shop, pause) run their one program and have no shell', () => {
    const dnsmasq = image('sandbox.local/dnsmasq:1');
    const version = runIn(dnsmasq, ['/usr/sbin/dnsmasq', '--version']);
    assert.equal(version.code, 0, version.out);
    assert.match(version.out, /^Dnsmasq version 2\.\d+/);

    const pause = image('registry.k8s.io/pause:3.10');
    const catatonit = runIn(pause, ['/catatonit', '--version']);
    assert.equal(catatonit.code, 0, catatonit.out);
    assert.match(catatonit.out, /catatonit/);
    assert.deepEqual(pause.config.user, { uid: 65535, gid: 65535 });

    for (const img of [dnsmasq, pause, image('sandbox.local/shop:1')]) {
      for (const shell of ['bin/sh', 'bin/bash', 'bin/busybox', 'usr/bin/dash']) assert.equal(existsSync(join(img.rootfs, shell)), false, `${img.ref} has no /${shell}`);
      const r = runIn(img, ['sh', '-c', 'true']);
      assert.notEqual(r.code, 0, `${img.ref}: sh must not run`);
    }
  });

  test('sandbox.local/dnsmasq:1 serves DNS as its entrypoint runs it (its own network namespace, dig on the host side)', { skip: skipFor(missingCommand('dig')) }, () => {
    const dnsmasq = image('sandbox.local/dnsmasq:1');
    const argv = [...dnsmasq.config.entrypoint, ...dnsmasq.config.cmd, '--no-resolv', '--address=/shop.test/10.244.0.10'];
    const script = 'ip link set lo up && mount --bind /dev "$0/dev" && { chroot "$0" "$@" & sleep 0.5; dig @127.0.0.1 shop.test +short +time=2; kill $!; }';
    const r = spawnSync('unshare', ['--net', '--mount', '--fork', '--', 'sh', '-c', script, dnsmasq.rootfs, ...argv], { encoding: 'utf8', timeout: 30_000 });
    assert.match(r.stdout, /^10\.244\.0\.10$/m, r.stdout + r.stderr);
  });

  test('sandbox.local/shop:1 runs the shop as 65532 (nonroot) from /app with the project\'s Node', () => {
    const shop = image('sandbox.local/shop:1');
    assert.deepEqual(shop.config.user, { uid: 65532, gid: 65532 });
    assert.deepEqual(shop.config.entrypoint, ['/usr/local/bin/node']);
    assert.deepEqual(shop.config.cmd, ['/app/shop-service.mjs']);
    assert.equal(shop.config.workingDir, '/app');
    assert.deepEqual(readdirSync(join(shop.rootfs, 'app')).sort(), ['memory-app.mjs', 'shop-service.mjs']);
    const r = runIn(shop, ['/usr/local/bin/node', '-e', 'const u = require("os").userInfo(); console.log(process.version, u.uid, u.username, u.homedir); require("fs").accessSync("/app/shop-service.mjs")'], '65532:65532');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^v24\.\d+\.\d+ 65532 nonroot \/home\/nonroot\n$/);
    const passwd = readFileSync(join(shop.rootfs, 'etc/passwd'), 'utf8');
    assert.match(passwd, /^root:x:0:0:/m);
    assert.match(passwd, /^nobody:x:65534:65534:/m);
  });
});

describe('the sandbox image store, building', { skip }, () => {
  test('an image that needs a package this machine does not have fails naming it and the apt-get line', async () => {
    const broken: ImageDefinition = { ref: 'sandbox.local/broken:1', packages: ['bash', 'kshark-no-such-package'], users: 'none', config: CATALOG[1]!.config };
    const dir = join(scratch, 'broken');
    await assert.rejects(new ImageStore(dir, [broken]).ensure(), (e: unknown) => {
      assert.ok(e instanceof MissingPackageError);
      assert.match(e.message, /sandbox\.local\/broken:1 needs the Debian package kshark-no-such-package, which is not installed on this machine: run apt-get install -y --no-install-recommends kshark-no-such-package/);
      return true;
    });
    assert.equal(requireImages([broken]), new MissingPackageError('sandbox.local/broken:1', 'kshark-no-such-package').message);
    assert.deepEqual(readdirSync(dir), [], 'nothing built');
  });

  test('two stores building the same images at once both get whole images; dead builds are swept', async () => {
    const small = CATALOG.filter((d) => d.ref === 'busybox:1.36' || d.ref === 'registry.k8s.io/pause:3.10');
    const dir = join(scratch, 'race');
    mkdirSync(dir);
    // A build folder of a process that is gone (killed mid-build).
    const gone = spawnSync('true').pid!;
    mkdirSync(join(dir, `.build-${gone}-stale`, 'rootfs'), { recursive: true });
    const [one, two] = [new ImageStore(dir, small), new ImageStore(dir, small)];
    await Promise.all([one.ensure(), two.ensure()]);
    for (const def of small) {
      assert.deepEqual(two.get(def.ref), one.get(def.ref));
      const r = runIn(one.get(def.ref)!, def.ref.startsWith('busybox') ? ['sh', '-c', 'echo ok'] : ['/catatonit', '--version']);
      assert.equal(r.code, 0, r.out);
    }
    assert.deepEqual(readdirSync(dir).sort(), [...small.map((d) => one.get(d.ref)!.id.slice('sha256:'.length)), 'file-hashes.json'].sort(), 'two image folders, no temp folders');
  });
});

test('the image tree resolves absolute symlinks inside itself: a package link never leads a write onto the host', { skip: skipFor(missingRoot('writing files owned by root')) }, async () => {
  const { RootfsTree } = await import('./tree.ts');
  const dir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-tree-`));
  try {
    const outside = join(dir, 'host');
    const root = join(dir, 'rootfs');
    const tree = new RootfsTree(root);
    await tree.mkdir('/');
    await tree.symlink('/etc/conf', outside); // absolute: means <root><outside> in the image
    await tree.symlink('/usr/lib64', '../../../..'); // relative, climbing past the root
    await tree.writeFile('/etc/conf/file', 'in the image');
    await tree.writeFile('/usr/lib64/x', 'at the top');
    assert.equal(existsSync(outside), false, 'nothing written on the host');
    assert.equal(readFileSync(join(root, outside, 'file'), 'utf8'), 'in the image');
    assert.equal(readFileSync(join(root, 'x'), 'utf8'), 'at the top');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
