/**
 * Finding a container's libssl files inside its root: symlinks (absolute, relative, `..` past the
 * root, loops) resolved as the container sees them, never into the agent's own filesystem; the
 * container's ld.so.cache first, the standard folders without one.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveInRoot, rootLibssls } from './root-libraries.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'ks-root-'));
  dirs.push(root);
  mkdirSync(join(root, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  // Merged /usr, as Debian has it, with an absolute link: it must mean the root's /usr/lib.
  symlinkSync('/usr/lib', join(root, 'lib'));
  writeFileSync(join(root, 'usr/lib/x86_64-linux-gnu/libssl.so.3'), 'ELF?');
  return root;
}

test('resolveInRoot: absolute and relative links stay inside the root; missing and looping paths are null', () => {
  const root = fakeRoot();
  assert.equal(resolveInRoot(root, '/lib/x86_64-linux-gnu/libssl.so.3'), '/usr/lib/x86_64-linux-gnu/libssl.so.3');
  symlinkSync('../../../../../../etc/passwd', join(root, 'usr/lib/x86_64-linux-gnu/escape'));
  assert.equal(resolveInRoot(root, '/lib/x86_64-linux-gnu/escape'), null, "the root's /etc/passwd does not exist: the agent's is not reached");
  writeFileSync(join(root, 'etc/passwd'), '');
  assert.equal(resolveInRoot(root, '/lib/x86_64-linux-gnu/escape'), '/etc/passwd');
  symlinkSync('/tmp', join(root, 'abs'));
  assert.equal(resolveInRoot(root, '/abs'), null, "/tmp of the agent is not the root's");
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  assert.equal(resolveInRoot(root, '/loop1/x'), null);
  assert.equal(resolveInRoot(root, '/nothing/here'), null);
});

test('rootLibssls: standard folders without a cache, each file once; with a cache, only what it names', () => {
  const root = fakeRoot();
  assert.deepEqual(rootLibssls(root), [{ soname: 'libssl.so.3', path: '/usr/lib/x86_64-linux-gnu/libssl.so.3' }]);
  // A cache that names no libssl: the linker would load none, so none is planned.
  const head = Buffer.alloc(48);
  head.write('glibc-ld.so.cache1.1', 0, 'latin1');
  writeFileSync(join(root, 'etc/ld.so.cache'), head);
  assert.deepEqual(rootLibssls(root), []);
  // A cache that is a link out of the root: read inside it (absent there) -> the folders again.
  rmSync(join(root, 'etc/ld.so.cache'));
  symlinkSync('/etc/ld.so.cache', join(root, 'etc/ld.so.cache'));
  assert.deepEqual(rootLibssls(root), [{ soname: 'libssl.so.3', path: '/usr/lib/x86_64-linux-gnu/libssl.so.3' }]);
});

test("rootLibssls('/'): this machine's libssl.so.3 through its real ld.so.cache", () => {
  const found = rootLibssls('');
  assert.ok(found.some((f) => f.soname === 'libssl.so.3' && f.path === '/usr/lib/x86_64-linux-gnu/libssl.so.3'), JSON.stringify(found));
});
