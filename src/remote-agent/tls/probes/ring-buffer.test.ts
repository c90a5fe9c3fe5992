/**
 * The bpf() calls and the ring consumer against the real kernel: maps made, written and read back
 * (a per-CPU map too), and a BPF ring buffer filled by small programs of our own (run through
 * BPF_PROG_TEST_RUN, so no probe is needed) and drained by RingBufferReader, across the wrap-around,
 * past discarded records, a bounded number per call, and from the event loop's poll handle.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadLibc, type Libc } from '../../live/libc.ts';
import { asm, encode, helpers } from '../../../../test/helpers/bpf-asm.ts';
import { missingRoot, skipFor } from '../../../../test/helpers/requirements.ts';
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_RINGBUF,
  BpfCallError,
  BpfSyscalls,
  fixedBytes,
} from './bpf-syscalls.ts';
import { countCpuList, possibleCpus } from './possible-cpus.ts';
import { PAGE_SIZE, RingBufferReader } from './ring-buffer.ts';

const rootSkip = skipFor(missingRoot('bpf() (CAP_BPF)'));
const BPF_PROG_TYPE_SOCKET_FILTER = 1;
const BPF_PROG_TEST_RUN = 10;

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}

/** Runs `progFd` `repeat` times in the kernel over a zeroed 64-byte packet (BPF_PROG_TEST_RUN). */
function testRun(libc: Libc, progFd: number, repeat: number): void {
  const packet = fixedBytes(64);
  const attr = fixedBytes(80);
  const view = new DataView(attr.buffer);
  // prog_fd 0, data_size_in 8, data_in 16, repeat 32.
  view.setUint32(0, progFd, true);
  view.setUint32(8, packet.length, true);
  view.setBigUint64(16, libc.address(packet), true);
  view.setUint32(32, repeat, true);
  if (libc.bpf(BPF_PROG_TEST_RUN, attr) < 0) throw new Error(`BPF_PROG_TEST_RUN: ${libc.strerror(libc.errno())}`);
}

/** A program that writes one record of `bytes` (16 or more, a multiple of 4): u64 ktime, then u32 words of `marker`. */
function outputProgram(sys: BpfSyscalls, ringFd: number, bytes: number, marker: number): number {
  const base = -((bytes + 7) & ~7); // the u64 store must be 8-byte aligned on the stack
  const stores = [];
  for (let off = 8; off < bytes; off += 4) stores.push(asm.stW(10, base + off, marker));
  return sys.loadProgram({
    name: `ring_out_${bytes}`,
    type: BPF_PROG_TYPE_SOCKET_FILTER,
    license: 'GPL',
    instructions: encode([
      asm.call(helpers.ktimeGetNs),
      asm.stxDw(10, base, 0),
      ...stores,
      asm.loadMapFd(1, ringFd),
      asm.mov64Reg(2, 10),
      asm.add64Imm(2, base),
      asm.mov64Imm(3, bytes),
      asm.mov64Imm(4, 0),
      asm.call(helpers.ringbufOutput),
      asm.mov64Imm(0, 0),
      asm.exit(),
    ]),
  });
}

/** A program that reserves 16 bytes and discards them: a DISCARD record the consumer must skip. */
function discardProgram(sys: BpfSyscalls, ringFd: number): number {
  return sys.loadProgram({
    name: 'ring_discard',
    type: BPF_PROG_TYPE_SOCKET_FILTER,
    license: 'GPL',
    instructions: encode([
      asm.loadMapFd(1, ringFd),
      asm.mov64Imm(2, 16),
      asm.mov64Imm(3, 0),
      asm.call(helpers.ringbufReserve),
      asm.jeqImm(0, 0, 3),
      asm.mov64Reg(1, 0),
      asm.mov64Imm(2, 0),
      asm.call(helpers.ringbufDiscard),
      asm.mov64Imm(0, 0),
      asm.exit(),
    ]),
  });
}

interface Sample {
  readonly ts: bigint;
  readonly length: number;
  readonly marker: number;
}

function decode(ring: DataView, offset: number, length: number): Sample {
  const sample = new Uint8Array(ring.buffer, ring.byteOffset + offset, length);
  const view = new DataView(sample.buffer, sample.byteOffset, sample.byteLength);
  const marker = view.getUint32(8, true);
  for (let off = 8; off < sample.length; off += 4) assert.equal(view.getUint32(off, true), marker, 'every word of the record body');
  return { ts: view.getBigUint64(0, true), length: sample.length, marker };
}

test('CPU lists count the way the kernel writes them', () => {
  assert.equal(countCpuList('0-1\n'), 2);
  assert.equal(countCpuList('0'), 1);
  assert.equal(countCpuList('0,2-7,9'), 8);
  assert.throws(() => countCpuList(''), /empty/);
  assert.throws(() => countCpuList('0-x'), /not a CPU list/);
  assert.throws(() => countCpuList('3-1'), /not a CPU list/);
});

