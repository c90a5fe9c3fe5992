import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FragmentReassembler } from './fragments.ts';
import { PacketDecoder } from './packet-decoder.ts';
import { newCaptureStats, type CaptureStats } from '../stats.ts';
import { ascii, concat, ext6, frag6, ipv4, ipv6, tcp, udp } from '../../../test/helpers/packets.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** A UDP datagram of 8 + 40 bytes split into IPv4 fragments of the given (offset, length) pieces. */
function udpFragments(pieces: ReadonlyArray<readonly [number, number]>, id = 7, body = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn'): Uint8Array[] {
  const whole = udp({ srcPort: 1111, dstPort: 2222, payload: ascii(body) });
  return pieces.map(([off, len]) =>
    ipv4(whole.subarray(off, off + len), { proto: 17, id, fragOffset: off, moreFragments: off + len < whole.length }),
  );
}

interface Run {
  udp: string[];
  tcp: string[];
  stats: CaptureStats;
  decoder: PacketDecoder;
}

function run(frames: ReadonlyArray<Uint8Array | readonly [Uint8Array, number]>, options?: ConstructorParameters<typeof PacketDecoder>[2]): Run {
  const stats = newCaptureStats();
  const r: Run = { udp: [], tcp: [], stats, decoder: undefined as unknown as PacketDecoder };
  r.decoder = new PacketDecoder({ tcp: (s) => r.tcp.push(text(s.payload)), udp: (d) => r.udp.push(text(d.payload)) }, stats, options);
  let ts = 1_000_000;
  for (const f of frames) {
    const [data, tsUs] = f instanceof Uint8Array ? [f, (ts += 1000)] : f;
    // Frames are views into a reused buffer: prove the reassembler copies what it keeps.
    const scratch = data.slice();
    r.decoder.frame({ tsUs, linkType: 101, data: scratch, origLen: scratch.length });
    scratch.fill(0xaa);
  }
  return r;
}

const BODY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn';

test('IPv4 fragments in order are reassembled', () => {
  const r = run(udpFragments([[0, 16], [16, 16], [32, 16]]));
  assert.deepEqual(r.udp, [BODY]);
  assert.equal(r.stats.fragmentsDropped, 0);
  assert.equal(r.decoder.pendingFragmentBytes, 0);
});

test('IPv4 fragments out of order (last first) are reassembled', () => {
  assert.deepEqual(run(udpFragments([[32, 16], [0, 16], [16, 16]])).udp, [BODY]);
  assert.deepEqual(run(udpFragments([[16, 16], [32, 16], [0, 16]])).udp, [BODY]);
});

test('overlapping fragments: the first copy of a byte wins', () => {
  const whole = udp({ srcPort: 1111, dstPort: 2222, payload: ascii(BODY) });
  const liar = whole.slice(8, 32).fill(0x21); // '!' over bytes 8..32
  const frames = [
    ipv4(whole.subarray(0, 24), { proto: 17, id: 9, moreFragments: true }),
    ipv4(liar, { proto: 17, id: 9, fragOffset: 8, moreFragments: true }), // overlaps 8..24, adds 24..32
    ipv4(whole.subarray(24, 48), { proto: 17, id: 9, fragOffset: 24 }), // overlaps 24..32
  ];
  const r = run(frames);
  assert.deepEqual(r.udp, [BODY.slice(0, 16) + '!!!!!!!!' + BODY.slice(24)]);
  // A retransmitted identical fragment changes nothing.
  const dup = udpFragments([[0, 16], [0, 16], [16, 32]]);
  assert.deepEqual(run(dup).udp, [BODY]);
});

test('fragments of different datagrams (id, protocol, addresses) are kept apart', () => {
  const a = udpFragments([[0, 16], [16, 32]], 1, BODY);
  const b = udpFragments([[0, 16], [16, 32]], 2, BODY.toLowerCase());
  const r = run([a[0], b[0], b[1], a[1]]);
  assert.deepEqual(r.udp, [BODY.toLowerCase(), BODY]);
});

test('TCP over IPv4 fragments', () => {
  const seg = tcp({ payload: ascii('0123456789abcdef0123456789') });
  const frames = [
    ipv4(seg.subarray(0, 24), { id: 3, moreFragments: true }),
    ipv4(seg.subarray(24), { id: 3, fragOffset: 24 }),
  ];
  assert.deepEqual(run(frames).tcp, ['0123456789abcdef0123456789']);
});

