import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharkError } from '../../model/errors.ts';
import { newCaptureStats } from '../stats.ts';
import { CaptureFileParser } from './capture-file.ts';
import { concat } from '../../../test/helpers/packets.ts';
import { epb, idb, nrb, pb, pcapngBlock, shb, spb } from '../../../test/helpers/capture-files.ts';
import { RecordingSink, sharkErrorCode } from '../../../test/helpers/frame-sink.ts';

function parse(...blocks: Uint8Array[]): { sink: RecordingSink; stats: ReturnType<typeof newCaptureStats>; parser: CaptureFileParser } {
  const sink = new RecordingSink();
  const stats = newCaptureStats();
  const parser = new CaptureFileParser(sink, stats);
  parser.push(concat(...blocks));
  return { sink, stats, parser };
}

const codeOf = sharkErrorCode;

const T0 = 1_700_000_000; // seconds

for (const le of [true, false]) {
  test(`pcapng ${le ? 'little' : 'big'}-endian: two interfaces with different link types and resolutions`, () => {
    const ns = BigInt(T0) * 1_000_000_000n + 123_456_789n; // interface 1 counts nanoseconds
    const us = T0 * 1_000_000 + 654_321; // interface 0 counts microseconds (default)
    const hi = (v: bigint): number => Number(v >> 32n);
    const lo = (v: bigint): number => Number(v & 0xffffffffn);
    const { sink, stats, parser } = parse(
      shb(le),
      idb(le, { linkType: 1 }),
      idb(le, { linkType: 113, tsresol: 9 }),
      epb(le, 0, Math.floor(us / 2 ** 32), us % 2 ** 32, Uint8Array.of(1, 2, 3)),
      epb(le, 1, hi(ns), lo(ns), Uint8Array.of(4, 5), 60),
      pcapngBlock(le, 5, (w) => w.u32(0).u32(0).u32(0)), // interface statistics: skipped
      pcapngBlock(le, 0x0bad, (w) => w.bytes([1, 2, 3])), // unknown type: skipped
      epb(le, 0, Math.floor(us / 2 ** 32), us % 2 ** 32 + 1, Uint8Array.of(6)),
    );
    assert.equal(parser.format, 'pcapng');
    assert.deepEqual(parser.end(), { truncated: false, trailingBytes: 0 });
    assert.deepEqual(sink.frames, [
      { tsUs: us, linkType: 1, data: [1, 2, 3], origLen: 3 },
      { tsUs: T0 * 1_000_000 + 123_456, linkType: 113, data: [4, 5], origLen: 60 },
      { tsUs: us + 1, linkType: 1, data: [6], origLen: 1 },
    ]);
    assert.equal(stats.packets, 3);
    assert.equal(stats.bytes, 6);
    assert.equal(stats.malformed, 0);
  });
}

test('pcapng if_tsresol: powers of ten coarser and finer than µs, powers of two; if_tsoffset', () => {
  const ms = T0 * 1000 + 5; // milliseconds
  // Picoseconds since 1970 overflow 64 bits today: a device clock counting from boot (10^6 s).
  const ps = 1_000_000n * 10n ** 12n + 7_000_001n; // -> 7 µs past 10^6 s
  const twoTo20 = BigInt(T0) * 2n ** 20n + 2n ** 19n; // 2^-20 s units: half a second
  const ns100 = 16n * 10n ** 7n + 12_345n; // 10^-7 s, with an offset of T0 seconds
  const { sink } = parse(
    shb(true),
    idb(true, { linkType: 101, tsresol: 3 }),
    idb(true, { linkType: 101, tsresol: 12 }),
    idb(true, { linkType: 101, tsresol: 0x80 | 20 }),
    idb(true, { linkType: 101, tsresol: 7, tsoffset: T0 }),
    epb(true, 0, Math.floor(ms / 2 ** 32), ms % 2 ** 32, Uint8Array.of(0x45)),
    epb(true, 1, Number(ps >> 32n), Number(ps & 0xffffffffn), Uint8Array.of(0x45)),
    epb(true, 2, Number(twoTo20 >> 32n), Number(twoTo20 & 0xffffffffn), Uint8Array.of(0x45)),
    epb(true, 3, Number(ns100 >> 32n), Number(ns100 & 0xffffffffn), Uint8Array.of(0x45)),
  );
  assert.deepEqual(
    sink.frames.map((f) => f.tsUs),
    [T0 * 1_000_000 + 5_000, 1_000_000 * 1_000_000 + 7, T0 * 1_000_000 + 500_000, (T0 + 16) * 1_000_000 + 1_234],
  );
});

test('pcapng Simple Packet Blocks use interface 0 and its snaplen; obsolete Packet Blocks are read', () => {
  const { sink, stats } = parse(
    shb(true),
    idb(true, { linkType: 1, snapLen: 4 }),
    epb(true, 0, 0, 10, Uint8Array.of(9, 9, 9)),
    spb(true, Uint8Array.of(1, 2, 3, 4, 5, 6), 6), // longer than the snaplen: 4 bytes captured
    spb(true, Uint8Array.of(1, 2), 2),
    pb(true, 0, 0, 20, Uint8Array.of(7, 7)),
  );
  assert.deepEqual(sink.frames, [
    { tsUs: 10, linkType: 1, data: [9, 9, 9], origLen: 3 },
    { tsUs: 10, linkType: 1, data: [1, 2, 3, 4], origLen: 6 },
    { tsUs: 10, linkType: 1, data: [1, 2], origLen: 2 },
    { tsUs: 20, linkType: 1, data: [7, 7], origLen: 2 },
  ]);
  assert.equal(stats.packets, 4);
});

