import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { baseName, parseMaps } from './proc-files.ts';

describe('parseMaps', () => {
  const text = [
    '55d0c0a00000-55d0c0a2a000 r--p 00000000 fe:00 5592081                    /usr/bin/curl',
    '7f741b42e000-7f741b48b000 r-xp 0001f000 fe:00 5595142                    /usr/lib/x86_64-linux-gnu/libssl.so.3',
    '7f741b4b8000-7f741b4b9000 rw-p 00000000 00:00 0 ',
    '7ffd5e3d1000-7ffd5e3f2000 rw-p 00000000 00:00 0                          [stack]',
    '7f0000000000-7f0000001000 r-xp 00000000 00:2a 77                         /tmp/ks/lib dir/libssl.so.3 (deleted)',
    '7f0000002000-7f0000003000 r-xp 00000000 00:2a 78                         /opt/cut-off',
  ].join('\n');

  it('keeps file mappings with their range, exec bit, inode and path; marks deleted files; drops a cut last line', () => {
    assert.deepEqual(parseMaps(text), [
      { range: '55d0c0a00000-55d0c0a2a000', executable: false, inode: 5592081, path: '/usr/bin/curl', deleted: false },
      { range: '7f741b42e000-7f741b48b000', executable: true, inode: 5595142, path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', deleted: false },
      { range: '7f0000000000-7f0000001000', executable: true, inode: 77, path: '/tmp/ks/lib dir/libssl.so.3', deleted: true },
    ]);
    assert.equal(parseMaps(`${text}\n`).length, 4, 'a complete last line counts');
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => Array.isArray(parseMaps(s))));
  });

  it('baseName', () => {
    assert.equal(baseName('/usr/lib/libssl.so.3'), 'libssl.so.3');
    assert.equal(baseName('libssl.so.3'), 'libssl.so.3');
  });
});
