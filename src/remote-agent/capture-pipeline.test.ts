import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { ipv4 as ipv4Rdata, query, response, T } from '../../test/helpers/dns-wire.ts';
import { CapturePipeline } from './capture-pipeline.ts';
import type { DatagramDissector } from './dissect/dissector.ts';
import type { DnsEntry } from './dissect/dns/entry.ts';
import { dnsDatagramDissector } from './dissect/dns/index.ts';
import { ipv4, udp } from '../../test/helpers/packets.ts';
import { newCaptureStats } from './stats.ts';
import { InternalErrors } from './thrown-errors.ts';

const RAW_IP = 101;
const T0 = 1_704_067_200_000_000;
const CLIENT = '10.0.0.1';
const RESOLVER = '10.0.0.53';

function setup(options: ConstructorParameters<typeof CapturePipeline>[2] = {}) {
  const stats = newCaptureStats();
  const entries: DnsEntry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e: Entry) => entries.push(e as unknown as DnsEntry) }, { datagramDissectors: [dnsDatagramDissector], ...options });
  const send = (us: number, src: string, srcPort: number, dst: string, dstPort: number, payload: Uint8Array): void => {
    const data = ipv4(udp({ srcPort, dstPort, payload }), { proto: 17, src, dst });
    pipeline.frame({ tsUs: T0 + us, linkType: RAW_IP, data, origLen: data.length });
  };
  const ask = (us: number, port: number, bytes: Uint8Array): void => send(us, CLIENT, port, RESOLVER, 53, bytes);
  const answer = (us: number, port: number, bytes: Uint8Array): void => send(us, RESOLVER, 53, CLIENT, port, bytes);
  return { stats, entries, pipeline, send, ask, answer };
}

const A_ANSWER = [{ name: 'x.test', type: T.A, rdata: ipv4Rdata('10.1.2.3') }];

test('a UDP flow the DNS dissector takes becomes entries; one it does not is still counted by its guess', () => {
  const { stats, entries, pipeline, ask, answer, send } = setup();
  ask(0, 40000, query(1, 'x.test'));
  answer(1500, 40000, response(1, 'x.test', T.A, A_ANSWER));
  send(2000, CLIENT, 41000, RESOLVER, 9999, Uint8Array.of(1, 2, 3));
  // Bytes of the DNS flow that are not a DNS message: a violation, counted under dns.
  ask(2500, 40000, Uint8Array.of(1, 2, 3));
  pipeline.finish();
  assert.deepEqual([stats.dissectionErrors, stats.protocols['dns']?.violations, stats.protocols['dns']?.entries], [1, 1, 1]);
  assert.equal(entries.length, 1);
  const [e] = entries;
  assert.deepEqual([e!.id, e!.src.port, e!.dst.port, e!.elapsedTime, e!.response?.answers[0]?.ip], ['u0-0', 40000, 53, 1.5, '10.1.2.3']);
  assert.deepEqual({ ...stats.undissected.datagrams }, { unknown: 1 });
  assert.deepEqual({ ...stats.undissected.udpFlows }, { unknown: 1 });
});

test('retransmitted queries are one entry; a replayed answer is neither an entry nor an orphan', () => {
  const { stats, entries, pipeline, ask, answer } = setup();
  ask(0, 40000, query(7, 'x.test'));
  ask(1_000_000, 40000, query(7, 'x.test'));
  ask(2_000_000, 40000, query(7, 'x.test'));
  answer(2_000_300, 40000, response(7, 'x.test', T.A, A_ANSWER));
  answer(2_000_400, 40000, response(7, 'x.test', T.A, A_ANSWER));
  pipeline.finish();
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.elapsedTime, 2000.3, 'from the first sending');
  assert.deepEqual([stats.unpairedRequests, stats.orphanResponses], [0, 0]);
  assert.equal(stats.entries, 1);
});

