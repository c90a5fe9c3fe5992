import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from '../source/frame.ts';
import {
  BLOCK_DESC_SIZE,
  BLOCK_FIRST_PKT,
  BLOCK_LEN,
  BLOCK_NUM_PKTS,
  BLOCK_STATUS,
  PKT_HDR_SIZE,
  PKT_LEN,
  PKT_MAC,
  PKT_NET,
  PKT_NEXT,
  PKT_NSEC,
  PKT_SEC,
  PKT_SNAPLEN,
  TP_STATUS_KERNEL,
  TP_STATUS_USER,
  TpacketRing,
} from './tpacket-ring.ts';

const BLOCK = 4096;
/** Where the kernel puts data for SOCK_DGRAM: TPACKET_ALIGN(TPACKET3_HDRLEN) + 16. */
const MAC = 96;

interface SyntheticPacket {
  readonly sec: number;
  readonly nsec: number;
  readonly data: readonly number[];
  /** tp_len; defaults to data.length */
  readonly len?: number;
}

class SyntheticRing {
  readonly buffer: ArrayBuffer;
  readonly dv: DataView;
  readonly bytes: Uint8Array;
  readonly blockCount: number;

  constructor(blockCount: number) {
    this.blockCount = blockCount;
    this.buffer = new ArrayBuffer(BLOCK * blockCount);
    this.dv = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
  }

  ring(linkType = 101): TpacketRing {
    return new TpacketRing(this.dv, this.bytes, { blockSize: BLOCK, blockCount: this.blockCount }, linkType);
  }

  /** Lays out packets as the kernel does: first at 48, each header 16-aligned, data at +96. Returns packet offsets. */
  fill(block: number, packets: readonly SyntheticPacket[], status = TP_STATUS_USER): number[] {
    const base = block * BLOCK;
    this.bytes.fill(0xee, base, base + BLOCK); // stale bytes from an earlier lap
    const dv = this.dv;
    dv.setUint32(base + 0, 3, true); // version (unused by the walk)
    dv.setUint32(base + 4, 0, true);
    dv.setUint32(base + BLOCK_NUM_PKTS, packets.length, true);
    dv.setUint32(base + BLOCK_FIRST_PKT, BLOCK_DESC_SIZE, true);
    const offsets: number[] = [];
    let off = base + BLOCK_DESC_SIZE;
    packets.forEach((p, i) => {
      offsets.push(off);
      const next = Math.ceil((MAC + p.data.length) / 16) * 16;
      dv.setUint32(off + PKT_NEXT, i === packets.length - 1 ? 0 : next, true);
      dv.setUint32(off + PKT_SEC, p.sec, true);
      dv.setUint32(off + PKT_NSEC, p.nsec, true);
      dv.setUint32(off + PKT_SNAPLEN, p.data.length, true);
      dv.setUint32(off + PKT_LEN, p.len ?? p.data.length, true);
      dv.setUint32(off + 20, TP_STATUS_USER, true);
      dv.setUint16(off + PKT_MAC, MAC, true);
      dv.setUint16(off + PKT_NET, MAC, true);
      this.bytes.set(p.data, off + MAC);
      off += next;
    });
    dv.setUint32(base + BLOCK_LEN, off - base, true);
    dv.setUint32(base + BLOCK_STATUS, status, true);
    return offsets;
  }

  status(block: number): number {
    return this.dv.getUint32(block * BLOCK + BLOCK_STATUS, true);
  }

  setStatus(block: number, status: number): void {
    this.dv.setUint32(block * BLOCK + BLOCK_STATUS, status, true);
  }
}

interface Seen {
  readonly tsUs: number;
  readonly linkType: number;
  readonly data: number[];
  readonly origLen: number;
}

function collect(ring: TpacketRing, seen: Seen[] = []): { seen: Seen[]; delivered: number } {
  const delivered = ring.drain((f: Frame) => seen.push({ tsUs: f.tsUs, linkType: f.linkType, data: [...f.data], origLen: f.origLen }));
  return { seen, delivered };
}

const pkt = (n: number, extra: Partial<SyntheticPacket> = {}): SyntheticPacket => ({ sec: 1_700_000_000 + n, nsec: n * 1000 + 999, data: [0x45, n, n + 1], ...extra });

test('one block with several packets: every frame in order, timestamps floored to µs, block handed back', () => {
  const r = new SyntheticRing(4);
  r.fill(0, [pkt(1), pkt(2, { len: 1500 }), { sec: 5, nsec: 999_999_999, data: [] }]);
  const ring = r.ring();
  const { seen, delivered } = collect(ring);
  assert.equal(delivered, 3);
  assert.deepEqual(seen, [
    { tsUs: 1_700_000_001_000_001, linkType: 101, data: [0x45, 1, 2], origLen: 3 },
    { tsUs: 1_700_000_002_000_002, linkType: 101, data: [0x45, 2, 3], origLen: 1500 },
    { tsUs: 5_999_999, linkType: 101, data: [], origLen: 0 },
  ]);
  assert.equal(r.status(0), TP_STATUS_KERNEL);
  assert.equal(ring.currentBlock, 1);
  assert.equal(ring.corruptBlocks, 0);
  assert.equal(collect(ring).delivered, 0, 'nothing more until the kernel hands over the next block');
});

