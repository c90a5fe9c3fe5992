import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concat, framed, ipv4, message, name, query, response, T, u32 } from '../../../../test/helpers/dns-wire.ts';
import { c, fakeConn, longestData, play, recorder, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import type { DnsEntry } from './entry.ts';
import { dnsStreamDissector } from './tcp.ts';

const SERVER = { ip: '10.0.0.53', port: 53 } as const;

function run(steps: readonly Step[], how: Chunking): { entries: DnsEntry[]; stats: ReturnType<typeof recorder>['stats'] } {
  const r = recorder();
  const stream = dnsStreamDissector.open(fakeConn({ b: SERVER }), r.ctx);
  play(stream, steps, how);
  stream.close('fin', 0);
  return { entries: r.all as unknown as DnsEntry[], stats: r.stats };
}

/** What an entry says, for comparing runs cut differently. */
function summary(e: DnsEntry): string {
  const q = e.request.questions[0];
  return `${e.id} ${e.request.id} ${q?.name} ${q?.type} -> ${e.response?.rcodeName ?? 'none'} ${e.response?.answers.map((a) => a.ip ?? a.ns ?? a.soa?.serial ?? a.type).join(',') ?? ''} (${e.response?.messages ?? 0} messages, ${e.responseSize} B) ${e.error?.msg ?? ''}`;
}

/** Every way to cut each data step: whole, at every offset, and byte by byte: the same entries. */
function everyCut(steps: readonly Step[]): string[] {
  const whole = run(steps, { kind: 'whole' }).entries.map(summary);
  const longest = longestData(steps);
  for (let at = 1; at < longest; at++) assert.deepEqual(run(steps, { kind: 'split', at }).entries.map(summary), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }).entries.map(summary), whole, 'byte by byte');
  return whole;
}

const soa = (serial: number): Uint8Array => concat(name('ns.x.test'), name('root.x.test'), u32(serial), u32(1), u32(1), u32(1), u32(1));

test('two queries in one segment, answered in another: framed by the length, paired by id, at every cut', () => {
  const steps = [
    c(concat(framed(query(0x1111, 'x.test', T.A)), framed(query(0x2222, 'x.test', T.AAAA))), 0),
    s(concat(framed(response(0x2222, 'x.test', T.AAAA, [])), framed(response(0x1111, 'x.test', T.A, [{ name: 'x.test', type: T.A, rdata: ipv4('10.1.2.3') }]))), 900),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-1 8738 x.test AAAA -> NOERROR  (1 messages, 24 B) ',
    '7-0 4369 x.test A -> NOERROR 10.1.2.3 (1 messages, 46 B) ',
  ]);
});

test('a zone transfer answered in three messages is one entry, ended by the closing SOA, at every cut', () => {
  const axfr = (records: { name: string; type: number; rdata: Uint8Array }[], withQuestion: boolean): Uint8Array =>
    message({ id: 0x0a0a, response: true, flags: 0x0400, questions: withQuestion ? [{ name: 'x.test', type: T.AXFR }] : [], answers: records });
  const steps = [
    c(framed(query(0x0a0a, 'x.test', T.AXFR)), 0),
    s(
      concat(
        framed(axfr([{ name: 'x.test', type: T.SOA, rdata: soa(7) }, { name: 'x.test', type: T.NS, rdata: name('ns.x.test') }], true)),
        framed(axfr([{ name: 'ns.x.test', type: T.A, rdata: ipv4('10.0.0.53') }], false)),
        framed(axfr([{ name: 'x.test', type: T.SOA, rdata: soa(7) }], false)),
      ),
      2000,
    ),
    c(framed(query(0x0b0b, 'y.test', T.A)), 3000),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-0 2570 x.test AXFR -> NOERROR 7,ns.x.test,10.0.0.53,7 (3 messages, 226 B) ',
    '7-1 2827 y.test A -> none  (0 messages, 0 B) connection closed (fin) before the response',
  ]);
});

test('a gap loses the direction (no length to resync on); the connection goes on being counted', () => {
  const { entries, stats } = run(
    [c(framed(query(1, 'a.test')), 0), { gap: 10, dir: 1 }, s(framed(response(1, 'a.test', T.A, [])), 10)],
    { kind: 'whole' },
  );
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.response, null);
  assert.equal(stats.unpairedRequests, 1);
});

test('strict sniff: a whole message after its length, or a long message whose header and questions read', () => {
  const q = framed(query(7, 'catalogue.shop.test'));
  assert.equal(dnsStreamDissector.sniff(q, 'to-server'), 'match');
  assert.equal(dnsStreamDissector.sniff(q.subarray(0, 10), 'to-server'), 'more');
  // "GE" reads as a long length and "T /" as a header: the questions decide, once 512 bytes are here.
  const http = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'.padEnd(600, 'a'));
  assert.equal(dnsStreamDissector.sniff(http.subarray(0, 100), 'to-server'), 'more');
  assert.equal(dnsStreamDissector.sniff(http, 'to-server'), 'no');
  assert.equal(dnsStreamDissector.sniff(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'.padEnd(600, 'a'), 'latin1'), 'to-server'), 'no');
  const bigAnswer = framed(response(7, 'x.test', T.TXT, Array.from({ length: 40 }, () => ({ name: 'x.test', type: T.TXT, rdata: concat(Uint8Array.of(200), new Uint8Array(200).fill(0x61)) }))));
  assert.equal(dnsStreamDissector.sniff(bigAnswer.subarray(0, 100), 'to-client'), 'more');
  assert.equal(dnsStreamDissector.sniff(bigAnswer.subarray(0, 600), 'to-client'), 'match');
});