test('pcapng Name Resolution Blocks deliver IPv4 and IPv6 names', () => {
  const v6 = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 0x01];
  const { sink } = parse(
    shb(true),
    nrb(true, [
      { address: [10, 96, 0, 10], names: ['kube-dns.kube-system.svc.cluster.local', 'kube-dns'] },
      { address: v6, names: ['api.example'] },
    ]),
    idb(true, { linkType: 1 }),
  );
  assert.deepEqual(sink.nameRecords, [
    { ip: '10.96.0.10', names: ['kube-dns.kube-system.svc.cluster.local', 'kube-dns'] },
    { ip: '2001:db8::1', names: ['api.example'] },
  ]);
});

test('a new Section Header Block resets interfaces and may switch byte order', () => {
  const { sink, stats } = parse(
    shb(true),
    idb(true, { linkType: 1 }),
    idb(true, { linkType: 113 }),
    epb(true, 1, 0, 1, Uint8Array.of(1)),
    shb(false),
    idb(false, { linkType: 101 }),
    epb(false, 0, 0, 2, Uint8Array.of(2)),
    epb(false, 1, 0, 3, Uint8Array.of(3)), // interface 1 is gone with the old section
  );
  assert.deepEqual(
    sink.frames.map((f) => [f.linkType, f.data[0]]),
    [
      [113, 1],
      [101, 2],
    ],
  );
  assert.equal(stats.malformed, 1);
});

test('pcapng if_fcslen: the FCS is stripped from whole frames', () => {
  const { sink } = parse(shb(true), idb(true, { linkType: 1, fcslen: 4 }), epb(true, 0, 0, 0, Uint8Array.of(1, 2, 0xf, 0xf, 0xf, 0xf)));
  assert.deepEqual(sink.frames[0].data, [1, 2]);
  assert.equal(sink.frames[0].origLen, 2);
});

test('pcapng corrupt blocks: bad length, mismatched trailer, bad byte-order magic', () => {
  const good = concat(shb(true), idb(true, { linkType: 1 }));
  const badLen = epb(true, 0, 0, 0, Uint8Array.of(1)).slice();
  new DataView(badLen.buffer).setUint32(4, 13, true); // not a multiple of 4
  assert.equal(codeOf(() => parse(good, badLen)), 'CAPTURE_BAD_BLOCK');
  const hugeLen = epb(true, 0, 0, 0, Uint8Array.of(1)).slice();
  new DataView(hugeLen.buffer).setUint32(4, 0x7fff_fff0, true);
  assert.equal(codeOf(() => parse(good, hugeLen)), 'CAPTURE_BAD_BLOCK');
  const badTrailer = epb(true, 0, 0, 0, Uint8Array.of(1)).slice();
  badTrailer[badTrailer.length - 4] ^= 4;
  assert.equal(codeOf(() => parse(good, badTrailer)), 'CAPTURE_BAD_BLOCK');
  const badMagic = shb(true).slice();
  badMagic[8] = 0;
  assert.equal(codeOf(() => parse(badMagic)), 'CAPTURE_NOT_A_CAPTURE');
  assert.equal(codeOf(() => parse(good, badMagic)), 'CAPTURE_BAD_BLOCK');
  // An EPB whose captured length overruns its own block is one malformed packet, not a dead file.
  const overrun = epb(true, 0, 0, 0, Uint8Array.of(1, 2, 3, 4)).slice();
  new DataView(overrun.buffer).setUint32(20, 400, true);
  const { stats, sink } = parse(good, overrun, epb(true, 0, 0, 0, Uint8Array.of(5)));
  assert.equal(stats.malformed, 1);
  assert.equal(sink.frames.length, 1);
});

test('pcapng whose interfaces are all of unknown link types: CAPTURE_UNKNOWN_LINK_TYPE', () => {
  const sink = new RecordingSink();
  const parser = new CaptureFileParser(sink, newCaptureStats());
  try {
    parser.push(concat(shb(true), idb(true, { linkType: 189 }), epb(true, 0, 0, 0, Uint8Array.of(1))));
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof SharkError);
    assert.equal(err.code, 'CAPTURE_UNKNOWN_LINK_TYPE');
    assert.match(err.message, /189 \(LINKTYPE_USB_LINUX\)/);
  }
  // Mixed with a supported interface the capture is read; the unknown frames pass through.
  const mixed = parse(shb(true), idb(true, { linkType: 189 }), idb(true, { linkType: 1 }), epb(true, 0, 0, 0, Uint8Array.of(1)), epb(true, 1, 0, 0, Uint8Array.of(2)));
  assert.deepEqual(
    mixed.sink.frames.map((f) => f.linkType),
    [189, 1],
  );
});