test('frames are zero-copy views into the ring', () => {
  const r = new SyntheticRing(2);
  const [off] = r.fill(0, [pkt(7)]);
  let view: Uint8Array | undefined;
  r.ring().drain((f) => {
    view = f.data;
  });
  assert.equal(view!.buffer, r.buffer);
  assert.equal(view!.byteOffset, off! + MAC);
});

test('several ready blocks are drained in ring order; a block the kernel still owns stops the walk', () => {
  const r = new SyntheticRing(4);
  r.fill(0, [pkt(1), pkt(2)]);
  r.fill(1, [pkt(3)]);
  r.fill(2, [pkt(4), pkt(5), pkt(6)], TP_STATUS_KERNEL); // being filled
  r.fill(3, [pkt(9)]); // never reached before block 2
  const ring = r.ring();
  const first = collect(ring);
  assert.equal(first.delivered, 3);
  assert.deepEqual(first.seen.map((s) => s.data[1]), [1, 2, 3]);
  assert.equal(ring.currentBlock, 2);
  assert.equal(ring.lastDrainBlocks, 2, 'how far behind the kernel the drain found us');
  assert.equal(r.status(3), TP_STATUS_USER, 'blocks past the kernel-owned one are not touched');

  r.setStatus(2, TP_STATUS_USER | 0x20 /* TP_STATUS_BLK_TMO: retired by the timer */);
  const second = collect(ring);
  assert.deepEqual(second.seen.map((s) => s.data[1]), [4, 5, 6, 9]);
  assert.equal(ring.lastDrainBlocks, 2);
  assert.equal(collect(ring).delivered, 0);
  assert.equal(ring.lastDrainBlocks, 0);
  assert.equal(ring.currentBlock, 0);
  assert.deepEqual([0, 1, 2, 3].map((b) => r.status(b)), [0, 0, 0, 0]);
});

test('the current block index wraps around the end of the ring', () => {
  const r = new SyntheticRing(3);
  const ring = r.ring();
  r.fill(0, [pkt(1)]);
  r.fill(1, [pkt(2)]);
  assert.equal(collect(ring).delivered, 2);
  assert.equal(ring.currentBlock, 2);
  r.fill(2, [pkt(3)]);
  r.fill(0, [pkt(4)]);
  r.fill(1, [pkt(5)]);
  const { seen } = collect(ring);
  assert.deepEqual(seen.map((s) => s.data[1]), [3, 4, 5]);
  assert.equal(ring.currentBlock, 2);
});

test('one lap per drain: blocks the kernel refills during the walk wait for the next call', () => {
  const r = new SyntheticRing(2);
  const ring = r.ring();
  r.fill(0, [pkt(1)]);
  r.fill(1, [pkt(2)]);
  let refills = 0;
  const delivered = ring.drain(() => {
    // The kernel refilling the block we just released, as fast as we free them.
    if (refills++ < 10) r.setStatus(ring.currentBlock === 0 ? 1 : 0, TP_STATUS_USER);
  });
  assert.equal(delivered, 2);
});

test('readyBlocks counts the blocks waiting from the next one, up to a limit and around the end; drain reads at most maxBlocks', () => {
  const r = new SyntheticRing(4);
  const ring = r.ring();
  assert.equal(ring.readyBlocks(4), 0);
  r.fill(0, [pkt(1)]);
  r.fill(1, [pkt(2)]);
  r.fill(3, [pkt(4)]); // past a block the kernel owns: not waiting for this reader yet
  assert.equal(ring.readyBlocks(4), 2);
  assert.equal(ring.readyBlocks(1), 1, 'no further than the limit');
  const one = ring.drain(() => {}, 1);
  assert.equal(one, 1);
  assert.equal(ring.lastDrainBlocks, 1);
  assert.equal(ring.currentBlock, 1);
  assert.equal(r.status(1), TP_STATUS_USER, 'the block after maxBlocks is left to the next call');
  r.fill(2, [pkt(3)]);
  r.fill(0, [pkt(5)]);
  assert.equal(ring.readyBlocks(10), 4, 'blocks 1, 2, 3 and 0 again: at most one lap');
  assert.deepEqual(collect(ring).seen.map((s) => s.data[1]), [2, 3, 4, 5]);
  assert.equal(ring.readyBlocks(4), 0);
});

test('a ready block without packets is released and skipped', () => {
  const r = new SyntheticRing(2);
  r.fill(0, []);
  r.fill(1, [pkt(8)]);
  const ring = r.ring();
  const { seen } = collect(ring);
  assert.deepEqual(seen.map((s) => s.data[1]), [8]);
  assert.equal(ring.currentBlock, 0);
});