test('a retransmission from a new socket (as dig sends it) moves the query to its flow: one entry', () => {
  const { stats, entries, pipeline, ask, answer } = setup();
  ask(0, 40000, query(9, 'x.test'));
  ask(1_000_000, 40001, query(9, 'x.test'));
  ask(1_000_100, 40002, query(9, 'other.test'));
  answer(1_000_500, 40001, response(9, 'x.test', T.A, A_ANSWER));
  pipeline.finish();
  assert.deepEqual(
    entries.map((e) => [e.id, e.src.port, e.request.questions[0]!.name, e.elapsedTime, e.error?.type ?? null]),
    [
      ['u0-0', 40001, 'x.test', 1000.5, null],
      ['u2-0', 40002, 'other.test', 0, 'timeout'],
    ],
    'another question under the same id is another query',
  );
  assert.deepEqual([stats.unpairedRequests, stats.orphanResponses], [1, 0]);
});

test('an unanswered query: the orderer sees it pending, and it comes out when its flow goes idle or at the end', () => {
  const { stats, entries, pipeline, ask, answer, send } = setup({ udp: { idleTimeoutUs: 30_000_000 } });
  ask(0, 40000, query(1, 'lost.test'));
  ask(100, 40001, query(2, 'late.test'));
  assert.equal(pipeline.oldestPendingUs(), T0);
  // Another flow, 31 s later: the first two flows went idle.
  send(31_000_000, CLIENT, 40002, RESOLVER, 53, query(3, 'end.test'));
  assert.deepEqual(entries.map((e) => [e.request.questions[0]!.name, e.error?.msg]), [
    ['lost.test', 'no response before the flow went idle'],
    ['late.test', 'no response before the flow went idle'],
  ]);
  assert.equal(pipeline.oldestPendingUs(), T0 + 31_000_000);
  answer(31_000_100, 40000, response(1, 'lost.test', T.A, []));
  assert.equal(stats.orphanResponses, 1, 'an answer after its flow was forgotten has no query');
  pipeline.finish();
  assert.equal(entries.at(-1)!.error?.msg, 'no response before the capture ended');
  assert.equal(stats.unpairedRequests, 3);
  assert.equal(pipeline.oldestPendingUs(), Infinity);
});

test('a datagram dissector that throws is counted as an internal error and its flow is given up', () => {
  const reports: string[] = [];
  const stats = newCaptureStats();
  const broken: DatagramDissector = {
    id: 'broken',
    protocol: 'broken',
    ports: [7],
    sniff: () => 'match',
    open: () => ({
      datagram: () => {
        throw new TypeError('bug');
      },
      close: () => undefined,
      oldestPendingUs: () => Infinity,
    }),
  };
  const pipeline = new CapturePipeline(stats, { entry: () => undefined }, { datagramDissectors: [broken], internalErrors: new InternalErrors(stats, (r) => reports.push(r.message)) });
  for (let i = 0; i < 3; i++) {
    const data = ipv4(udp({ srcPort: 7, dstPort: 7, payload: Uint8Array.of(i) }), { proto: 17 });
    pipeline.frame({ tsUs: T0 + i, linkType: RAW_IP, data, origLen: data.length });
  }
  pipeline.finish();
  assert.equal(stats.internalErrors, 1, 'once: the rest of the flow is ignored');
  assert.match(reports[0]!, /broken datagram: TypeError: bug/);
  assert.deepEqual({ ...stats.undissected.datagrams }, {}, 'a flow a dissector took is not undissected');
});

test('framesOutOfOrder: set by a frame stamped earlier than the one before, cleared when the next input starts', () => {
  const { pipeline, ask } = setup();
  ask(0, 40000, query(1, 'a.test'));
  ask(2_000, 40001, query(2, 'b.test'));
  assert.equal(pipeline.framesOutOfOrder, false);
  ask(1_000, 40002, query(3, 'c.test'));
  assert.equal(pipeline.framesOutOfOrder, true, 'a frame 1 ms behind the one before');
  ask(3_000, 40003, query(4, 'd.test'));
  assert.equal(pipeline.framesOutOfOrder, true, 'it stays for the rest of the input');
  pipeline.startInput();
  assert.equal(pipeline.framesOutOfOrder, false);
  ask(0, 40004, query(5, 'e.test'));
  assert.equal(pipeline.framesOutOfOrder, false, "a new file's first frame is not compared with the last file's");
  assert.equal(pipeline.nowUs, T0 + 3_000, 'the capture clock still only moves forward');
});
