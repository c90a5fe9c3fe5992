import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketDecoder } from './packet-decoder.ts';
import { newCaptureStats, type CaptureStats } from '../stats.ts';
import { TCP_ACK, TCP_PSH, TCP_SYN, type TcpSegment, type UdpDatagram } from './packet.ts';
import { ETHERTYPE, ascii, concat, ethernet, ext6, ipv4, ipv6, nullLink, sll, sll2, tcp, udp } from '../../../test/helpers/packets.ts';

interface Seen {
  tcp: Array<Omit<TcpSegment, 'payload'> & { payload: string }>;
  udp: Array<Omit<UdpDatagram, 'payload'> & { payload: string }>;
  stats: CaptureStats;
  decoder: PacketDecoder;
}

/** Decodes frames and records what came out, copying payloads (they are views). */
function decode(linkType: number, ...frames: Uint8Array[]): Seen {
  const stats = newCaptureStats();
  const seen: Seen = { tcp: [], udp: [], stats, decoder: undefined as unknown as PacketDecoder };
  const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
  seen.decoder = new PacketDecoder(
    {
      tcp: (s) => seen.tcp.push({ ...s, payload: text(s.payload) }),
      udp: (d) => seen.udp.push({ ...d, payload: text(d.payload) }),
    },
    stats,
  );
  for (const data of frames) seen.decoder.frame({ tsUs: 1_000, linkType, data, origLen: data.length });
  return seen;
}

const HELLO = ascii('GET / HTTP/1.1\r\n\r\n');
const tcpHello = tcp({ srcPort: 51000, dstPort: 8080, seq: 0xfffffff0, ack: 0x80000001, flags: TCP_PSH | TCP_ACK, payload: HELLO });

test('Ethernet + IPv4 + TCP: addresses, ports, unsigned seq/ack, flags, payload', () => {
  const s = decode(1, ethernet(ETHERTYPE.IPV4, ipv4(tcpHello, { src: '192.168.1.10', dst: '10.96.0.1' })));
  assert.deepEqual(s.tcp, [
    {
      tsUs: 1_000,
      srcIp: '192.168.1.10',
      dstIp: '10.96.0.1',
      srcPort: 51000,
      dstPort: 8080,
      seq: 0xfffffff0,
      ack: 0x80000001,
      flags: TCP_PSH | TCP_ACK,
      payload: 'GET / HTTP/1.1\r\n\r\n',
    },
  ]);
  assert.equal(s.stats.malformed, 0);
  assert.equal(s.stats.ignored, 0);
});

test('802.1Q and stacked 802.1ad/802.1Q tags are skipped', () => {
  const inner = ipv4(tcpHello);
  const s = decode(
    1,
    ethernet(ETHERTYPE.IPV4, inner, [[ETHERTYPE.VLAN, 100]]),
    ethernet(ETHERTYPE.IPV4, inner, [[ETHERTYPE.QINQ, 10], [ETHERTYPE.VLAN, 20]]),
    ethernet(ETHERTYPE.IPV4, inner, [[0x9100, 1], [ETHERTYPE.QINQ, 2], [ETHERTYPE.VLAN, 3]]),
  );
  assert.equal(s.tcp.length, 3);
  for (const t of s.tcp) assert.equal(t.payload, 'GET / HTTP/1.1\r\n\r\n');
  // A tag cut in the middle is malformed.
  const cut = ethernet(ETHERTYPE.IPV4, inner, [[ETHERTYPE.VLAN, 100]]).subarray(0, 16);
  assert.equal(decode(1, cut).stats.malformed, 1);
});

