import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRequest, encodeResponse } from '../../../../test/helpers/kafka-wire.ts';
import type { Entry } from '../../../model/entry.ts';
import { newCaptureStats } from '../../stats.ts';
import type { ConnectionInfo } from '../../tcp/stream.ts';
import { DEFAULT_DISSECT_OPTIONS, type DissectContext, type DissectorStream } from '../dissector.ts';
import type { KafkaEntry } from './entry.ts';
import { kafkaDissector } from './index.ts';
import { MAX_PENDING_PER_CONNECTION } from './stream.ts';

function conn(aIsClientKnown = true): ConnectionInfo {
  return { index: 3, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 9092 }, aIsClientKnown, firstSeenUs: 0 };
}

function open(aIsClientKnown = true, timeoutUs = DEFAULT_DISSECT_OPTIONS.responseTimeoutUs) {
  const stats = newCaptureStats();
  const entries: KafkaEntry[] = [];
  let violations = 0;
  const ctx: DissectContext = {
    options: { ...DEFAULT_DISSECT_OPTIONS, responseTimeoutUs: timeoutUs },
    stats,
    emit: (e: Entry) => entries.push(e as KafkaEntry),
    violation: () => void violations++,
  };
  const stream: DissectorStream = kafkaDissector.open(conn(aIsClientKnown), ctx);
  return { stream, entries, stats, violations: () => violations };
}

const metadata = (id: number, topic: string) => encodeRequest(3, 1, id, 'app', { topics: [{ name: topic }] });
const metadataAnswer = (id: number, topic: string, errorCode = 0) =>
  encodeResponse(3, 1, id, { brokers: [{ nodeId: 1, host: 'b', port: 9092 }], controllerId: 1, topics: [{ errorCode, name: topic, partitions: [] }] });

test('responses pair by correlation id in any order, each read with its request\'s API key and version', () => {
  const { stream, entries, stats } = open();
  const both = Buffer.concat([metadata(1, 'a'), encodeRequest(12, 4, 2, 'app', { groupId: 'g', generationId: 1, memberId: 'm' })]);
  stream.data(0, both.subarray(0, 7), 1000);
  stream.data(0, both.subarray(7), 1001);
  stream.data(1, encodeResponse(12, 4, 2, { errorCode: 25 }), 2000);
  stream.data(1, metadataAnswer(1, 'a', 3), 3000);
  stream.close('fin', 4000);
  assert.deepEqual(entries.map((e) => [e.id, e.request.apiKeyName, e.response?.errorName]), [
    ['3-1', 'Heartbeat', 'UNKNOWN_MEMBER_ID'],
    ['3-0', 'Metadata', 'UNKNOWN_TOPIC_OR_PARTITION'],
  ]);
  assert.equal(entries[1]!.elapsedTime, 2);
  assert.equal(entries[0]!.requestSize, both.length - metadata(1, 'a').length);
});

test('a Produce with acks=0 is complete as sent: no response, no error', () => {
  const { stream, entries, stats } = open();
  stream.data(0, encodeRequest(0, 3, 9, 'p', { acks: 0, topicData: [{ topic: 'logs', partitions: [{ partition: 0, records: { baseOffset: 0, records: [{ key: null, value: 'x' }] } }] }] }), 10);
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.response, null);
  assert.equal(entries[0]!.error, null);
  stream.close('fin', 20);
  assert.equal(stats.unpairedRequests, 0);
});

test('unanswered requests come out at the timeout, or at the close, with the reason', () => {
  const { stream, entries } = open(true, 1_000_000);
  stream.data(0, metadata(1, 'a'), 0);
  stream.data(0, metadata(2, 'b'), 2_000_000);
  assert.deepEqual(entries.map((e) => [e.request.correlationID, e.error?.type]), [[1, 'timeout']]);
  stream.close('end-of-capture', 2_500_000);
  assert.deepEqual(entries.map((e) => [e.request.correlationID, e.error?.msg]), [[1, 'no response within 1 s'], [2, 'capture ended before the response']]);
});

test('a size past 100 MiB loses the framing; the client side finds the next request header, the server side the next awaited correlation id', () => {
  const { stream, entries, violations } = open();
  stream.data(0, Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5]), 0);
  assert.equal(violations(), 1);
  stream.data(0, Buffer.concat([Buffer.from('garbage bytes'), metadata(7, 'resynced')]), 10);
  stream.data(1, Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 9, 9]), Buffer.from('more junk'), metadataAnswer(7, 'resynced')]), 20);
  stream.close('fin', 30);
  assert.deepEqual(entries.map((e) => [e.request.correlationID, e.response?.correlationID]), [[7, 7]]);
  assert.equal(violations(), 2, 'one lost framing per direction');
});

