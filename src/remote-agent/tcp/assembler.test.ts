import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newCaptureStats, type CaptureStats } from '../stats.ts';
import { InternalErrors, ProtocolViolation, type InternalErrorReport } from '../thrown-errors.ts';
import { TcpAssembler, type TcpLimits } from './assembler.ts';
import {
  ACK,
  CLIENT,
  FIN,
  FIN_ACK,
  handshake,
  RecordingFactory,
  RST,
  SegmentFeeder,
  SERVER,
  SYN,
  SYN_ACK,
  type TestSegment,
} from '../../../test/helpers/tcp-streams.ts';

interface Case {
  readonly name: string;
  readonly segments: readonly TestSegment[];
  readonly limits?: Partial<TcpLimits>;
  /** Capture time passed to closeAll at the end; omit to leave connections open. */
  readonly closeAllAt?: number;
  readonly want: readonly string[];
  readonly stats?: Partial<CaptureStats>;
  /** Connections still live after the segments (before closeAll). */
  readonly live?: number;
}

function run(c: Case): { factory: RecordingFactory; stats: CaptureStats; assembler: TcpAssembler; live: number } {
  const factory = new RecordingFactory();
  const stats = newCaptureStats();
  const assembler = new TcpAssembler(factory, stats, c.limits);
  new SegmentFeeder().feed(assembler, c.segments);
  const live = assembler.liveConnections;
  if (c.closeAllAt !== undefined) assembler.closeAll(c.closeAllAt);
  return { factory, stats, assembler, live };
}

function runTable(cases: readonly Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const { factory, stats, live } = run(c);
      assert.deepEqual(factory.events, c.want);
      for (const [key, value] of Object.entries(c.stats ?? {})) {
        assert.equal(stats[key as keyof CaptureStats], value, `stats.${key}`);
      }
      if (c.live !== undefined) assert.equal(live, c.live, 'live connections');
    });
  }
}

