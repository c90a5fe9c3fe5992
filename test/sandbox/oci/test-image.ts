/**
 * A throwaway image for the runtime's own tests, built in a few milliseconds from this machine:
 * busybox with its applets as symlinks, the shared libraries of busybox and of the pinned Node
 * (whose binary the tests bind-mount read-only, as the sandbox mounts the checkout), /etc/passwd
 * and /etc/group with root and nobody. The image store of ../images builds the real ones.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SandboxImage } from '../images/types.ts';

/** The libraries `ldd` says a binary needs (host paths). */
function librariesOf(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Builds the tree under `dir` (which must not exist) for binaries `extra` as well as busybox. */
export function buildTestImage(dir: string, extra: readonly string[] = []): SandboxImage {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'work']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  const applets = spawnSync('/usr/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  const libs = new Set([...librariesOf('/usr/bin/busybox'), ...extra.flatMap(librariesOf)]);
  for (const lib of libs) {
    mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(rootfs, lib));
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  return {
    ref: 'sandbox.local/oci-test:1',
    id: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
    rootfs,
    config: { entrypoint: [], cmd: ['sh'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], user: { uid: 0, gid: 0 }, workingDir: '/' },
  };
}