test('joining mid-stream without the SYN: the side that sends request headers is the client', () => {
  const { stream, entries } = open(false);
  // The capture starts inside a response (its tail), then a request and its answer.
  stream.data(1, Buffer.from([0, 0, 0, 0x10, 1, 2]), 0);
  stream.data(0, metadata(5, 't'), 10);
  stream.data(1, metadataAnswer(5, 't'), 20);
  stream.close('fin', 30);
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.src.port, 40000);
  assert.equal(entries[0]!.response?.correlationID, 5);
});

test('a flood of unanswered requests keeps at most the pending cap waiting', () => {
  const { stream, entries, stats } = open();
  const n = MAX_PENDING_PER_CONNECTION + 50;
  for (let i = 0; i < n; i++) stream.data(0, metadata(i, 't'), i);
  assert.equal(entries.length, 50, 'the oldest are emitted unanswered');
  assert.equal(entries[0]!.error?.type, 'pair-not-found');
  assert.equal(stream.oldestPendingUs(), 50);
  stream.close('fin', n);
  assert.equal(entries.length, n);
  assert.equal(stats.unpairedRequests, n);
});

test('a gap inside a message skips that message only', () => {
  const { stream, entries, violations } = open();
  const first = metadata(1, 'lost');
  stream.data(0, first.subarray(0, 10), 0);
  stream.gap(0, first.length - 10, 1);
  stream.data(0, metadata(2, 'kept'), 2);
  stream.data(1, metadataAnswer(2, 'kept'), 3);
  stream.close('fin', 4);
  assert.deepEqual(entries.map((e) => e.request.correlationID), [2]);
  assert.equal(violations(), 1);
});

test('sniff: a plausible request header either way round, nothing else', () => {
  const req = metadata(1, 't');
  assert.equal(kafkaDissector.sniff(req, 'to-server'), 'match');
  assert.equal(kafkaDissector.sniff(req.subarray(0, 10), 'to-server'), 'more');
  assert.equal(kafkaDissector.sniff(metadataAnswer(1, 't'), 'to-client'), 'no');
  assert.equal(kafkaDissector.sniff(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'to-server'), 'no');
  const badVersion = Buffer.from(req);
  badVersion.writeInt16BE(99, 6);
  assert.equal(kafkaDissector.sniff(badVersion, 'to-server'), 'no');
  const controlInId = Buffer.from(req);
  controlInId[14] = 0x1b;
  assert.equal(kafkaDissector.sniff(controlInId, 'to-server'), 'no');
});


test('SaslHandshake v0: the raw SASL tokens that follow it (a PLAIN password) are skipped, never an entry', () => {
  const { stream, entries } = open();
  const token = Buffer.from('\0alice\0hunter2-secret');
  stream.data(0, encodeRequest(17, 0, 1, 'app', { mechanism: 'PLAIN' }), 0);
  stream.data(1, encodeResponse(17, 0, 1, { errorCode: 0, mechanisms: ['PLAIN'] }), 1);
  const raw = Buffer.alloc(4 + token.length);
  raw.writeInt32BE(token.length, 0);
  token.copy(raw, 4);
  stream.data(0, raw, 2);
  stream.data(1, Buffer.alloc(4), 3); // the server's empty token
  stream.data(0, metadata(2, 'after-auth'), 4);
  stream.data(1, metadataAnswer(2, 'after-auth'), 5);
  stream.close('fin', 6);
  assert.deepEqual(entries.map((e) => e.request.apiKeyName), ['SaslHandshake', 'Metadata']);
  assert.ok(!JSON.stringify(entries).includes('hunter2'));
});

test('what waiting requests hold is bounded: past the cost budget a request comes out at once, unanswered', () => {
  const { stream, entries, stats } = open();
  const wide = (id: number) => encodeRequest(3, 1, id, 'app', { topics: Array.from({ length: 20_000 }, (_, i) => ({ name: `t${i % 10}` })) });
  for (let i = 0; i < 10; i++) stream.data(0, wide(i), i);
  // Each holds 40,001 values (about 2.5 MB as counted): 6 fit in 16 MiB, the rest do not wait.
  assert.deepEqual(entries.map((e) => [e.request.correlationID, e.error?.msg]), [6, 7, 8, 9].map((id) => [id, 'too many Kafka requests waiting for a response']));
  stream.data(1, metadataAnswer(0, 't0'), 20);
  stream.data(0, wide(10), 21);
  assert.equal(entries.length, 5, 'an answer frees room: the next request waits again');
  assert.equal(entries[4]!.response?.correlationID, 0);
  stream.close('fin', 30);
  assert.equal(stats.unpairedRequests, 4 + 6);
});