describe('TcpAssembler: ordering', () => {
  runTable([
    {
      name: 'in order: both directions delivered, FINs end them, connection closes once',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'GET ' },
        { from: 'c', seq: 1004, data: '/ HTTP' },
        { from: 's', seq: 5000, data: '200', ack: 1010 },
        { from: 'c', seq: 1010, flags: FIN_ACK, ack: 5003 },
        { from: 's', seq: 5003, flags: FIN_ACK, ack: 1011 },
        { from: 'c', seq: 1011, flags: ACK, ack: 5004 },
      ],
      closeAllAt: 100,
      want: ['0 data 0 GET ', '0 data 0 / HTTP', '0 data 1 200', '0 end 0', '0 end 1', '0 close fin'],
      stats: { connections: 1, gaps: 0, malformed: 0, expiredConnections: 0 },
      live: 0,
    },
    {
      name: 'reordered: a later segment waits for the hole to fill',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1004, data: 'EF' },
        { from: 'c', seq: 1006, data: 'GH' },
        { from: 'c', seq: 1002, data: 'CD' },
      ],
      want: ['0 data 0 AB', '0 data 0 CD', '0 data 0 EF', '0 data 0 GH'],
      stats: { gaps: 0, droppedBytes: 0 },
    },
    {
      name: 'reordered in reverse from the first byte after the SYN',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1006, data: 'GH' },
        { from: 'c', seq: 1004, data: 'EF' },
        { from: 'c', seq: 1002, data: 'CD' },
        { from: 'c', seq: 1000, data: 'AB' },
      ],
      want: ['0 data 0 AB', '0 data 0 CD', '0 data 0 EF', '0 data 0 GH'],
      stats: { gaps: 0 },
    },
    {
      name: 'duplicated: every packet twice (-i any on loopback) is delivered once',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1002, data: 'CD' },
        { from: 'c', seq: 1002, data: 'CD' },
        { from: 's', seq: 5000, data: 'ok', ack: 1004 },
        { from: 's', seq: 5000, data: 'ok', ack: 1004 },
      ],
      want: ['0 data 0 AB', '0 data 0 CD', '0 data 1 ok'],
      stats: { connections: 1, gaps: 0 },
    },
    {
      name: 'retransmission with a different split: only the new tail is delivered',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'ABCD' },
        { from: 'c', seq: 1002, data: 'xxEFGH' },
        { from: 'c', seq: 999, data: 'zABCDEFGHIJ' },
      ],
      want: ['0 data 0 ABCD', '0 data 0 EFGH', '0 data 0 IJ'],
    },
    {
      name: 'overlapping out-of-order segments: the first copy seen wins',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1002, data: 'CDEF' },
        { from: 'c', seq: 1004, data: 'xxGH' },
        { from: 'c', seq: 1000, data: 'AB' },
      ],
      want: ['0 data 0 AB', '0 data 0 CDEF', '0 data 0 GH'],
    },
    {
      name: 'a segment spanning two buffered ones fills only the holes between them',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1002, data: 'C' },
        { from: 'c', seq: 1006, data: 'G' },
        { from: 'c', seq: 1002, data: 'xDEFxHIJ' },
        { from: 'c', seq: 1000, data: 'AB' },
      ],
      want: ['0 data 0 AB', '0 data 0 C', '0 data 0 DEF', '0 data 0 G', '0 data 0 HIJ'],
    },
    {
      name: 'an in-order segment overlapping buffered bytes defers to them',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1002, data: 'cd' },
        { from: 'c', seq: 1000, data: 'ABCDEF' },
      ],
      want: ['0 data 0 AB', '0 data 0 cd', '0 data 0 EF'],
    },
    {
      name: 'a whole conversation captured twice (-i any on loopback): one connection, one copy',
      segments: ([
        ...handshake(),
        { from: 'c', seq: 1000, data: 'GET /', ack: 5000 },
        { from: 's', seq: 5000, data: 'HTTP/1.1 200', ack: 1005 },
        { from: 'c', seq: 1005, flags: FIN_ACK, ack: 5012 },
        { from: 's', seq: 5012, flags: FIN_ACK, ack: 1006 },
        { from: 'c', seq: 1006, flags: ACK, ack: 5013 },
      ] satisfies TestSegment[]).flatMap((segment) => [segment, segment]),
      closeAllAt: 100,
      want: ['0 data 0 GET /', '0 data 1 HTTP/1.1 200', '0 end 0', '0 end 1', '0 close fin'],
      stats: { connections: 1, gaps: 0, droppedBytes: 0 },
      live: 0,
    },
    {
      name: 'segments larger than the MTU (offloads) are delivered whole',
      segments: [...handshake(), { from: 'c', seq: 1000, data: 'x'.repeat(65_000) }],
      want: [`0 data 0 ${'x'.repeat(65_000)}`],
    },
  ]);
});

