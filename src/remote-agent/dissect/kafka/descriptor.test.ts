import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRequest, encodeResponse } from '../../../../test/helpers/kafka-wire.ts';
import type { PayloadRedactor } from '../../../model/protocol-descriptor.ts';
import { kafkaDescriptor, upperApiName } from './descriptor.ts';
import type { Entry } from '../../../model/entry.ts';
import { newCaptureStats } from '../../stats.ts';
import { DEFAULT_DISSECT_OPTIONS, dissectContextFor } from '../dissector.ts';
import { isKafkaEntry, type KafkaEntry } from './entry.ts';
import { kafkaDissector } from './index.ts';

/** The entry the dissector makes of this request and response (a close without one: no response). */
function entry(apiKey: number, version: number, request: Record<string, unknown>, response: Record<string, unknown> | null): KafkaEntry {
  const stats = newCaptureStats();
  const out: Entry[] = [];
  const ctx = dissectContextFor({ options: DEFAULT_DISSECT_OPTIONS, stats, emit: (e) => out.push(e) }, 'kafka');
  const stream = kafkaDissector.open({ index: 0, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 9092 }, aIsClientKnown: true, firstSeenUs: 0 }, ctx);
  stream.data(0, encodeRequest(apiKey, version, 11, 'shop-api', request), 1000);
  if (response !== null) stream.data(1, encodeResponse(apiKey, version, 11, response), 2000);
  stream.close('fin', 3000);
  assert.equal(out.length, 1);
  assert.ok(isKafkaEntry(out[0]));
  return out[0];
}

const produce = entry(0, 7, { acks: 1, topicData: [{ topic: 'orders', partitions: [{ partition: 0, records: { baseOffset: 0, records: [{ key: 'k', value: 'v' }] } }] }] }, {
  responses: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 2, baseOffset: -1 }] }],
});

test('the row: API name, topics, error name; an error code is an error', () => {
  const row = kafkaDescriptor.summarize(produce);
  assert.deepEqual([row.verb, row.target, row.outcome, row.isError, row.outcomeClass], ['Produce', 'orders', 'CORRUPT_MESSAGE', true, 'client-error']);
  assert.equal(row.verbQuery, 'kafka and request.apiKeyName == "Produce"');
  assert.equal(row.outcomeQuery, 'kafka and response.errorCode == 2');
  const hb = entry(12, 3, { groupId: 'g1', generationId: 1, memberId: 'm' }, { errorCode: 0 });
  const r2 = kafkaDescriptor.summarize(hb);
  assert.deepEqual([r2.target, r2.outcome, r2.isError], ['g1', 'NONE', false]);
  const lost = entry(3, 1, { topics: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] }, null);
  const r3 = kafkaDescriptor.summarize(lost);
  assert.deepEqual([r3.target, r3.isError], ['a, b, c +1', true]);
});

test('KFL2 kafka_* variables and the word kafka', () => {
  const get = (name: string): unknown => {
    const v = kafkaDescriptor.kfl.variables.find((x) => x.name === name);
    assert.ok(v !== undefined && v.kind === 'computed', name);
    return v.get(produce);
  };
  assert.equal(get('kafka_api_key'), 0);
  assert.equal(get('kafka_api_key_name'), 'PRODUCE');
  assert.equal(get('kafka_client_id'), 'shop-api');
  assert.equal(get('kafka_request'), true);
  assert.equal(get('kafka_response'), true);
  assert.equal(get('kafka_request_summary'), 'orders');
  assert.equal(get('kafka_request_size'), produce.requestSize);
  assert.equal(get('kafka_response_size'), produce.responseSize);
  assert.equal(get('kafka_size'), produce.requestSize + produce.responseSize);
  assert.equal(kafkaDescriptor.kfl.variables.length, 9);
  assert.equal(upperApiName('ApiVersions'), 'API_VERSIONS');
  assert.equal(upperApiName('FindCoordinator'), 'FIND_COORDINATOR');
  const word = kafkaDescriptor.kfl.words[0]!;
  assert.equal(word.word, 'kafka');
  assert.equal(word.matches({ name: 'kafka', version: '7', abbr: 'KAFKA' }), true);
  const other = kafkaDescriptor.kfl.variables.find((x) => x.name === 'kafka_api_key')!;
  assert.equal(other.kind === 'computed' ? other.get({ protocol: { name: 'http' } }) : 'x', null);
});

test('SaslAuthenticate bytes (a PLAIN password) are never shown: redacted on both sides', () => {
  const secret = '\0alice\0hunter2-secret';
  const sasl = entry(36, 1, { authBytes: { base64: Buffer.from(secret).toString('base64') } }, { errorCode: 0, authBytes: { base64: Buffer.from('server-final').toString('base64') } });
  assert.ok(JSON.stringify(sasl).includes(Buffer.from(secret).toString('base64')), 'the parser keeps it for the redaction to remove');
  const redactor = { redacted: '[REDACTED]' } as PayloadRedactor;
  const out = kafkaDescriptor.redact(sasl, redactor);
  const text = JSON.stringify(out);
  assert.ok(!text.includes(Buffer.from(secret).toString('base64')) && !text.includes('hunter2'));
  assert.equal(out.request.payload['authBytes'], '[REDACTED]');
  assert.equal(out.response?.payload['authBytes'], '[REDACTED]');
  assert.equal(kafkaDescriptor.redact(produce, redactor), produce, 'other APIs are returned as they are');
  const sections = JSON.stringify(kafkaDescriptor.represent(out));
  assert.ok(!sections.includes('hunter2'));
});

test('detail sections: header, topics, bodies; dedup key and edge label', () => {
  const sections = kafkaDescriptor.represent(produce);
  assert.deepEqual(sections.map((s) => s.title), ['Request', 'Header', 'Topics', 'Request payload', 'Response', 'Header', 'Response payload']);
  assert.equal(kafkaDescriptor.dedupKey(produce), '11|0|7|shop-api');
  assert.equal(kafkaDescriptor.edgeLabel(produce), 'KAFKA');
});