test('Linux SLL, SLL2, raw IP (101, 12, 14, 228, 229), NULL in both byte orders, LOOP', () => {
  const v4 = ipv4(tcpHello);
  const v6 = ipv6(tcpHello);
  const cases: Array<[number, Uint8Array, string]> = [
    [113, sll(ETHERTYPE.IPV4, v4), '10.0.0.1'],
    [113, sll(ETHERTYPE.IPV6, v6), '2001:db8::1'],
    [276, sll2(ETHERTYPE.IPV4, v4), '10.0.0.1'],
    [276, sll2(ETHERTYPE.IPV6, v6), '2001:db8::1'],
    [101, v4, '10.0.0.1'],
    [101, v6, '2001:db8::1'],
    [12, v4, '10.0.0.1'],
    [14, v6, '2001:db8::1'],
    [228, v4, '10.0.0.1'],
    [229, v6, '2001:db8::1'],
    [0, nullLink(2, v4, true), '10.0.0.1'],
    [0, nullLink(2, v4, false), '10.0.0.1'],
    [0, nullLink(24, v6, true), '2001:db8::1'],
    [0, nullLink(28, v6, false), '2001:db8::1'],
    [0, nullLink(30, v6, true), '2001:db8::1'],
    [108, nullLink(2, v4, false), '10.0.0.1'],
    [108, nullLink(24, v6, false), '2001:db8::1'],
  ];
  for (const [linkType, frame, src] of cases) {
    const s = decode(linkType, frame);
    assert.equal(s.tcp.length, 1, `link type ${linkType}`);
    assert.equal(s.tcp[0].srcIp, src, `link type ${linkType}`);
    assert.equal(s.tcp[0].payload, 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(s.stats.malformed + s.stats.ignored, 0);
  }
});

test('non-IP frames and unknown link types are ignored, not malformed', () => {
  const arp = ethernet(ETHERTYPE.ARP, new Uint8Array(28));
  const llc = ethernet(0x0026, new Uint8Array(38)); // 802.3 length field
  const icmp = ethernet(ETHERTYPE.IPV4, ipv4(new Uint8Array(8), { proto: 1 }));
  const icmp6 = ethernet(ETHERTYPE.IPV6, ipv6(new Uint8Array(8), { next: 58 }));
  const noNext = ethernet(ETHERTYPE.IPV6, ipv6(new Uint8Array(0), { next: 59 }));
  const s = decode(1, arp, llc, icmp, icmp6, noNext);
  assert.equal(s.stats.ignored, 5);
  assert.equal(s.stats.malformed, 0);
  const other = decode(105, new Uint8Array(40));
  assert.equal(other.stats.ignored, 1);
  const appletalk = decode(0, nullLink(7, new Uint8Array(20), true));
  assert.equal(appletalk.stats.ignored, 1);
});

test('IPv4 options are skipped by the header length', () => {
  // Record Route (7) with room for 2 addresses, then NOP; 12 option bytes -> IHL 8.
  const s = decode(101, ipv4(tcpHello, { options: [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1] }));
  assert.equal(s.tcp.length, 1);
  assert.equal(s.tcp[0].srcPort, 51000);
  assert.equal(s.tcp[0].payload, 'GET / HTTP/1.1\r\n\r\n');
});

test('TCP options are skipped by the data offset', () => {
  // MSS, SACK permitted, timestamps, window scale (a typical SYN: 20 option bytes).
  const options = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
  const s = decode(101, ipv4(tcp({ flags: TCP_SYN, options, payload: ascii('x') })));
  assert.equal(s.tcp[0].flags, TCP_SYN);
  assert.equal(s.tcp[0].payload, 'x');
});

test('Ethernet padding after a short IPv4 packet is not payload', () => {
  const pkt = ipv4(tcp({ flags: TCP_ACK }));
  const padded = concat(ethernet(ETHERTYPE.IPV4, pkt), new Uint8Array(60 - 14 - pkt.length).fill(0xee));
  const s = decode(1, padded);
  assert.equal(s.tcp[0].payload, '');
});

test('IPv4 total length 0 (TSO) uses the captured length', () => {
  const s = decode(101, ipv4(tcpHello, { totalLength: 0 }));
  assert.equal(s.tcp[0].payload, 'GET / HTTP/1.1\r\n\r\n');
  assert.equal(s.stats.malformed, 0);
});

test('a snaplen cut delivers what was captured', () => {
  const full = ipv4(tcpHello);
  const cut = full.subarray(0, full.length - 5);
  const s = decode(101, cut);
  assert.equal(s.tcp[0].payload, 'GET / HTTP/1.');
  assert.equal(s.stats.malformed, 0);
  // IPv6 and UDP alike (UDP length larger than captured is clamped).
  const u = ipv6(udp({ payload: ascii('abcdef') }), { next: 17 });
  const s6 = decode(101, u.subarray(0, u.length - 2));
  assert.equal(s6.udp[0].payload, 'abcd');
});

test('truncated or inconsistent headers are malformed, never thrown', () => {
  const v4 = ipv4(tcpHello);
  const badIhl = v4.slice();
  badIhl[0] = 0x44; // IHL 16 bytes < 20
  const bigIhl = ipv4(new Uint8Array(0), { proto: 6 }).slice();
  bigIhl[0] = 0x4f; // 60-byte header in a 20-byte packet
  const badTotal = ipv4(tcpHello, { totalLength: 10 });
  const badVersion = v4.slice();
  badVersion[0] = 0x55;
  const shortTcp = ipv4(new Uint8Array(12));
  const badOffset = ipv4(tcpHello).slice();
  badOffset[20 + 12] = 0x30; // data offset 12 bytes
  const hugeOffset = ipv4(tcp()).slice();
  hugeOffset[20 + 12] = 0xf0; // 60 bytes of header in a 20-byte segment
  const shortUdp = ipv4(new Uint8Array(5), { proto: 17 });
  const badUdpLen = ipv4(udp({ length: 4, payload: ascii('zz') }), { proto: 17 });
  const frames = [
    new Uint8Array(0),
    v4.subarray(0, 19),
    badIhl,
    bigIhl,
    badTotal,
    badVersion,
    shortTcp,
    badOffset,
    hugeOffset,
    shortUdp,
    badUdpLen,
    ipv6(tcpHello).subarray(0, 39),
    ipv6(concat(ext6(6, 4), tcpHello), { next: 0 }).subarray(0, 50), // extension header past the end
  ];
  const s = decode(101, ...frames);
  assert.equal(s.stats.malformed, frames.length);
  assert.equal(s.tcp.length + s.udp.length, 0);
  const eth = decode(1, new Uint8Array(13), ethernet(ETHERTYPE.IPV4, new Uint8Array(0)));
  assert.equal(eth.stats.malformed, 2);
  const links = [
    decode(113, new Uint8Array(15)),
    decode(276, new Uint8Array(19)),
    decode(0, new Uint8Array(3)),
    decode(108, new Uint8Array(3)),
  ];
  for (const l of links) assert.equal(l.stats.malformed, 1);
});

test('IPv6 extension headers are walked to the transport header', () => {
  const payload = concat(ext6(43, 1), ext6(60, 2), ext6(6, 1), tcpHello);
  const s = decode(229, ipv6(payload, { next: 0 }));
  assert.equal(s.tcp.length, 1);
  assert.equal(s.tcp[0].payload, 'GET / HTTP/1.1\r\n\r\n');
  // Authentication Header: length in 4-byte units minus 2 (RFC 4302).
  const ah = new Uint8Array(16);
  ah[0] = 17;
  ah[1] = 2; // (2 + 2) * 4 = 16 bytes
  const s2 = decode(229, ipv6(concat(ah, udp({ payload: ascii('dns') })), { next: 51 }));
  assert.equal(s2.udp[0].payload, 'dns');
  // ESP hides what follows: ignored.
  assert.equal(decode(229, ipv6(new Uint8Array(16), { next: 50 })).stats.ignored, 1);
});

test('IPv6 payload length 0 (jumbogram or offload) uses the captured length', () => {
  const s = decode(229, ipv6(tcpHello, { payloadLength: 0 }));
  assert.equal(s.tcp[0].payload, 'GET / HTTP/1.1\r\n\r\n');
});

test('UDP: ports and payload, length field bounds the payload', () => {
  const s = decode(101, concat(ipv4(udp({ srcPort: 53, dstPort: 33333, payload: ascii('answer') }), { proto: 17 })));
  assert.deepEqual(s.udp, [{ tsUs: 1_000, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 53, dstPort: 33333, payload: 'answer' }]);
  // Length field shorter than the IP payload: the rest is not UDP payload.
  const short = decode(101, ipv4(udp({ length: 10, payload: ascii('abcd') }), { proto: 17 }));
  assert.equal(short.udp[0].payload, 'ab');
});
