import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharkError } from '../../model/errors.ts';
import { newCaptureStats } from '../stats.ts';
import { CaptureFileParser, readCaptureStream } from './capture-file.ts';
import { concat } from '../../../test/helpers/packets.ts';
import { epb, idb, nrb, pcapFile, shb, spb } from '../../../test/helpers/capture-files.ts';
import { RecordingSink, type SeenFrame, sharkErrorCode } from '../../../test/helpers/frame-sink.ts';

const codeOf = sharkErrorCode;

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

/** A pcap file and the offsets where each record ends (the file header is the first "record"). */
function samplePcap(): { file: Uint8Array; boundaries: number[] } {
  const sizes = [60, 1, 0, 1514, 77, 300];
  const file = pcapFile(
    { littleEndian: false },
    sizes.map((n, i) => ({ sec: 1000 + i, frac: i * 7, data: bytes(n, i) })),
  );
  const boundaries = [24];
  for (const n of sizes) boundaries.push(boundaries[boundaries.length - 1] + 16 + n);
  assert.equal(boundaries[boundaries.length - 1], file.length);
  return { file, boundaries };
}

function samplePcapng(): { file: Uint8Array; boundaries: number[] } {
  const blocks = [
    shb(true),
    idb(true, { linkType: 1 }),
    epb(true, 0, 0, 1, bytes(61, 1)),
    nrb(true, [{ address: [10, 0, 0, 1], names: ['a.example'] }]),
    idb(true, { linkType: 101, tsresol: 9 }),
    epb(true, 1, 0, 2000, bytes(1, 2)),
    spb(true, bytes(90, 3)),
    epb(true, 0, 0, 3, bytes(1500, 4)),
  ];
  const boundaries: number[] = [];
  let end = 0;
  for (const b of blocks) boundaries.push((end += b.length));
  return { file: concat(...blocks), boundaries };
}

function readAll(chunks: readonly Uint8Array[]): { frames: SeenFrame[]; names: number; end: ReturnType<CaptureFileParser['end']> } {
  const sink = new RecordingSink();
  const stats = newCaptureStats();
  const parser = new CaptureFileParser(sink, stats);
  for (const c of chunks) parser.push(c);
  const end = parser.end();
  assert.equal(stats.packets, sink.frames.length);
  return { frames: sink.frames, names: sink.nameRecords.length, end };
}

for (const [name, sample] of [
  ['pcap', samplePcap],
  ['pcapng', samplePcapng],
] as const) {
  test(`${name}: pushing byte by byte and splitting at every offset give the same frames`, () => {
    const { file } = sample();
    const whole = readAll([file]);
    assert.ok(whole.frames.length >= 4);
    const oneByOne: Uint8Array[] = [];
    for (let i = 0; i < file.length; i++) oneByOne.push(file.subarray(i, i + 1));
    assert.deepEqual(readAll(oneByOne), whole);
    for (let cut = 0; cut <= file.length; cut++) {
      assert.deepEqual(readAll([file.subarray(0, cut), file.subarray(cut)]), whole, `split at ${cut}`);
    }
    // Three-way splits with awkward sizes, including empty chunks.
    for (const step of [3, 7, 13, 64, 1000]) {
      const chunks: Uint8Array[] = [new Uint8Array(0)];
      for (let i = 0; i < file.length; i += step) chunks.push(file.subarray(i, i + step), new Uint8Array(0));
      assert.deepEqual(readAll(chunks), whole, `chunks of ${step}`);
    }
  });

  test(`${name}: a file cut at every offset never throws past the header and says when it is truncated`, () => {
    const { file, boundaries } = sample();
    const whole = readAll([file]);
    const headerEnd = boundaries[0];
    for (let cut = 0; cut <= file.length; cut++) {
      const sink = new RecordingSink();
      const parser = new CaptureFileParser(sink, newCaptureStats());
      parser.push(file.subarray(0, cut));
      if (cut < headerEnd) {
        // Fewer bytes than a file header (or none at all): not a capture.
        assert.equal(codeOf(() => parser.end()), 'CAPTURE_NOT_A_CAPTURE', `cut at ${cut}`);
        continue;
      }
      const end = parser.end();
      const lastBoundary = Math.max(...boundaries.filter((b) => b <= cut));
      assert.deepEqual(end, { truncated: cut !== lastBoundary, trailingBytes: cut - lastBoundary }, `cut at ${cut}`);
      // Exactly the frames of the complete records came out, identical to the uncut file's.
      assert.deepEqual(sink.frames, whole.frames.slice(0, sink.frames.length), `cut at ${cut}`);
    }
    assert.equal(readAll([file]).end.truncated, false);
  });
}

test('not a capture: bad magic on the first push, empty input, too few bytes', () => {
  const sink = new RecordingSink();
  const stats = newCaptureStats();
  assert.equal(codeOf(() => new CaptureFileParser(sink, stats).push(new TextEncoder().encode('GET / HTTP/1.1\r\n'))), 'CAPTURE_NOT_A_CAPTURE');
  assert.equal(codeOf(() => new CaptureFileParser(sink, stats).end()), 'CAPTURE_NOT_A_CAPTURE');
  const three = new CaptureFileParser(sink, stats);
  three.push(Uint8Array.of(0xd4, 0xc3, 0xb2));
  assert.equal(three.format, null);
  assert.equal(codeOf(() => three.end()), 'CAPTURE_NOT_A_CAPTURE');
  // The magic split over pushes is still checked once 4 bytes are in.
  const split = new CaptureFileParser(sink, stats);
  split.push(Uint8Array.of(0x7f));
  split.push(Uint8Array.of(0x45));
  assert.equal(codeOf(() => split.push(Uint8Array.of(0x4c, 0x46))), 'CAPTURE_NOT_A_CAPTURE');
  assert.equal(codeOf(() => split.end()), 'CAPTURE_NOT_A_CAPTURE');
  assert.equal(stats.packets, 0);
});

test('readCaptureStream reads an async stream of chunks', async () => {
  const { file } = samplePcapng();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < file.length; i += 100) yield file.slice(i, i + 100);
  }
  const sink = new RecordingSink();
  const stats = newCaptureStats();
  const result = await readCaptureStream(chunks(), sink, stats);
  assert.deepEqual(result, { truncated: false, format: 'pcapng' });
  assert.equal(stats.packets, 4);
  assert.equal(sink.nameRecords.length, 1);
  await assert.rejects(
    readCaptureStream((async function* () {})(), sink, stats),
    (err: unknown) => err instanceof SharkError && err.code === 'CAPTURE_NOT_A_CAPTURE',
  );
  async function* cutShort(): AsyncGenerator<Uint8Array> {
    yield file.subarray(0, file.length - 3);
  }
  const cut = await readCaptureStream(cutShort(), new RecordingSink(), newCaptureStats());
  assert.deepEqual(cut, { truncated: true, format: 'pcapng' });
});

test('frames are views into the pushed chunk when a record lies inside it (no copy)', () => {
  const { file } = samplePcap();
  let sameBuffer = 0;
  const parser = new CaptureFileParser(
    {
      frame: (f) => {
        if (f.data.buffer === file.buffer) sameBuffer++;
      },
      names: () => {},
    },
    newCaptureStats(),
  );
  parser.push(file);
  assert.equal(sameBuffer, 6);
});