describe('TcpAssembler: SYN, FIN and RST', () => {
  runTable([
    {
      name: 'RST closes at once: no end, buffered bytes behind a hole flushed with a gap',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1004, data: 'EF' },
        { from: 's', seq: 5000, flags: RST },
        { from: 'c', seq: 1006, data: 'late' },
      ],
      closeAllAt: 100,
      want: ['0 data 0 AB', '0 gap 0 2', '0 data 0 EF', '0 close rst'],
      stats: { gaps: 1, gapBytes: 2, connections: 1 },
      live: 0,
    },
    {
      name: 'one FIN ends one direction; end of capture closes the rest',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'req', flags: FIN_ACK, ack: 5000 },
        { from: 's', seq: 5000, data: 'resp', ack: 1004 },
      ],
      closeAllAt: 100,
      want: ['0 data 0 req', '0 end 0', '0 data 1 resp', '0 close end-of-capture'],
      stats: { expiredConnections: 0 },
      live: 1,
    },
    {
      name: 'a FIN ahead of a hole waits for the hole',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1003, data: 'DEF', flags: FIN },
        { from: 'c', seq: 1000, data: 'ABC' },
      ],
      want: ['0 data 0 ABC', '0 data 0 DEF', '0 end 0'],
      stats: { gaps: 0 },
    },
    {
      name: 'both FINs seen with a hole left: the hole is declared and the connection closes',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1004, data: 'EF', flags: FIN },
        { from: 's', seq: 5000, flags: FIN },
      ],
      want: ['0 data 0 AB', '0 end 1', '0 gap 0 2', '0 data 0 EF', '0 end 0', '0 close fin'],
      stats: { gaps: 1, gapBytes: 2 },
      live: 0,
    },
    {
      name: 'retransmitted SYN and SYN-ACK are harmless',
      segments: [
        { from: 'c', seq: 999, flags: SYN },
        { from: 'c', seq: 999, flags: SYN },
        { from: 's', seq: 4999, flags: SYN_ACK, ack: 1000 },
        { from: 's', seq: 4999, flags: SYN_ACK, ack: 1000 },
        { from: 'c', seq: 1000, data: 'hi', ack: 5000 },
      ],
      want: ['0 data 0 hi'],
      stats: { connections: 1 },
    },
    {
      name: 'a stray ACK, FIN or RST of an unknown connection opens nothing and counts nothing',
      segments: [
        { from: 'c', seq: 1000, flags: ACK, ack: 5000 },
        { from: 's', seq: 5000, flags: FIN_ACK, ack: 1000 },
        { from: 'c', seq: 1000, flags: RST },
        { from: 'c', seq: 1000, flags: RST, data: 'rst payload' },
      ],
      closeAllAt: 100,
      want: [],
      stats: { connections: 0, malformed: 0, gaps: 0 },
    },
    {
      name: 'a late duplicate of the closing segment does not reopen the connection',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'GET', flags: FIN_ACK, ack: 5000 },
        { from: 's', seq: 5000, data: 'bye', flags: FIN_ACK, ack: 1004 },
        { from: 's', seq: 5000, data: 'bye', flags: FIN_ACK, ack: 1004 },
        { from: 'c', seq: 1004, flags: ACK, ack: 5004 },
      ],
      closeAllAt: 100,
      want: ['0 data 0 GET', '0 end 0', '0 data 1 bye', '0 end 1', '0 close fin'],
      stats: { connections: 1 },
      live: 0,
    },
    {
      name: 'SYN-ACK without its SYN: the receiver is known to be the client',
      segments: [
        { from: 's', seq: 4999, flags: SYN_ACK, ack: 1000 },
        { from: 'c', seq: 1000, data: 'hi', ack: 5000 },
        { from: 's', seq: 5000, data: 'yo', ack: 1002 },
      ],
      want: ['0 data 0 hi', '0 data 1 yo'],
    },
  ]);

  it('ConnectionInfo: the SYN sender is side a, known', () => {
    const { factory } = run({ name: '', segments: [{ from: 's', seq: 1, flags: SYN }], want: [] });
    assert.equal(factory.infos.length, 1);
    assert.deepEqual(factory.infos[0].a, SERVER);
    assert.deepEqual(factory.infos[0].b, CLIENT);
    assert.equal(factory.infos[0].aIsClientKnown, true);
  });

  it('ConnectionInfo: a SYN-ACK receiver is side a, known', () => {
    const { factory } = run({ name: '', segments: [{ from: 's', seq: 1, flags: SYN_ACK, ack: 9 }], want: [] });
    assert.deepEqual(factory.infos[0].a, CLIENT);
    assert.equal(factory.infos[0].aIsClientKnown, true);
  });
});

