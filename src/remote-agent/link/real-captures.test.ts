/**
 * Every public capture in test/fixtures/pcaps (see its PROVENANCE.md) through the file parser and
 * the packet decoder: frame counts equal INDEX.json's, nothing malformed, and - when tshark is
 * installed - every decoded TCP/UDP header field equals what tshark reads from the same frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CaptureFileParser } from '../source/capture-file.ts';
import { newCaptureStats } from '../stats.ts';
import { PacketDecoder } from '../ip/packet-decoder.ts';
import { epb, idb, pcapFile, shb } from '../../../test/helpers/capture-files.ts';
import { ETHERTYPE, ascii, concat, ethernet, ext6, frag6, ipv4, ipv6, nullLink, sll2, tcp, udp } from '../../../test/helpers/packets.ts';
import { skipFor } from '../../../test/helpers/requirements.ts';

// The public corpus vendored in test/fixtures/pcaps (PROVENANCE.md there); SHARK_PCAPS points at another copy.
const PCAPS = process.env.SHARK_PCAPS ?? fileURLToPath(new URL('../../../test/fixtures/pcaps', import.meta.url));
const INDEX = join(PCAPS, 'INDEX.json');

interface IndexEntry {
  readonly file: string;
  readonly protocol: string;
  readonly packets: number;
}

/** One decoded frame in the same shape as the tshark fields below. */
interface Decoded {
  tsUs: number;
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  len: number;
}

function decodeFile(bytes: Uint8Array, chunkSize: number): { frames: Array<Decoded | null>; stats: ReturnType<typeof newCaptureStats>; truncated: boolean } {
  const stats = newCaptureStats();
  const frames: Array<Decoded | null> = [];
  const decoder = new PacketDecoder(
    {
      tcp: (s) => {
        frames[frames.length - 1] = { tsUs: s.tsUs, src: s.srcIp, dst: s.dstIp, proto: 'tcp', srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq, ack: s.ack, flags: s.flags, len: s.payload.length };
      },
      udp: (d) => {
        frames[frames.length - 1] = { tsUs: d.tsUs, src: d.srcIp, dst: d.dstIp, proto: 'udp', srcPort: d.srcPort, dstPort: d.dstPort, seq: 0, ack: 0, flags: 0, len: d.payload.length };
      },
    },
    stats,
  );
  const parser = new CaptureFileParser(
    {
      frame: (f) => {
        frames.push(null);
        decoder.frame(f);
      },
      names: () => {},
    },
    stats,
  );
  for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  decoder.finish();
  return { frames, stats, truncated: parser.end().truncated };
}

const index = JSON.parse(readFileSync(INDEX, 'utf8')) as IndexEntry[];

test('the public capture corpus is present', () => {
  assert.ok(index.length >= 40, `${index.length} captures listed`);
});

for (const entry of index) {
  test(`${entry.file}: ${entry.packets} frames, none malformed, same result in any chunking`, () => {
    const bytes = readFileSync(join(PCAPS, entry.file));
    const whole = decodeFile(bytes, bytes.length);
    assert.equal(whole.stats.packets, entry.packets);
    assert.equal(whole.frames.length, entry.packets);
    assert.equal(whole.truncated, false);
    assert.equal(whole.stats.malformed, 0);
    assert.equal(whole.stats.fragmentsDropped, 0);
    // The bulk of every capture in this corpus is TCP or UDP.
    assert.ok(whole.frames.filter((f) => f !== null).length >= entry.packets * 0.9);
    const chunked = decodeFile(bytes, 1 + (bytes.length % 997));
    assert.deepEqual(chunked.frames, whole.frames);
  });
}

const TSHARK_FIELDS = [
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.len',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
];

function toolPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** "1712891529.906472000" -> µs, floored, without going through a lossy double. */
function epochToUs(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

/**
 * Hand-built captures for what the corpus lacks: stacked VLAN tags, IPv4 options, IPv4 and IPv6
 * fragments (out of order), IPv6 extension headers, SLL2, NULL, pcapng nanosecond interfaces with
 * an offset. tshark is the referee for them too.
 */
function syntheticCaptures(): Array<[string, Uint8Array]> {
  const seg = tcp({ srcPort: 40001, dstPort: 80, seq: 0xfffffff0, ack: 7, payload: ascii('GET /fragmented HTTP/1.1\r\nHost: x\r\n\r\n') });
  const dgram = concat(ext6(17, 1), udp({ srcPort: 5, dstPort: 6, payload: ascii('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn') }));
  const frames = [
    ethernet(ETHERTYPE.IPV4, ipv4(seg, { options: [7, 7, 4, 0, 0, 0, 0, 1] }), [[ETHERTYPE.QINQ, 5], [ETHERTYPE.VLAN, 6]]),
    ethernet(ETHERTYPE.IPV4, ipv4(seg.subarray(24), { id: 77, fragOffset: 24 })),
    ethernet(ETHERTYPE.IPV4, ipv4(seg.subarray(0, 24), { id: 77, moreFragments: true })),
    ethernet(ETHERTYPE.IPV6, ipv6(concat(ext6(60, 1), ext6(6, 2), seg), { next: 0, src: 'fe80::1:2', dst: '::ffff:0:1' })),
    ethernet(ETHERTYPE.IPV6, ipv6(concat(frag6(60, 24, false, 0xdeadbeef), dgram.subarray(24)), { next: 44 })),
    ethernet(ETHERTYPE.IPV6, ipv6(concat(frag6(60, 0, true, 0xdeadbeef), dgram.subarray(0, 24)), { next: 44 })),
    ethernet(ETHERTYPE.ARP, new Uint8Array(28)),
  ];
  const pcap = pcapFile({ nanoseconds: true, littleEndian: false }, frames.map((data, i) => ({ sec: 1_700_000_000, frac: i * 1001, data })));
  const ns = 1_234_567_891n; // 1.234567891 s after the interface's offset
  const pcapng = concat(
    shb(true),
    idb(true, { linkType: 276, tsresol: 9, tsoffset: 1_700_000_000 }),
    idb(true, { linkType: 0 }),
    epb(true, 0, Number(ns >> 32n), Number(ns & 0xffffffffn), sll2(ETHERTYPE.IPV4, ipv4(udp({ payload: ascii('q') }), { proto: 17 }))),
    epb(true, 1, 395_812, 1_234, nullLink(30, ipv6(seg), true)),
  );
  return [
    ['synthetic.pcap', pcap],
    ['synthetic.pcapng', pcapng],
  ];
}

test('decoded headers equal tshark field by field on every capture', async (t) => {
  const tshark = toolPath('tshark');
  const mergecap = toolPath('mergecap');
  if (tshark === null || mergecap === null) {
    t.skip(skipFor('tshark/mergecap are not installed: field-by-field comparison skipped') || undefined);
    return;
  }
  const run = promisify(execFile);
  // tshark takes ~1.5 s to start: one run over all captures concatenated (mergecap -a keeps file
  // order) instead of one per capture. Raw header fields do not depend on the neighbours.
  const dir = mkdtempSync(join(tmpdir(), 'shark-real-'));
  try {
    const captures: Array<[string, string]> = index.map((e) => [e.file, join(PCAPS, e.file)]);
    for (const [name, bytes] of syntheticCaptures()) {
      writeFileSync(join(dir, name), bytes);
      captures.push([name, join(dir, name)]);
    }
    const merged = join(dir, 'all.pcapng');
    await run(mergecap, ['-a', '-F', 'pcapng', '-w', merged, ...captures.map(([, path]) => path)]);
    const args = ['-n', '-r', merged, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f'];
    for (const f of TSHARK_FIELDS) args.push('-e', f);
    const { stdout } = await run(tshark, args, { maxBuffer: 64 << 20, env: { ...process.env, WIRESHARK_CONFIG_DIR: dir } });
    const rows = stdout.split('\n').filter((l) => l !== '');
    let next = 0;
    let compared = 0;
    let syntheticDecoded = 0;
    for (const [name, path] of captures) {
      const ours = decodeFile(readFileSync(path), 4096).frames;
      ours.forEach((d, i) => {
        const row = rows[next++];
        const where = `${name} frame ${i + 1}`;
        assert.ok(row !== undefined, `${where}: tshark has fewer frames`);
        const [time, ip4src, ip6src, ip4dst, ip6dst, tsp, tdp, seq, ack, flags, tlen, usp, udp, ulen] = row.split('|');
        if (d === null) {
          // We skip only what is not TCP/UDP over IP.
          assert.equal(tsp + usp, '', `${where}: tshark sees TCP/UDP that we did not`);
          return;
        }
        assert.equal(d.tsUs, epochToUs(time), where);
        assert.equal(d.src, ip4src !== '' ? ip4src : ip6src, where);
        assert.equal(d.dst, ip4dst !== '' ? ip4dst : ip6dst, where);
        if (d.proto === 'tcp') {
          assert.deepEqual(
            [d.srcPort, d.dstPort, d.seq, d.ack, d.flags, d.len],
            [Number(tsp), Number(tdp), Number(seq), Number(ack), Number(flags) & 0xff, Number(tlen)],
            where,
          );
        } else {
          assert.deepEqual([d.srcPort, d.dstPort, d.len], [Number(usp), Number(udp), Number(ulen) - 8], where);
        }
        compared++;
        if (name.startsWith('synthetic')) syntheticDecoded++;
      });
    }
    assert.equal(next, rows.length, 'tshark has more frames');
    assert.ok(compared > 3000, `${compared} frames compared`);
    // VLAN, options, IPv6 chain, both reassembled datagrams, SLL2 and NULL frames.
    assert.equal(syntheticDecoded, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