test('a datagram never completed is counted when it times out and at finish()', () => {
  const frags = udpFragments([[0, 16], [32, 16]], 5);
  const late = udpFragments([[0, 48]], 6)[0]; // unfragmented, 31 s later: expires the first
  const r = run([[frags[0], 1_000_000], [frags[1], 1_000_100], [late, 32_000_000]]);
  assert.equal(r.stats.fragmentsDropped, 2);
  assert.equal(r.decoder.pendingFragmentBytes, 0);
  assert.deepEqual(r.udp, [BODY]);

  const open = run(udpFragments([[0, 16]], 8));
  assert.equal(open.stats.fragmentsDropped, 0);
  assert.equal(open.decoder.pendingFragmentBytes, 16);
  open.decoder.finish();
  assert.equal(open.stats.fragmentsDropped, 1);
  assert.equal(open.decoder.pendingFragmentBytes, 0);
});

test('the memory cap evicts the oldest datagrams and counts their fragments', () => {
  const frames = [
    ...udpFragments([[0, 16], [16, 16]], 1), // 32 bytes pending
    ...udpFragments([[0, 16]], 2), // 16 more: cap of 40 evicts datagram 1 (2 fragments)
  ];
  const r = run(frames, { maxFragmentBytes: 40 });
  assert.equal(r.stats.fragmentsDropped, 2);
  assert.equal(r.decoder.pendingFragmentBytes, 16);
  // A single fragment larger than the cap is dropped at once.
  const big = run(udpFragments([[0, 32], [32, 16]], 3), { maxFragmentBytes: 20 });
  assert.equal(big.stats.fragmentsDropped, 1);
  assert.deepEqual(big.udp, []);
});

test('a snaplen-cut fragment cannot complete: dropped and counted', () => {
  const [first] = udpFragments([[0, 24], [24, 24]]);
  const r = run([first.subarray(0, first.length - 4)]);
  assert.equal(r.stats.fragmentsDropped, 1);
  assert.equal(r.decoder.pendingFragmentBytes, 0);
});

test('IPv6 fragments (RFC 8200 4.5) are reassembled, with extension headers before and after', () => {
  const whole = concat(ext6(17, 1), udp({ srcPort: 5, dstPort: 6, payload: ascii(BODY) })); // dest opts, then UDP
  const f1 = ipv6(concat(ext6(44, 1), frag6(60, 0, true, 0xdeadbeef), whole.subarray(0, 24)), { next: 0 });
  const f2 = ipv6(concat(frag6(60, 24, false, 0xdeadbeef), whole.subarray(24)), { next: 44 });
  const r = run([f2, f1]);
  assert.deepEqual(r.udp, [BODY]);
  assert.equal(r.stats.malformed + r.stats.ignored + r.stats.fragmentsDropped, 0);
  // An atomic fragment (offset 0, M = 0; RFC 6946) is a whole packet.
  const atomic = ipv6(concat(frag6(17, 0, false, 1), udp({ payload: ascii('solo') })), { next: 44 });
  assert.deepEqual(run([atomic]).udp, ['solo']);
});

test('FragmentReassembler: offsets past 64 KiB and empty middle fragments are malformed', () => {
  const stats = newCaptureStats();
  const fr = new FragmentReassembler(stats, 1 << 20, 30_000_000);
  assert.equal(fr.add('k', 0, 65528, false, new Uint8Array(16), 17), null);
  assert.equal(fr.add('k', 0, 8, true, new Uint8Array(0), 17), null);
  assert.equal(stats.malformed, 2);
  assert.equal(fr.pendingCount, 0);
  // The first last-fragment fixes the length; a later conflicting one does not change it.
  assert.equal(fr.add('j', 0, 8, false, Uint8Array.of(3, 3, 3, 3, 3, 3, 3, 3), 6), null);
  assert.equal(fr.add('j', 0, 8, false, Uint8Array.of(4, 4, 4, 4), 6), null);
  const whole = fr.add('j', 0, 0, true, Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1), 6);
  assert.deepEqual(whole, Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3));
  assert.equal(fr.completedTag, 6);
  assert.equal(fr.heldBytes, 0);
});