describe('TcpAssembler: mid-connection start', () => {
  runTable([
    {
      name: 'no SYN: each direction starts at its first segment; earlier bytes are dropped',
      segments: [
        { from: 's', seq: 7000, data: 'HTTP/1.1 200', ack: 3000 },
        { from: 'c', seq: 3000, data: 'GET /next' },
        { from: 's', seq: 6990, data: 'old bytes!' },
        { from: 's', seq: 7012, data: ' OK' },
      ],
      want: ['0 data 1 HTTP/1.1 200', '0 data 0 GET /next', '0 data 1  OK'],
      stats: { connections: 1, gaps: 0 },
    },
  ]);

  it('guesses the client from the ports when the handshake was not captured', () => {
    const db = { ip: '10.0.0.9', port: 5432 };
    const app = { ip: '10.0.0.8', port: 6000 };
    const { factory } = run({
      name: '',
      segments: [
        // The server speaks first, from a port above 1024 that is still a known service port.
        { from: 's', seq: 1, data: 'R', server: db, client: app },
        // Two high ports: the higher one is the ephemeral client.
        { from: 'c', seq: 1, data: 'x', client: { ip: '10.0.0.1', port: 20000 }, server: { ip: '10.0.0.2', port: 51000 } },
      ],
      want: [],
    });
    assert.deepEqual(factory.infos[0].a, app);
    assert.deepEqual(factory.infos[0].b, db);
    assert.equal(factory.infos[0].aIsClientKnown, false);
    assert.deepEqual(factory.infos[1].a, { ip: '10.0.0.2', port: 51000 });
    assert.equal(factory.infos[1].index, 1);
  });
});

describe('TcpAssembler: sequence wrap-around', () => {
  const isn = 0xffff_fff9; // data starts at 0xffff_fffa: six bytes before the wrap
  runTable([
    {
      name: 'in order across 2^32',
      segments: [
        ...handshake(isn, 0xffff_ffff),
        { from: 'c', seq: 0xffff_fffa, data: 'ABCD' },
        { from: 'c', seq: 0xffff_fffe, data: 'EFGH' },
        { from: 'c', seq: 2, data: 'IJ' },
        { from: 's', seq: 0, data: 'srv', ack: 4 },
      ],
      want: ['0 data 0 ABCD', '0 data 0 EFGH', '0 data 0 IJ', '0 data 1 srv'],
      stats: { gaps: 0 },
    },
    {
      name: 'reordered and overlapping across 2^32',
      segments: [
        ...handshake(isn),
        { from: 'c', seq: 2, data: 'IJ' },
        { from: 'c', seq: 0xffff_fffe, data: 'EFGH' },
        { from: 'c', seq: 0xffff_fffc, data: 'CDxxxx' },
        { from: 'c', seq: 0xffff_fffa, data: 'AB' },
        { from: 'c', seq: 4, data: 'K', flags: FIN },
      ],
      want: ['0 data 0 AB', '0 data 0 CD', '0 data 0 EFGH', '0 data 0 IJ', '0 data 0 K', '0 end 0'],
      stats: { gaps: 0 },
    },
    {
      name: 'a lost segment across 2^32 is resolved by the peer ACK',
      segments: [
        ...handshake(isn),
        { from: 'c', seq: 0xffff_fffa, data: 'AB' },
        { from: 'c', seq: 2, data: 'IJ' },
        { from: 's', seq: 5000, flags: ACK, ack: 4 },
      ],
      want: ['0 data 0 AB', '0 gap 0 6', '0 data 0 IJ'],
      stats: { gaps: 1, gapBytes: 6 },
    },
  ]);
});

