import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RECORDS, REQUESTS, RESPONSES } from '../../../../test/helpers/kafka-samples.ts';
import { APIS, encodeRequest, encodeResponse, recordBatch } from '../../../../test/helpers/kafka-wire.ts';
import { apiKeyInfo, isFlexible } from './api-keys.ts';
import { DECODED_API_KEYS } from './bodies.ts';
import { errorCodeName } from './error-codes.ts';
import { firstErrorCode, parseRequest, parseResponse } from './message.ts';
import { summariseRecords } from './record-batch.ts';

/** A decoded payload made encodable again: record summaries back to the records they summarise. */
function reencodable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reencodable);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if ('batches' in o && 'recordCount' in o) {
    const batches = o['batches'] as { baseOffset: number }[];
    return batches.length === 0 ? { baseOffset: 0, records: [] } : { baseOffset: batches[0]!.baseOffset, records: o['sample'] ?? [] };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, reencodable(v)]));
}

test('every decoded API key has an encoder case, and the table names keys up to 70 and more', () => {
  for (const key of DECODED_API_KEYS) assert.ok(REQUESTS[key] !== undefined && RESPONSES[key] !== undefined, `key ${key}`);
  for (let key = 0; key <= 70; key++) assert.ok(apiKeyInfo(key) !== undefined, `key ${key} named`);
  assert.equal(apiKeyInfo(1000), undefined);
});

test('every supported body in every version: encoded by the test encoder, decoded whole, encoded again to the same bytes', () => {
  let cases = 0;
  for (const api of APIS) {
    for (let v = 0; v <= api.maxVersion; v++) {
      assert.equal(isFlexible(api.key, v), v >= api.flexibleFrom, `${api.name} v${v} flexible`);
      const reqBytes = encodeRequest(api.key, v, 1000 + v, 'client-x', REQUESTS[api.key]!);
      const req = parseRequest(reqBytes, reqBytes.length - 4, 64 * 1024);
      assert.ok(req !== null);
      assert.equal(req.decoded, 'body', `${api.name} v${v} request: ${req.note}`);
      assert.equal(req.note, undefined, `${api.name} v${v} request note`);
      assert.deepEqual([req.apiKey, req.apiKeyName, req.apiVersion, req.correlationID, req.clientID], [api.key, api.name, v, 1000 + v, 'client-x']);
      assert.deepEqual(encodeRequest(api.key, v, 1000 + v, 'client-x', reencodable(req.payload) as Record<string, unknown>), reqBytes, `${api.name} v${v} request round trip`);

      const resBytes = encodeResponse(api.key, v, 1000 + v, RESPONSES[api.key]!);
      const res = parseResponse(resBytes, resBytes.length - 4, api.key, v, 64 * 1024);
      assert.ok(res !== null);
      assert.equal(res.decoded, 'body', `${api.name} v${v} response: ${res.note}`);
      assert.equal(res.note, undefined, `${api.name} v${v} response note`);
      assert.equal(res.correlationID, 1000 + v);
      assert.deepEqual(encodeResponse(api.key, v, 1000 + v, reencodable(res.payload) as Record<string, unknown>), resBytes, `${api.name} v${v} response round trip`);
      cases++;
    }
  }
  assert.ok(cases > 100, `${cases} versions`);
});

test('Kubeshark paths: Produce topicData[].topic, Fetch topics[].topic, Metadata topics[].name, response errorCode', () => {
  const produce = parseRequest(encodeRequest(0, 9, 1, 'c', REQUESTS[0]!), 0, 1 << 16)!;
  assert.equal((produce.payload['topicData'] as { topic: string }[])[0]!.topic, 'orders');
  const fetch = parseRequest(encodeRequest(1, 12, 1, 'c', REQUESTS[1]!), 0, 1 << 16)!;
  assert.equal((fetch.payload['topics'] as { topic: string }[])[0]!.topic, 'orders');
  const metadata = parseRequest(encodeRequest(3, 12, 1, 'c', REQUESTS[3]!), 0, 1 << 16)!;
  assert.deepEqual((metadata.payload['topics'] as { name: string }[]).map((t) => t.name), ['orders', 'payments']);
  const heartbeat = parseResponse(encodeResponse(12, 4, 1, RESPONSES[12]!), 0, 12, 4, 1 << 16)!;
  assert.equal(heartbeat.payload['errorCode'], 27);
  assert.deepEqual([heartbeat.errorCode, heartbeat.errorName], [27, 'REBALANCE_IN_PROGRESS']);
  const meta = parseResponse(encodeResponse(3, 1, 1, RESPONSES[3]!), 0, 3, 1, 1 << 16)!;
  assert.deepEqual([meta.errorCode, meta.errorName], [3, 'UNKNOWN_TOPIC_OR_PARTITION'], 'a topic error is found below the top level');
});

