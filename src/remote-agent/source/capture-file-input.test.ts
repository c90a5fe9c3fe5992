import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SharkError } from '../../model/errors.ts';
import { readCaptureFile, recyclableCaptureFile } from './capture-file-input.ts';

const dir = mkdtempSync(join(tmpdir(), 'shark-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function failure(chunks: AsyncIterable<Uint8Array>): Promise<SharkError> {
  try {
    await collect(chunks);
  } catch (err) {
    assert.ok(err instanceof SharkError, String(err));
    return err;
  }
  assert.fail('expected an error');
}

/** Descriptors of this process open on `file`. */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

test('a file comes in chunks of at most the chunk size, none reused, then the file is closed', async () => {
  const file = join(dir, 'bytes.bin');
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
  writeFileSync(file, bytes);
  const chunks = await collect(readCaptureFile(file, 300));
  assert.deepEqual(chunks.map((c) => c.length), [300, 300, 300, 100]);
  // Collected first, compared after: no chunk was overwritten by a later read (parsers keep views).
  assert.deepEqual(Buffer.concat(chunks), bytes);
  assert.equal(fdsOn(file), 0);
  // Stopping early (a reader that has enough) closes it too.
  for await (const chunk of readCaptureFile(file, 300)) {
    assert.equal(chunk.length, 300);
    assert.equal(fdsOn(file), 1);
    break;
  }
  assert.equal(fdsOn(file), 0);
});

test('recyclable chunks: once chunks are handed back, reads take the recycled size, in one buffer read into again', async () => {
  const file = join(dir, 'growing.bin');
  const bytes = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 13) & 0xff));
  writeFileSync(file, bytes);
  const { chunks, recycle } = recyclableCaptureFile(file, 300, 500);
  const got: Uint8Array[] = [];
  const copies: Buffer[] = [];
  for await (const chunk of chunks) {
    got.push(chunk);
    copies.push(Buffer.from(chunk));
    recycle(chunk);
  }
  assert.deepEqual(got.map((c) => c.length), [300, 500, 500, 500, 200]);
  assert.notEqual(got[1]!.buffer, got[0]!.buffer, 'the first, smaller buffer is let go');
  assert.ok(got.slice(2).every((c) => c.buffer === got[1]!.buffer), 'one buffer of the recycled size, read into again');
  assert.deepEqual(Buffer.concat(copies), bytes);
});

test('recyclable chunks: a chunk handed back is read into again, one kept (or an older one handed back) never is', async () => {
  const file = join(dir, 'recycled.bin');
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
  writeFileSync(file, bytes);
  const { chunks, recycle } = recyclableCaptureFile(file, 300, 300);
  const got: Uint8Array[] = [];
  const copies: Buffer[] = [];
  for await (const chunk of chunks) {
    got.push(chunk);
    copies.push(Buffer.from(chunk));
    if (got.length === 1) recycle(chunk);
    // The second chunk is kept: not handed back.
    if (got.length === 3) recycle(got[1]!);
  }
  assert.deepEqual(got.map((c) => c.length), [300, 300, 300, 100]);
  assert.equal(got[1]!.buffer, got[0]!.buffer, 'the chunk handed back was read into again');
  assert.notEqual(got[2]!.buffer, got[1]!.buffer, 'a kept chunk is not read into');
  assert.ok(got[3]!.buffer !== got[1]!.buffer && got[3]!.buffer !== got[2]!.buffer, 'an older chunk handed back is not read into');
  assert.deepEqual(Buffer.concat(copies), bytes);
  assert.deepEqual(Buffer.from(got[1]!), bytes.subarray(300, 600), 'the kept chunk still holds its bytes');
  assert.equal(fdsOn(file), 0);
});

test('a directory is a usage error naming it and what to name instead', async () => {
  const err = await failure(readCaptureFile(dir));
  assert.equal(err.code, 'USAGE');
  assert.equal(err.message, `${dir} is a directory, not a capture file: name the capture files in it (e.g. ${dir}/*.pcap)`);
  assert.equal(err.context['input'], dir);
});

test('file-system errors name the path, the errno and what to check', async () => {
  const missing = await failure(readCaptureFile(join(dir, 'nope.pcap')));
  assert.equal(missing.code, 'IO_ERROR');
  assert.equal(missing.message, `cannot read ${join(dir, 'nope.pcap')}: ENOENT (check the path)`);
  const notDir = join(dir, 'plain');
  writeFileSync(notDir, '');
  const under = await failure(readCaptureFile(join(notDir, 'x.pcap')));
  assert.match(under.message, /: ENOTDIR \(check the path\)$/);
});

test('/dev/null reads as an empty stream', async () => {
  assert.deepEqual(await collect(readCaptureFile('/dev/null')), []);
});