describe('TcpAssembler: lost segments', () => {
  runTable([
    {
      name: 'the peer ACKs beyond the hole: gap with the exact byte count, then the buffered data',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        // 1002..1004 ("CDE") never captured
        { from: 'c', seq: 1005, data: 'FG' },
        { from: 'c', seq: 1007, data: 'HI' },
        { from: 's', seq: 5000, flags: ACK, ack: 1009 },
        { from: 'c', seq: 1009, data: 'JK' },
      ],
      want: ['0 data 0 AB', '0 gap 0 3', '0 data 0 FG', '0 data 0 HI', '0 data 0 JK'],
      stats: { gaps: 1, gapBytes: 3, droppedBytes: 0 },
    },
    {
      name: 'an ACK seen before the data behind the hole still resolves it',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 's', seq: 5000, data: 'resp', ack: 1004 },
        { from: 'c', seq: 1004, data: 'EF' },
      ],
      want: ['0 data 0 AB', '0 data 1 resp', '0 gap 0 2', '0 data 0 EF'],
      stats: { gaps: 1, gapBytes: 2 },
    },
    {
      name: 'an ACK into the middle of the hole declares only what the peer received',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1006, data: 'GH' },
        { from: 's', seq: 5000, flags: ACK, ack: 1003 },
        { from: 'c', seq: 1003, data: 'DEF' },
      ],
      want: ['0 data 0 AB', '0 gap 0 1', '0 data 0 DEF', '0 data 0 GH'],
      stats: { gaps: 1, gapBytes: 1 },
    },
    {
      name: 'a bare hole at the tail is not declared on an ACK alone (the segment may be late)',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 's', seq: 5000, flags: ACK, ack: 1004 },
        { from: 'c', seq: 1002, data: 'CD' },
      ],
      want: ['0 data 0 AB', '0 data 0 CD'],
      stats: { gaps: 0 },
    },
    {
      name: 'the peer ACK covering a FIN behind a hole ends the direction',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1004, flags: FIN_ACK, ack: 5000 },
        { from: 's', seq: 5000, flags: ACK, ack: 1005 },
      ],
      want: ['0 data 0 AB', '0 gap 0 2', '0 end 0'],
      stats: { gaps: 1, gapBytes: 2 },
    },
    {
      name: 'end of capture flushes data behind a hole with a gap',
      segments: [...handshake(), { from: 'c', seq: 1000, data: 'AB' }, { from: 'c', seq: 1010, data: 'KL' }],
      closeAllAt: 50,
      want: ['0 data 0 AB', '0 gap 0 8', '0 data 0 KL', '0 close end-of-capture'],
      stats: { gaps: 1, gapBytes: 8 },
    },
  ]);
});

describe('TcpAssembler: memory caps', () => {
  runTable([
    {
      name: 'per-connection cap: the hole is declared once the buffer would pass the cap',
      limits: { maxBufferedBytesPerConnection: 4 },
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'AB' },
        { from: 'c', seq: 1004, data: 'EFG' },
        { from: 'c', seq: 1007, data: 'HIJ' },
        { from: 'c', seq: 1010, data: 'K' },
      ],
      want: ['0 data 0 AB', '0 gap 0 2', '0 data 0 EFG', '0 data 0 HIJ', '0 data 0 K'],
      stats: { gaps: 1, gapBytes: 2 },
    },
    {
      name: 'global cap: the connection holding the most bytes skips its hole',
      limits: { maxBufferedBytesTotal: 6 },
      segments: [
        ...handshake(),
        { from: 'c', seq: 1002, data: 'CDEF' },
        { from: 'c', seq: 1000, data: 'x', client: { ip: '10.0.0.3', port: 40001 } },
        { from: 'c', seq: 1002, data: 'zzz', client: { ip: '10.0.0.3', port: 40001 } },
      ],
      want: ['1 data 0 x', '0 gap 0 2', '0 data 0 CDEF'],
      stats: { gaps: 1, gapBytes: 2, connections: 2 },
    },
  ]);

  it('bufferedBytes tracks held bytes and returns to zero', () => {
    const factory = new RecordingFactory();
    const stats = newCaptureStats();
    const assembler = new TcpAssembler(factory, stats, { maxBufferedBytesTotal: 6 });
    const feeder = new SegmentFeeder();
    const other = { ip: '10.0.0.3', port: 40001 };
    feeder.feed(assembler, [...handshake(), { from: 'c', seq: 1002, data: 'CDEF' }]);
    assert.equal(assembler.bufferedBytes, 4);
    feeder.feed(assembler, [
      { from: 'c', seq: 1000, data: 'x', client: other },
      { from: 'c', seq: 1002, data: 'zzz', client: other },
    ]);
    // 4 + 3 > 6: connection 0 held more and skipped its hole; connection 1 still holds 3.
    assert.equal(assembler.bufferedBytes, 3);
    assembler.closeAll(10);
    assert.equal(assembler.bufferedBytes, 0);
    assert.deepEqual(factory.events.slice(-3), ['1 gap 0 1', '1 data 0 zzz', '1 close end-of-capture']);
    assert.equal(stats.gaps, 2);
    assert.equal(stats.gapBytes, 3);
  });
});

