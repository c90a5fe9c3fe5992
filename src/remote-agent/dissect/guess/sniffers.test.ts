import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { SniffResult } from '../dissector.ts';
import { sniffHttp1 } from '../http1/start-line.ts';
import { DATAGRAM_SNIFFERS, GUESS_PREFIX_BYTES, STREAM_SNIFFERS, StreamGuess, UNKNOWN_PROTOCOL, guessDatagram } from './index.ts';
import type { SniffDirection } from './sniffer.ts';

const hex = (h: string): Uint8Array => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const u32 = (...values: number[]): Uint8Array => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
};
const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

/** A real DNS query (dig catalogue.shop.test A, with an EDNS OPT record). */
const DNS_QUERY = hex('1a2b 0120 0001 0000 0000 0001 09636174616c6f677565 0473686f70 0474657374 00 0001 0001 0000291000000000000000');

interface Case {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly direction: SniffDirection;
  readonly ports?: readonly number[];
  /** The id StreamGuess settles on ("unknown" when nothing matches). */
  readonly guess: string;
}

const STREAM_CASES: readonly Case[] = [
  { name: 'TLS ClientHello (record 3.1, handshake type 1)', bytes: hex('16 0301 0200 01 0001fc 0303'), direction: 'to-server', guess: 'tls' },
  { name: 'TLS ServerHello', bytes: hex('16 0303 007a 02 000076 0303'), direction: 'to-client', guess: 'tls' },
  { name: 'TLS application data joined midway', bytes: hex('17 0303 0045 8f21aa'), direction: 'to-client', guess: 'tls' },
  { name: 'HTTP/2 client preface', bytes: text('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00'), direction: 'to-server', guess: 'http2' },
  { name: 'HTTP/2 server SETTINGS', bytes: hex('000012 04 00 00000000 000300000064 000400010000 000600002000'), direction: 'to-client', guess: 'http2' },
  { name: 'PostgreSQL StartupMessage', bytes: concat(u32(41, 196608), text('user\0postgres\0database\0postgres\0\0')), direction: 'to-server', guess: 'postgresql' },
  { name: 'PostgreSQL SSLRequest', bytes: u32(8, 80877103), direction: 'to-server', guess: 'postgresql' },
  { name: 'PostgreSQL CancelRequest', bytes: u32(16, 80877102, 4242, 99), direction: 'to-server', guess: 'postgresql' },
  { name: 'Redis command (array of bulk strings)', bytes: text('*3\r\n$3\r\nSET\r\n$7\r\ncart:42\r\n$1\r\nx\r\n'), direction: 'to-server', guess: 'redis' },
  { name: 'Redis reply +OK', bytes: text('+OK\r\n'), direction: 'to-client', guess: 'redis' },
  { name: 'Redis error reply', bytes: text('-WRONGTYPE Operation against a key\r\n'), direction: 'to-client', guess: 'redis' },
  { name: 'Redis bulk reply', bytes: text('$11\r\n{"items":3}\r\n'), direction: 'to-client', guess: 'redis' },
  { name: 'DNS query over TCP on port 53', bytes: concat(hex('0033'), DNS_QUERY), direction: 'to-server', ports: [40000, 53], guess: 'dns' },
  { name: 'DNS-shaped bytes over TCP on another port', bytes: concat(hex('0033'), DNS_QUERY), direction: 'to-server', ports: [40000, 9000], guess: UNKNOWN_PROTOCOL },
  // Kafka Metadata v0: length, api key 3, version 0 (= 196608 read as one number), correlation id 1.
  { name: 'Kafka Metadata v0 is not a PostgreSQL startup', bytes: hex('00000019 0003 0000 00000001 000c6b61666b612d707974686f6e 00000000'), direction: 'to-server', guess: UNKNOWN_PROTOCOL },
  { name: 'POP3 greeting is not Redis', bytes: text('+OK POP3 server ready\r\n'), direction: 'to-client', guess: UNKNOWN_PROTOCOL },
  { name: 'MySQL server greeting', bytes: hex('4a0000 00 0a 382e302e3336 00'), direction: 'to-client', guess: UNKNOWN_PROTOCOL },
];