test('maps: an array map and a per-CPU map are created, written and read back', { skip: rootSkip }, () => {
  const sys = new BpfSyscalls(loadLibc());
  const array = sys.createMap({ name: 'ks_test_array', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 });
  const perCpu = sys.createMap({ name: 'ks_test_pcpu', type: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2, flags: 0 });
  try {
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, 0x1122334455667788n, true);
    sys.updateElem(array, u32(3), value);
    const back = new Uint8Array(8);
    assert.equal(sys.lookupElem(array, u32(3), back), true);
    assert.equal(new DataView(back.buffer).getBigUint64(0, true), 0x1122334455667788n);
    assert.equal(sys.lookupElem(array, u32(0), back), true);
    assert.equal(new DataView(back.buffer).getBigUint64(0, true), 0n, 'an array map starts zeroed');
    assert.equal(sys.lookupElem(array, u32(9), back), false, 'no key 9 in a 4-entry array (ENOENT)');

    // A per-CPU value goes in and comes out as one 8-byte slot per possible CPU.
    const cpus = possibleCpus();
    assert.ok(cpus >= 1);
    const slots = new Uint8Array(8 * cpus);
    const slotView = new DataView(slots.buffer);
    for (let cpu = 0; cpu < cpus; cpu += 1) slotView.setBigUint64(cpu * 8, BigInt(100 + cpu), true);
    sys.updateElem(perCpu, u32(1), slots);
    const read = new Uint8Array(8 * cpus);
    assert.equal(sys.lookupElem(perCpu, u32(1), read), true);
    const readView = new DataView(read.buffer);
    for (let cpu = 0; cpu < cpus; cpu += 1) assert.equal(readView.getBigUint64(cpu * 8, true), BigInt(100 + cpu));
  } finally {
    sys.close(array);
    sys.close(perCpu);
  }
});

test('a map the kernel refuses is an error naming the step and the errno', { skip: rootSkip }, () => {
  const sys = new BpfSyscalls(loadLibc());
  assert.throws(
    () => sys.createMap({ name: 'ks_bad_ring', type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 3000, flags: 0 }),
    (err: unknown) => err instanceof BpfCallError && err.errno === 22 && /creating BPF map ks_bad_ring: Invalid argument/.test(err.message),
  );
});

test('a program the verifier refuses carries the verifier log in its error', { skip: rootSkip }, () => {
  const sys = new BpfSyscalls(loadLibc());
  // r0 is never set before exit: "R0 !read_ok".
  assert.throws(
    () => sys.loadProgram({ name: 'ks_bad', type: BPF_PROG_TYPE_SOCKET_FILTER, license: 'GPL', instructions: encode([asm.exit()]) }),
    (err: unknown) => err instanceof BpfCallError && err.errno === 13 && /loading BPF program ks_bad: Permission denied .*verifier log:\n.*R0 !read_ok/s.test(err.message),
  );
});

test('ring buffer: records across the wrap-around, discarded ones skipped, at most N per read, stamped on the monotonic clock', { skip: rootSkip }, () => {
  const libc = loadLibc();
  const sys = new BpfSyscalls(libc);
  const ring = sys.createMap({ name: 'ks_test_ring', type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: PAGE_SIZE, flags: 0 });
  const fds = [ring];
  let reader: RingBufferReader | null = null;
  try {
    const small = outputProgram(sys, ring, 16, 0xaaaa0001);
    const odd = outputProgram(sys, ring, 20, 0xbbbb0002); // 20 + 8 header, padded to 32
    const discard = discardProgram(sys, ring);
    fds.push(small, odd, discard);
    reader = RingBufferReader.open(libc, ring, PAGE_SIZE);

    const got: Sample[] = [];
    const before = process.hrtime.bigint();
    let written = 0;
    // 40 rounds of ~13 records move ~18 KiB through a 4 KiB ring: it wraps several times.
    for (let round = 0; round < 40; round += 1) {
      testRun(libc, small, 5);
      testRun(libc, discard, 2);
      testRun(libc, odd, 6);
      written += 11;
      assert.ok(reader.pending() > 0);
      // At most 4 per read: the rest waits for the next read.
      for (;;) {
        const n = reader.read(4, (v, o, l) => got.push(decode(v, o, l)));
        assert.ok(n <= 4);
        if (n === 0) break;
      }
      assert.equal(reader.pending(), 0, 'a drained ring has nothing pending');
    }
    const after = process.hrtime.bigint();
    assert.equal(got.length, written);
    assert.deepEqual(
      got.slice(0, 11).map((s) => [s.length, s.marker]),
      [...Array(5).fill([16, 0xaaaa0001]), ...Array(6).fill([20, 0xbbbb0002])],
    );
    // bpf_ktime_get_ns and process.hrtime read the same clock (CLOCK_MONOTONIC).
    for (let i = 0; i < got.length; i += 1) {
      assert.ok(got[i]!.ts >= before && got[i]!.ts <= after, `record ${i} stamped ${got[i]!.ts}, outside [${before}, ${after}]`);
      if (i > 0) assert.ok(got[i]!.ts >= got[i - 1]!.ts, 'ring order is time order');
    }
  } finally {
    reader?.close();
    reader?.close(); // idempotent
    for (const fd of fds) sys.close(fd);
  }
});

test('ring buffer: the poll handle calls back from the event loop until the ring is drained, N records per wake-up', { skip: rootSkip }, async () => {
  const libc = loadLibc();
  const sys = new BpfSyscalls(libc);
  const ring = sys.createMap({ name: 'ks_test_ring2', type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 16 * PAGE_SIZE, flags: 0 });
  const prog = outputProgram(sys, ring, 16, 0xcccc0003);
  const reader = RingBufferReader.open(libc, ring, 16 * PAGE_SIZE);
  try {
    let wakeUps = 0;
    let count = 0;
    const drained = new Promise<void>((resolve) => {
      reader.startPolling(ring, () => {
        wakeUps += 1;
        count += reader.read(50, (v, o, l) => assert.equal(decode(v, o, l).marker, 0xcccc0003));
        if (count === 1000) resolve();
      });
    });
    assert.equal(wakeUps, 0, 'nothing to read yet');
    testRun(libc, prog, 1000);
    await drained;
    assert.equal(count, 1000);
    assert.ok(wakeUps >= 20, `1000 records at 50 per wake-up need 20 wake-ups, saw ${wakeUps}`);
  } finally {
    reader.close();
    sys.close(prog);
    sys.close(ring);
  }
});