describe('TcpAssembler: lifetime', () => {
  const S = 1_000_000;
  const other = { ip: '10.0.0.3', port: 40001 };
  const third = { ip: '10.0.0.4', port: 40002 };
  runTable([
    {
      name: 'idle expiry by capture time, checked by segment() itself',
      limits: { idleTimeoutUs: 10 * S },
      segments: [
        { from: 'c', seq: 1, data: 'a', tsUs: 0 },
        { from: 'c', seq: 1, data: 'b', tsUs: 5 * S, client: other },
        { from: 'c', seq: 2, data: 'c', tsUs: 12 * S, client: other },
      ],
      want: ['0 data 0 a', '1 data 0 b', '0 close idle', '1 data 0 c'],
      stats: { expiredConnections: 1, connections: 2 },
      live: 1,
    },
    {
      name: 'an idle connection that speaks again becomes a new connection',
      limits: { idleTimeoutUs: 10 * S },
      segments: [
        { from: 'c', seq: 1, data: 'a', tsUs: 0 },
        { from: 'c', seq: 2, data: 'b', tsUs: 30 * S },
      ],
      want: ['0 data 0 a', '0 close idle', '1 data 0 b'],
      stats: { expiredConnections: 1, connections: 2 },
    },
    {
      name: 'eviction: past maxConnections the least recently active connection goes',
      limits: { maxConnections: 2 },
      segments: [
        { from: 'c', seq: 1, data: 'a' },
        { from: 'c', seq: 1, data: 'b', client: other },
        { from: 'c', seq: 2, data: 'a' }, // connection 0 is now more recent than 1
        { from: 'c', seq: 1, data: 'c', client: third },
      ],
      want: ['0 data 0 a', '1 data 0 b', '0 data 0 a', '1 close evicted', '2 data 0 c'],
      stats: { expiredConnections: 1, connections: 3 },
      live: 2,
    },
    {
      name: 'port reuse after close: a new SYN (new ISN) is a new connection',
      segments: [
        ...handshake(),
        { from: 'c', seq: 1000, data: 'one' },
        { from: 'c', seq: 1003, flags: FIN_ACK, ack: 5000 },
        { from: 's', seq: 5000, flags: FIN_ACK, ack: 1004 },
        ...handshake(90_000, 70_000),
        { from: 'c', seq: 90_001, data: 'two' },
      ],
      want: ['0 data 0 one', '0 end 0', '0 end 1', '0 close fin', '1 data 0 two'],
      stats: { connections: 2, expiredConnections: 0 },
    },
    {
      name: 'port reuse while the old connection looked live: the old one is closed first',
      segments: [...handshake(), { from: 'c', seq: 1000, data: 'one' }, ...handshake(90_000, 70_000), { from: 'c', seq: 90_001, data: 'two' }],
      want: ['0 data 0 one', '0 close evicted', '1 data 0 two'],
      stats: { connections: 2, expiredConnections: 1 },
    },
  ]);

  it('expireIdle(now) closes only connections idle longer than the timeout', () => {
    const factory = new RecordingFactory();
    const stats = newCaptureStats();
    const assembler = new TcpAssembler(factory, stats, { idleTimeoutUs: 10 * S });
    new SegmentFeeder().feed(assembler, [
      { from: 'c', seq: 1, data: 'a', tsUs: 0 },
      { from: 'c', seq: 1, data: 'b', tsUs: 8 * S, client: other },
    ]);
    assembler.expireIdle(10 * S);
    assert.equal(assembler.liveConnections, 2);
    assembler.expireIdle(10 * S + 1);
    assert.equal(assembler.liveConnections, 1);
    assert.deepEqual(factory.events.slice(-1), ['0 close idle']);
    assert.equal(stats.expiredConnections, 1);
  });

  const throwingRun = (error: () => Error): { factory: RecordingFactory; stats: CaptureStats; assembler: TcpAssembler; reports: InternalErrorReport[] } => {
    const factory = new RecordingFactory();
    factory.throwOnData = error;
    const stats = newCaptureStats();
    const reports: InternalErrorReport[] = [];
    const assembler = new TcpAssembler(factory, stats, {}, new InternalErrors(stats, (r) => reports.push(r)));
    new SegmentFeeder().feed(assembler, [
      ...handshake(),
      { from: 'c', seq: 1000, data: 'AB' },
      { from: 'c', seq: 1002, data: 'CD' },
      { from: 'c', seq: 1004, flags: FIN_ACK, ack: 5000 },
      { from: 's', seq: 5000, flags: FIN_ACK, ack: 1005 },
    ]);
    assembler.closeAll(100);
    assembler.closeAll(200);
    assembler.expireIdle(1e12);
    return { factory, stats, assembler, reports };
  };

  it('a handler that throws a bug: counted as an internal error, reported, its connection dropped (closed once, nothing after)', () => {
    const { factory, stats, assembler, reports } = throwingRun(() => new TypeError('dissector bug'));
    assert.deepEqual(factory.events, ['0 data 0 AB', '0 close dropped']);
    assert.equal(stats.internalErrors, 1);
    assert.equal(stats.dissectionErrors, 0);
    assert.equal(stats.malformed, 0);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!.message, /in stream handler data: TypeError: dissector bug \| at /);
    assert.equal(assembler.liveConnections, 0);
  });

  it('a handler that throws a ProtocolViolation: counted as a dissection error, not a bug; the connection is dropped alike', () => {
    const { factory, stats, reports } = throwingRun(() => new ProtocolViolation('test', 'bad bytes'));
    assert.deepEqual(factory.events, ['0 data 0 AB', '0 close dropped']);
    assert.equal(stats.dissectionErrors, 1);
    assert.equal(stats.internalErrors, 0);
    assert.deepEqual(reports, []);
  });

  it('a factory that throws is a bug: counted and the capture goes on', () => {
    const stats = newCaptureStats();
    const assembler = new TcpAssembler(
      {
        open() {
          throw new Error('no dissector');
        },
      },
      stats,
    );
    new SegmentFeeder().feed(assembler, [{ from: 'c', seq: 1, data: 'a' }, { from: 'c', seq: 2, data: 'b' }]);
    assert.equal(stats.internalErrors, 1);
    assert.equal(stats.dissectionErrors, 0);
    assert.equal(stats.connections, 1);
    assert.equal(assembler.liveConnections, 1);
  });
});

