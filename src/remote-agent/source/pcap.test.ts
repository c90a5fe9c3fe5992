import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharkError } from '../../model/errors.ts';
import { newCaptureStats } from '../stats.ts';
import { CaptureFileParser } from './capture-file.ts';
import { pcapFile, type PcapPacket } from '../../../test/helpers/capture-files.ts';
import { RecordingSink, sharkErrorCode } from '../../../test/helpers/frame-sink.ts';

const PACKETS: PcapPacket[] = [
  { sec: 1_700_000_000, frac: 123_456, data: Uint8Array.of(1, 2, 3, 4, 5, 6) },
  { sec: 1_700_000_001, frac: 999_999, data: Uint8Array.of(7, 8), origLen: 1514 },
  { sec: 1_700_000_002, frac: 0, data: new Uint8Array(0) },
];

function parse(bytes: Uint8Array): { sink: RecordingSink; stats: ReturnType<typeof newCaptureStats>; parser: CaptureFileParser } {
  const sink = new RecordingSink();
  const stats = newCaptureStats();
  const parser = new CaptureFileParser(sink, stats);
  parser.push(bytes);
  return { sink, stats, parser };
}

const codeOf = sharkErrorCode;

for (const littleEndian of [true, false]) {
  test(`pcap ${littleEndian ? 'little' : 'big'}-endian, microseconds`, () => {
    const { sink, stats, parser } = parse(pcapFile({ littleEndian, linkType: 1 }, PACKETS));
    assert.equal(parser.format, 'pcap');
    assert.deepEqual(parser.end(), { truncated: false, trailingBytes: 0 });
    assert.deepEqual(sink.frames, [
      { tsUs: 1_700_000_000_123_456, linkType: 1, data: [1, 2, 3, 4, 5, 6], origLen: 6 },
      { tsUs: 1_700_000_001_999_999, linkType: 1, data: [7, 8], origLen: 1514 },
      { tsUs: 1_700_000_002_000_000, linkType: 1, data: [], origLen: 0 },
    ]);
    assert.equal(stats.packets, 3);
    assert.equal(stats.bytes, 8);
  });

  test(`pcap ${littleEndian ? 'little' : 'big'}-endian, nanoseconds are floored to microseconds`, () => {
    const file = pcapFile({ littleEndian, nanoseconds: true, linkType: 113 }, [
      { sec: 1_700_000_000, frac: 123_456_789, data: Uint8Array.of(9) },
      { sec: 1_700_000_000, frac: 999_999_999, data: Uint8Array.of(9) },
    ]);
    const { sink } = parse(file);
    assert.deepEqual(
      sink.frames.map((f) => [f.tsUs, f.linkType]),
      [
        [1_700_000_000_123_456, 113],
        [1_700_000_000_999_999, 113],
      ],
    );
  });
}

test('pcap link-type field with FCS bits: the type is the low 16 bits and the FCS is stripped', () => {
  // FCS present (bit 26) with length 2 x 16 bits = 4 bytes.
  const field = (2 << 28) | 0x0400_0000 | 1;
  const { sink } = parse(
    pcapFile({ linkType: field >>> 0 }, [
      { sec: 1, frac: 0, data: Uint8Array.of(1, 2, 3, 4, 0xf1, 0xf2, 0xf3, 0xf4) },
      // Cut by the snaplen: the FCS is not in the captured bytes.
      { sec: 1, frac: 0, data: Uint8Array.of(1, 2, 3), origLen: 64 },
    ]),
  );
  assert.deepEqual(sink.frames, [
    { tsUs: 1_000_000, linkType: 1, data: [1, 2, 3, 4], origLen: 4 },
    { tsUs: 1_000_000, linkType: 1, data: [1, 2, 3], origLen: 64 },
  ]);
});

test('pcap with an unknown link type: CAPTURE_UNKNOWN_LINK_TYPE naming the type', () => {
  const sink = new RecordingSink();
  const parser = new CaptureFileParser(sink, newCaptureStats());
  try {
    parser.push(pcapFile({ linkType: 105 }, PACKETS));
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof SharkError);
    assert.equal(err.code, 'CAPTURE_UNKNOWN_LINK_TYPE');
    assert.match(err.message, /105/);
    assert.match(err.message, /LINKTYPE_IEEE802_11/);
    assert.equal(err.context.linkType, 105);
  }
  assert.equal(sink.frames.length, 0);
  // The error sticks: the stream cannot go on.
  assert.equal(codeOf(() => parser.push(new Uint8Array(4))), 'CAPTURE_UNKNOWN_LINK_TYPE');
  const unnamed = codeOf(() => parse(pcapFile({ linkType: 4242 }, [])));
  assert.equal(unnamed, 'CAPTURE_UNKNOWN_LINK_TYPE');
});

test('pcap record with an absurd captured length is CAPTURE_BAD_BLOCK', () => {
  const file = pcapFile({ snapLen: 262144 }, PACKETS);
  const bad = file.slice();
  // First record header at 24: caplen at 24 + 8 (little-endian) = 300000 > 256 KiB.
  new DataView(bad.buffer).setUint32(32, 300_000, true);
  assert.equal(codeOf(() => parse(bad)), 'CAPTURE_BAD_BLOCK');
  // More than twice the snaplen is absurd too.
  const small = pcapFile({ snapLen: 96 }, [{ sec: 0, frac: 0, data: new Uint8Array(200) }]);
  assert.equal(codeOf(() => parse(small)), 'CAPTURE_BAD_BLOCK');
  // ... but a little over the snaplen is accepted (some writers do that).
  const { sink } = parse(pcapFile({ snapLen: 96 }, [{ sec: 0, frac: 0, data: new Uint8Array(100) }]));
  assert.equal(sink.frames.length, 1);
});

test('pcap file ending inside a record is truncated; the complete records were delivered', () => {
  const file = pcapFile({}, PACKETS);
  const { sink, parser } = parse(file.subarray(0, file.length - 16 - 1));
  assert.deepEqual(parser.end(), { truncated: true, trailingBytes: 16 + 2 - 1 });
  assert.equal(sink.frames.length, 1);
});
