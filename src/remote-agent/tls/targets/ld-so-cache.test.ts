/**
 * The ld.so.cache reader on this machine's real cache (compared with `ldconfig -p`), on a cache
 * written after an old-format table, and on hostile bytes: cut, lying counts and offsets, random.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { ldCacheEntries } from './ld-so-cache.ts';

const REAL = '/etc/ld.so.cache';
const skipReal = existsSync(REAL) ? false : 'this machine has no /etc/ld.so.cache';

/** A new-format cache with the given x86-64 entries (flags overridable), strings after the table. */
function cache(entries: readonly { soname: string; path: string; flags?: number }[]): Buffer {
  const table = 48 + entries.length * 24;
  const strings: Buffer[] = [];
  let at = table;
  const offsets = entries.map((e) => {
    const key = at;
    strings.push(Buffer.from(`${e.soname}\0`, 'latin1'));
    at += e.soname.length + 1;
    const value = at;
    strings.push(Buffer.from(`${e.path}\0`, 'latin1'));
    at += e.path.length + 1;
    return { key, value };
  });
  const head = Buffer.alloc(table);
  head.write('glibc-ld.so.cache1.1', 0, 'latin1');
  head.writeUInt32LE(entries.length, 20);
  head.writeUInt32LE(at - table, 24);
  entries.forEach((e, i) => {
    head.writeInt32LE(e.flags ?? 0x0303, 48 + i * 24);
    head.writeUInt32LE(offsets[i]!.key, 48 + i * 24 + 4);
    head.writeUInt32LE(offsets[i]!.value, 48 + i * 24 + 8);
  });
  return Buffer.concat([head, ...strings]);
}

test('the real cache gives what ldconfig -p says for libssl and libcrypto', { skip: skipReal }, () => {
  const wanted = (s: string): boolean => /^lib(ssl|crypto)\.so\.\d/.test(s);
  const ours = ldCacheEntries(readFileSync(REAL), wanted).map((e) => `${e.soname} ${e.path}`).sort();
  const theirs = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s+(\S+) \(libc6,x86-64[^)]*\) => (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && wanted(m[1]!))
    .map((m) => `${m[1]} ${m[2]}`)
    .sort();
  assert.ok(theirs.length > 0, 'ldconfig -p lists no libssl/libcrypto here');
  assert.deepEqual(ours, theirs);
});

test('entries: only x86-64 libc6 ones the filter accepts; after an old-format table too', () => {
  const bytes = cache([
    { soname: 'libssl.so.3', path: '/usr/lib/x86_64-linux-gnu/libssl.so.3' },
    { soname: 'libssl.so.3', path: '/usr/lib/i386-linux-gnu/libssl.so.3', flags: 0x0003 },
    { soname: 'libz.so.1', path: '/usr/lib/libz.so.1' },
    { soname: 'libssl.so.1.1', path: 'relative/not/taken' },
  ]);
  const wanted = (s: string): boolean => s.startsWith('libssl');
  assert.deepEqual(ldCacheEntries(bytes, wanted), [{ soname: 'libssl.so.3', path: '/usr/lib/x86_64-linux-gnu/libssl.so.3' }]);
  // Old header (16 bytes) + 3 old entries (36) = 52, the new header at 56; its offsets are its own.
  const old = Buffer.alloc(56);
  old.write('ld.so-1.7.0', 0, 'latin1');
  old.writeUInt32LE(3, 12);
  assert.deepEqual(ldCacheEntries(Buffer.concat([old, bytes]), wanted), [{ soname: 'libssl.so.3', path: '/usr/lib/x86_64-linux-gnu/libssl.so.3' }]);
});

test('hostile bytes: cut, lying counts and offsets, unterminated strings, random: [] or valid entries, never a throw', () => {
  const good = cache([{ soname: 'libssl.so.3', path: '/lib/libssl.so.3' }]);
  const all = (): boolean => true;
  for (let n = 0; n < good.length; n++) assert.ok(ldCacheEntries(good.subarray(0, n), all).length <= 1);
  assert.deepEqual(ldCacheEntries(good.subarray(0, good.length - 1), all), [], 'the path lost its NUL');
  const lying = Buffer.from(good);
  lying.writeUInt32LE(0xffffffff, 20);
  assert.deepEqual(ldCacheEntries(lying, all), []);
  const farKey = Buffer.from(good);
  farKey.writeUInt32LE(0xfffffff0, 48 + 4);
  assert.deepEqual(ldCacheEntries(farKey, all), []);
  const oldLying = Buffer.alloc(64);
  oldLying.write('ld.so-1.7.0', 0, 'latin1');
  oldLying.writeUInt32LE(0xffffffff, 12);
  assert.deepEqual(ldCacheEntries(oldLying, all), []);
  assert.deepEqual(ldCacheEntries(Buffer.alloc(0), all), []);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(600), fc.uint8Array({ maxLength: 8 }), (noise, at, patch) => {
      const bytes = Buffer.from(good);
      Buffer.from(patch).copy(bytes, Math.min(at, bytes.length));
      for (const input of [bytes, Buffer.concat([good.subarray(0, 20), Buffer.from(noise)])]) {
        for (const e of ldCacheEntries(input, all)) assert.ok(e.path.startsWith('/') && e.path.length <= 4096);
      }
    }),
    { numRuns: 2000 },
  );
});