describe('TcpAssembler: robustness and the hot path', () => {
  it('never throws on malformed segments; counts them', () => {
    const stats = newCaptureStats();
    const assembler = new TcpAssembler(new RecordingFactory(), stats);
    const good = new SegmentFeeder().build({ from: 'c', seq: 1, data: 'a' });
    assembler.segment({ ...good, seq: -1 });
    assembler.segment({ ...good, seq: Number.NaN });
    assembler.segment({ ...good, srcPort: 70_000 });
    assembler.segment({ ...good, payload: null as unknown as Uint8Array });
    assert.equal(stats.malformed, 4);
    assert.equal(stats.connections, 0);
  });

  it('in-order data is passed through as the caller view, without a copy', () => {
    const factory = new RecordingFactory();
    const assembler = new TcpAssembler(factory, newCaptureStats());
    const feeder = new SegmentFeeder();
    const seg = feeder.build({ from: 'c', seq: 1000, data: 'hello' });
    assembler.segment(seg);
    assert.equal(factory.views.length, 1);
    assert.equal(factory.views[0], seg.payload);
  });

  it('random streams both ways, segmented, shuffled and duplicated, arrive exactly once and in order', () => {
    for (let round = 0; round < 40; round++) {
      const random = prng(round + 1);
      // Half the rounds start just before the 2^32 wrap.
      const nearWrap = (): number => 2 ** 32 - 1 - Math.floor(random() * 5000);
      const anywhere = (): number => Math.floor(random() * 2 ** 32);
      const clientIsn = round % 2 === 0 ? anywhere() : nearWrap();
      const serverIsn = round % 2 === 0 ? anywhere() : nearWrap();
      const request = randomBytes(random, 1 + Math.floor(random() * 20_000));
      const response = randomBytes(random, Math.floor(random() * 20_000));
      const segments = [
        ...messyCopy('c', (clientIsn + 1) >>> 0, request, random),
        ...messyCopy('s', (serverIsn + 1) >>> 0, response, random),
        // Only one FIN: two would close the connection as soon as both were seen.
        { from: 'c' as const, seq: clientIsn + 1 + request.length, flags: FIN },
      ];
      shuffle(segments, random);

      const received: [Uint8Array[], Uint8Array[]] = [[], []];
      const events: string[] = [];
      const stats = newCaptureStats();
      const assembler = new TcpAssembler(
        {
          open: () => ({
            data: (dir, bytes) => {
              received[dir].push(bytes.slice());
            },
            gap: (dir, n) => {
              events.push(`gap ${dir} ${n}`);
            },
            end: (dir) => {
              events.push(`end ${dir}`);
            },
            close: (reason) => {
              events.push(`close ${reason}`);
            },
          }),
        },
        stats,
      );
      new SegmentFeeder().feed(assembler, [
        { from: 'c', seq: clientIsn, flags: SYN },
        { from: 's', seq: serverIsn, flags: SYN_ACK, ack: clientIsn + 1 },
        ...segments,
      ]);
      assembler.closeAll(1e9);
      assert.deepEqual(Buffer.concat(received[0]), Buffer.from(request), `round ${round} request`);
      assert.deepEqual(Buffer.concat(received[1]), Buffer.from(response), `round ${round} response`);
      assert.deepEqual(events, ['end 0', 'close end-of-capture'], `round ${round}`);
      assert.equal(stats.gaps, 0);
      assert.equal(stats.connections, 1);
      assert.equal(assembler.bufferedBytes, 0);
    }
  });
});