test('a next offset that points backwards or out of the block stops that block only', () => {
  for (const badNext of [0, 16, BLOCK * 2, 0xffff_fff0]) {
    const r = new SyntheticRing(2);
    const [, second] = r.fill(0, [pkt(1), pkt(2), pkt(3)]);
    r.dv.setUint32(second! + PKT_NEXT, badNext, true);
    r.fill(1, [pkt(4)]);
    const ring = r.ring();
    const { seen } = collect(ring);
    assert.deepEqual(seen.map((s) => s.data[1]), [1, 2, 4], `next=${badNext}`);
    assert.equal(ring.corruptBlocks, 1);
    assert.equal(r.status(0), TP_STATUS_KERNEL, 'the corrupt block is handed back');
    assert.equal(ring.currentBlock, 0);
  }
});

test('a first-packet offset, data offset or snaplen out of the block delivers nothing from it', () => {
  const corruptions: Array<[string, (r: SyntheticRing, off: number) => void]> = [
    ['first packet inside the block descriptor', (r) => r.dv.setUint32(BLOCK_FIRST_PKT, 8, true)],
    ['first packet past the block', (r) => r.dv.setUint32(BLOCK_FIRST_PKT, BLOCK - 8, true)],
    ['snaplen past the block', (r, off) => r.dv.setUint32(off + PKT_SNAPLEN, BLOCK, true)],
    ['data inside the header', (r, off) => r.dv.setUint16(off + PKT_MAC, PKT_HDR_SIZE - 8, true)],
    ['num_pkts larger than the block holds', (r) => r.dv.setUint32(BLOCK_NUM_PKTS, 1000, true)],
  ];
  for (const [what, corrupt] of corruptions) {
    const r = new SyntheticRing(2);
    const [first] = r.fill(0, [pkt(1)]);
    corrupt(r, first!);
    const ring = r.ring();
    const { seen } = collect(ring);
    assert.equal(ring.corruptBlocks, 1, what);
    assert.ok(seen.length <= 1, what);
    assert.equal(r.status(0), TP_STATUS_KERNEL, what);
  }
});

test('a throwing callback is counted and does not stop the walk or leave blocks unreleased', () => {
  const r = new SyntheticRing(2);
  r.fill(0, [pkt(1), pkt(2)]);
  r.fill(1, [pkt(3)]);
  const ring = r.ring();
  let calls = 0;
  const delivered = ring.drain(() => {
    calls++;
    if (calls !== 2) throw new Error(`boom ${calls}`);
  });
  assert.equal(delivered, 3);
  assert.equal(ring.callbackErrors, 2);
  assert.equal((ring.lastCallbackError as Error).message, 'boom 3');
  assert.deepEqual([r.status(0), r.status(1)], [0, 0]);
});

test('stop() from the callback ends the walk after that frame and still releases its block', () => {
  const r = new SyntheticRing(2);
  r.fill(0, [pkt(1), pkt(2)]);
  r.fill(1, [pkt(3)]);
  const ring = r.ring();
  const delivered = ring.drain(() => ring.stop());
  assert.equal(delivered, 1);
  assert.equal(r.status(0), TP_STATUS_KERNEL);
  assert.equal(r.status(1), TP_STATUS_USER);
  assert.equal(ring.drain(() => {}), 0, 'a stopped ring delivers nothing');
});

test('geometry that does not fit the memory is refused', () => {
  const r = new SyntheticRing(2);
  assert.throws(() => new TpacketRing(r.dv, r.bytes, { blockSize: BLOCK, blockCount: 3 }, 101), RangeError);
  assert.throws(() => new TpacketRing(r.dv, r.bytes, { blockSize: 64, blockCount: 2 }, 101), RangeError);
  assert.throws(() => new TpacketRing(r.dv, new Uint8Array(BLOCK * 2), { blockSize: BLOCK, blockCount: 2 }, 101), RangeError);
});

test('drainLast reads the blocks handed over, then the block the kernel was filling, in place, and stops', () => {
  const r = new SyntheticRing(4);
  r.fill(0, [pkt(1)]);
  r.fill(1, [pkt(2), pkt(3)], TP_STATUS_KERNEL); // being filled when the socket stopped receiving
  r.fill(2, [pkt(9)], TP_STATUS_KERNEL); // an earlier lap's block: num_pkts is stale, never read
  r.setStatus(2, TP_STATUS_KERNEL);
  const ring = r.ring();
  const seen: number[] = [];
  assert.equal(ring.drainLast((f) => seen.push(f.data[1]!)), 3);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(r.status(1), TP_STATUS_KERNEL, 'the open block is left to the kernel (the ring is closed next)');
  r.setStatus(2, TP_STATUS_USER);
  assert.equal(collect(ring).delivered, 0, 'nothing is read after drainLast');
});

test('drainLast: an open block without packets, or one the timer handed over meanwhile, is read once', () => {
  const empty = new SyntheticRing(2);
  empty.fill(0, [], TP_STATUS_KERNEL);
  assert.equal(empty.ring().drainLast(() => {}), 0);
  const retired = new SyntheticRing(3);
  retired.fill(0, [pkt(1)]);
  retired.fill(1, [pkt(2)]);
  const seen: number[] = [];
  assert.equal(retired.ring().drainLast((f) => seen.push(f.data[1]!)), 2);
  assert.deepEqual(seen, [1, 2]);
});