function guessOf(c: Case, cut = (b: Uint8Array): Uint8Array[] => [b]): string {
  const guess = new StreamGuess(c.ports ?? [40000, 40001]);
  for (const part of cut(c.bytes)) guess.push(c.direction, part);
  // The other direction says nothing (all sniffers say no to a zero byte run), as a reply would.
  guess.push(c.direction === 'to-server' ? 'to-client' : 'to-server', new Uint8Array(GUESS_PREFIX_BYTES));
  return guess.final();
}

for (const c of STREAM_CASES) {
  test(`stream guess: ${c.name} -> ${c.guess}`, () => {
    assert.equal(guessOf(c), c.guess);
    // Cut anywhere, and byte by byte: the same guess.
    for (let at = 1; at < c.bytes.length; at++) assert.equal(guessOf(c, (b) => [b.subarray(0, at), b.subarray(at)]), c.guess, `cut at ${at}`);
    assert.equal(guessOf(c, (b) => [...b].map((x) => Uint8Array.of(x))), c.guess, 'byte by byte');
  });
}

test('no sniffer takes an HTTP/1 request or response, and HTTP/1 takes none of theirs', () => {
  const http = [text('GET /catalogue HTTP/1.1\r\nHost: shop\r\n\r\n'), text('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')];
  for (const bytes of http) {
    for (const s of STREAM_SNIFFERS) for (const d of ['to-server', 'to-client'] as const) assert.notEqual(s.sniff(bytes, d), 'match', `${s.id} on ${d}`);
  }
  for (const c of STREAM_CASES) assert.notEqual(sniffHttp1(c.bytes), 'match', c.name);
});

test('a decided guess keeps no bytes, an undecided one at most GUESS_PREFIX_BYTES per direction', () => {
  const guess = new StreamGuess([1, 2]);
  // Redis-looking digits that never end: 'more' until the prefix is full, then unknown for that side.
  guess.push('to-server', text(`*${'1'.repeat(8)}`));
  assert.equal(guess.result, null);
  guess.push('to-server', new Uint8Array(10_000).fill(0x31));
  guess.push('to-client', new Uint8Array(GUESS_PREFIX_BYTES));
  assert.equal(guess.result, UNKNOWN_PROTOCOL);
  assert.equal(guess.push('to-server', hex('16 0303 0010 01')), UNKNOWN_PROTOCOL, 'decided is final');
});

test('datagrams: DNS needs its port and a header that fits the datagram', () => {
  assert.equal(guessDatagram(DNS_QUERY, 'to-server', [40000, 53]), 'dns');
  assert.equal(guessDatagram(DNS_QUERY, 'to-server', [5353, 5353]), 'dns');
  assert.equal(guessDatagram(DNS_QUERY, 'to-server', [40000, 5555]), UNKNOWN_PROTOCOL, 'DNS bytes on another port');
  assert.equal(guessDatagram(text('hello'), 'to-server', [40000, 53]), UNKNOWN_PROTOCOL, 'too short for a header');
  // 200 answers claimed in a 40-byte datagram.
  assert.equal(guessDatagram(hex('1a2b 8180 0001 00c8 0000 0000 03777777 00 0001 0001 0000000000000000000000'), 'to-client', [53, 40000]), UNKNOWN_PROTOCOL);
});

test('sniffers never throw and answer match, no or more on any bytes', () => {
  const answers = new Set<SniffResult>(['match', 'no', 'more']);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom<SniffDirection>('to-server', 'to-client'), (bytes, direction) => {
      for (const s of [...STREAM_SNIFFERS, ...DATAGRAM_SNIFFERS]) assert.ok(answers.has(s.sniff(bytes, direction)), s.id);
      const guess = new StreamGuess([53, 443]);
      guess.push(direction, bytes);
      assert.equal(typeof guess.final(), 'string');
    }),
    { numRuns: 2000 },
  );
});