function randomBytes(random: () => number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** The stream cut at random points, plus retransmissions with other boundaries and duplicates. */
function messyCopy(from: 'c' | 's', first: number, stream: Uint8Array, random: () => number): TestSegment[] {
  const segments: TestSegment[] = [];
  for (let at = 0; at < stream.length; ) {
    const len = Math.min(stream.length - at, 1 + Math.floor(random() * 3000));
    segments.push({ from, seq: first + at, data: stream.subarray(at, at + len) });
    at += len;
  }
  const extra = Math.floor(random() * segments.length);
  for (let i = 0; i < extra; i++) {
    const start = Math.floor(random() * stream.length);
    const end = Math.min(stream.length, start + 1 + Math.floor(random() * 4000));
    segments.push({ from, seq: first + start, data: stream.subarray(start, end) });
    segments.push(segments[Math.floor(random() * segments.length)]);
  }
  return segments;
}

/** A small deterministic PRNG (xorshift32), so a failing round can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

describe('TcpAssembler: finding a segment\'s connection', () => {
  // Same two ports, other addresses: one hash bucket. The third has the two addresses swapped.
  const b = { client: { ip: '10.0.0.3', port: 40000 } };
  const c = { client: { ip: '10.0.0.2', port: 40000 }, server: { ip: '10.0.0.1', port: 80 } };
  runTable([
    {
      name: 'connections with the same ports, interleaved: each segment goes to its own; closing one leaves the others',
      segments: [
        { from: 'c', seq: 1000, data: 'a1' },
        { from: 'c', seq: 1000, data: 'b1', ...b },
        { from: 'c', seq: 1000, data: 'c1', ...c },
        { from: 's', seq: 5000, data: 'A1' },
        { from: 's', seq: 5000, data: 'C1', ...c },
        { from: 's', seq: 5000, data: 'B1', ...b },
        { from: 'c', seq: 1002, flags: RST, ...b },
        { from: 'c', seq: 1002, data: 'c2', ...c },
        { from: 'c', seq: 1002, data: 'a2' },
        { from: 'c', seq: 1002, data: 'late', flags: ACK, ...b },
        { from: 's', seq: 5002, data: 'A2' },
      ],
      want: [
        '0 data 0 a1', '1 data 0 b1', '2 data 0 c1', '0 data 1 A1', '2 data 1 C1', '1 data 1 B1',
        '1 close rst', '2 data 0 c2', '0 data 0 a2', '0 data 1 A2',
      ],
      stats: { connections: 3 },
      live: 2,
    },
  ]);
});