test('record batches are summarised: base offset, count, size, compression; records kept within the byte budget', () => {
  const batch = recordBatch(RECORDS);
  const s = summariseRecords(batch, batch.length, { left: 1 << 16, records: 0 });
  assert.equal(s.recordCount, 2);
  assert.deepEqual(s.batches, [{ baseOffset: 42, magic: 2, compression: 'none', records: 2, sizeBytes: batch.length }]);
  assert.deepEqual(s.sample, [{ offset: 42, key: 'k1', value: 'hello' }, { offset: 43, key: null, value: 'world' }]);
  const none = summariseRecords(batch, batch.length, { left: 3, records: 0 });
  assert.equal(none.sample, undefined, 'no record fits a 3-byte budget');
  assert.equal(none.recordCount, 2, 'but all are counted');
  const gzip = Buffer.from(batch);
  gzip.writeInt16BE(1, 21); // attributes: gzip
  const g = summariseRecords(gzip, gzip.length, { left: 1 << 16, records: 0 });
  assert.equal(g.batches[0]!.compression, 'gzip');
  assert.equal(g.sample, undefined, 'compressed records are not read');
  const cut = summariseRecords(batch.subarray(0, 40), batch.length, { left: 1 << 16, records: 0 });
  assert.equal(cut.truncated, true);
});

test('unknown API keys and versions degrade to the header, flagged', () => {
  const unknownKey = Buffer.from('0000001103e800000000002a0006636c69656e74ff', 'hex');
  const r = parseRequest(unknownKey, 17, 1024)!;
  assert.deepEqual([r.apiKey, r.apiKeyName, r.apiVersion, r.correlationID, r.clientID, r.decoded], [1000, 'ApiKey1000', 0, 42, 'client', 'header']);
  assert.match(r.note!, /API key 1000 is not known/);
  const produce99 = encodeRequest(0, 9, 5, 'c', REQUESTS[0]!);
  produce99.writeInt16BE(99, 6);
  const p = parseRequest(produce99, produce99.length - 4, 1024)!;
  assert.deepEqual([p.apiKeyName, p.apiVersion, p.decoded], ['Produce', 99, 'header']);
  assert.match(p.note!, /Produce version 99 is not known/);
  const init = encodeRequest(18, 0, 5, 'c', {});
  init.writeInt16BE(22, 4); // InitProducerId: a known key whose bodies we do not decode
  assert.equal(parseRequest(init, init.length - 4, 1024)!.note, 'InitProducerId bodies are not decoded');
});

test('a damaged body is read up to the damage, and says so', () => {
  const bytes = encodeRequest(3, 1, 9, 'c', REQUESTS[3]!);
  const cut = bytes.subarray(0, bytes.length - 4);
  const r = parseRequest(cut, bytes.length - 4, 1024)!;
  assert.equal(r.decoded, 'partial');
  assert.match(r.note!, /cut/);
  const lying = Buffer.from(bytes);
  lying.writeInt32BE(0x7fffffff, 4 + 2 + 2 + 4 + 2 + 1); // the topics count
  const l = parseRequest(lying, lying.length - 4, 1024)!;
  assert.equal(l.decoded, 'partial');
  assert.match(l.note!, /malformed body: array of 2147483647 elements/);
});

test('error codes by name, and the first non-zero one of a body', () => {
  assert.equal(errorCodeName(-1), 'UNKNOWN_SERVER_ERROR');
  assert.equal(errorCodeName(0), 'NONE');
  assert.equal(errorCodeName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(errorCodeName(35), 'UNSUPPORTED_VERSION');
  assert.equal(errorCodeName(119), 'INVALID_REGISTRATION');
  assert.equal(errorCodeName(9999), 'ERROR_9999');
  assert.equal(firstErrorCode({ throttleTimeMs: 0 }), null);
  assert.equal(firstErrorCode({ errorCode: 0, topics: [{ errorCode: 0, partitions: [{ errorCode: 6 }] }] }), 6);
});
