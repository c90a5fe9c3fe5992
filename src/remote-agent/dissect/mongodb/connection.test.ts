import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Binary, Long } from 'bson';
import {
  FLAG_CHECKSUM, FLAG_EXHAUST_ALLOWED, FLAG_MORE_TO_COME, opCompressed, opInsert, opMsg, opQuery, opReply,
} from '../../../../test/helpers/mongodb-wire.ts';
import { c, fakeConn, longestData, play, recorder, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import { EntryRedactor } from '../../redact/entry-redactor.ts';
import { mongodbDescriptor } from './descriptor.ts';
import type { MongodbEntry } from './entry.ts';
import { mongodbDissector } from './index.ts';
import { sniffMongodb } from './sniff.ts';

const SERVER = { ip: '10.0.0.27', port: 27017 } as const;

function run(steps: readonly Step[], how: Chunking = { kind: 'whole' }, maxBodyBytes?: number): { entries: MongodbEntry[]; stats: ReturnType<typeof recorder>['stats'] } {
  const r = recorder(maxBodyBytes === undefined ? {} : { maxBodyBytes });
  const stream = mongodbDissector.open(fakeConn({ b: SERVER }), r.ctx);
  play(stream, steps, how);
  stream.close('fin', 10_000_000);
  return { entries: r.all as unknown as MongodbEntry[], stats: r.stats };
}

/** command db.collection -> outcome, for comparing runs cut differently. */
function line(e: MongodbEntry): string {
  const res = e.response;
  const outcome = res === null ? `none ${e.error?.msg ?? ''}`.trim() : res.success ? 'ok' : `${res.errorCode} ${res.errorCodeName} ${res.errorMessage}`;
  return `${e.id} ${e.request.opcode} ${e.request.command} ${e.request.database}.${e.request.collection} -> ${outcome}${res !== null && (res.streamIndex > 0 || res.moreToCome) ? ` [${res.streamIndex}]` : ''}`;
}

function everyCut(steps: readonly Step[]): string[] {
  const whole = run(steps).entries.map(line);
  const longest = longestData(steps);
  for (let at = 1; at < longest; at += 7) assert.deepEqual(run(steps, { kind: 'split', at }).entries.map(line), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }).entries.map(line), whole, 'byte by byte');
  return whole;
}

test('OP_MSG insert with a document sequence, a find, answered out of order: paired by responseTo, at every cut', () => {
  const insert = opMsg({ insert: 'orders', ordered: true, $db: 'shop' }, {
    requestId: 11,
    sequences: [{ identifier: 'documents', documents: [{ _id: 1, item: 'pen' }, { _id: 2, item: 'ink', n: Long.fromNumber(5) }] }],
  });
  const find = opMsg({ find: 'orders', filter: { item: 'pen' }, $db: 'shop' }, { requestId: 12, flags: FLAG_CHECKSUM });
  const steps = [
    c(Buffer.concat([insert, find]), 0),
    s(opMsg({ cursor: { firstBatch: [{ _id: 1, item: 'pen' }], id: Long.ZERO, ns: 'shop.orders' }, ok: 1 }, { requestId: 901, responseTo: 12 }), 500),
    s(opMsg({ n: 2, ok: 1 }, { requestId: 902, responseTo: 11 }), 800),
  ];
  assert.deepEqual(everyCut(steps), ['7-1 OP_MSG find shop.orders -> ok', '7-0 OP_MSG insert shop.orders -> ok']);
  const [f, i] = run(steps).entries;
  assert.equal(i!.request.sequences.length, 1);
  assert.equal(i!.request.sequences[0]!.identifier, 'documents');
  assert.equal(i!.request.sequences[0]!.documents.count, 2);
  assert.equal(i!.request.sequences[0]!.documents.text, '[{"_id":1,"item":"pen"},{"_id":2,"item":"ink","n":5}]');
  assert.deepEqual(f!.request.flags, ['checksumPresent']);
  assert.equal(f!.request.document!.text, '{"find":"orders","filter":{"item":"pen"},"$db":"shop"}');
  assert.equal(f!.elapsedTime, 0.5);
  assert.equal(f!.src.port, 40000);
  assert.equal(f!.dst.port, 27017);
});

test('errors: ok 0 with code, codeName, errmsg; writeErrors; both fail the entry and show in the row', () => {
  const steps = [
    c(opMsg({ find: 'x', $db: 'shop' }, { requestId: 1 }), 0),
    s(opMsg({ ok: 0, errmsg: 'unknown operator: $foo', code: 2, codeName: 'BadValue' }, { requestId: 2, responseTo: 1 }), 10),
    c(opMsg({ insert: 'x', $db: 'shop' }, { requestId: 3, sequences: [{ identifier: 'documents', documents: [{ _id: 1 }] }] }), 20),
    s(opMsg({ n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000 duplicate key error' }], ok: 1 }, { requestId: 4, responseTo: 3 }), 30),
  ];
  const lines = everyCut(steps);
  assert.deepEqual(lines, ['7-0 OP_MSG find shop.x -> 2 BadValue unknown operator: $foo', '7-1 OP_MSG insert shop.x -> 11000  E11000 duplicate key error']);
  const [a, b] = run(steps).entries;
  const row = mongodbDescriptor.summarize(a!);
  assert.equal(row.verb, 'find');
  assert.equal(row.target, 'shop.x');
  assert.equal(row.outcome, 'BadValue (2)');
  assert.equal(row.isError, true);
  assert.deepEqual(b!.response!.writeErrors, [{ index: 0, code: 11000, codeName: '', errmsg: 'E11000 duplicate key error' }]);
  const vars = new Map(mongodbDescriptor.kfl.variables.map((v) => [v.name, v]));
  const get = (name: string, e: MongodbEntry): unknown => {
    const v = vars.get(name)!;
    return v.kind === 'computed' ? v.get(e) : undefined;
  };
  assert.equal(get('mongodb_error_code', a!), 2);
  assert.equal(get('mongodb_error_code_name', a!), 'BadValue');
  assert.equal(get('mongodb_error_message', a!), 'unknown operator: $foo');
  assert.equal(get('mongodb_success', a!), false);
  assert.equal(get('mongodb_command', b!), 'insert');
  assert.equal(get('mongodb_collection', b!), 'x');
  assert.equal(get('mongodb_database', b!), 'shop');
  assert.equal(get('mongodb_opcode', b!), 'OP_MSG');
  assert.equal(get('mongodb_total_size', b!), b!.requestSize + b!.responseSize);
  assert.equal(get('mongodb_command', { protocol: { name: 'http' } } as unknown as MongodbEntry), null);
});

test('legacy handshake: OP_QUERY isMaster on admin.$cmd answered by OP_REPLY; a legacy query and OP_INSERT', () => {
  const steps = [
    c(opQuery(1, 'admin.$cmd', { isMaster: 1, client: { driver: { name: 'test' } } }, 0, -1), 0),
    s(opReply(2, 1, [{ ismaster: true, maxWireVersion: 21, ok: 1 }]), 100),
    c(opQuery(3, 'shop.orders', { $query: { item: 'pen' } }, 1 << 2), 200),
    s(opReply(4, 3, [{ $err: 'not authorized', code: 13 }], 1 << 1), 300),
    c(opInsert(5, 'shop.orders', [{ _id: 9 }]), 400),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-0 OP_QUERY isMaster admin. -> ok',
    '7-1 OP_QUERY find shop.orders -> 13  not authorized',
    '7-2 OP_INSERT insert shop.orders -> none',
  ]);
  const [hs, q, ins] = run(steps).entries;
  assert.equal(hs!.request.fullCollectionName, 'admin.$cmd');
  assert.equal(hs!.response!.opcode, 'OP_REPLY');
  assert.equal(hs!.response!.numberReturned, 1);
  assert.match(hs!.response!.document!.text, /"ismaster":true/);
  assert.deepEqual(q!.request.flags, ['slaveOk']);
  assert.deepEqual(q!.response!.flags, ['queryFailure']);
  assert.equal(ins!.error, null, 'a legacy write expects no reply');
  assert.equal(mongodbDescriptor.summarize(ins!).outcome, 'no reply expected');
  assert.equal(mongodbDescriptor.summarize(ins!).isError, false);
});

test('OP_COMPRESSED: zlib, zstd and noop opened (compressor and original opcode shown); snappy shown compressed', () => {
  const ping = (id: number): Buffer => opMsg({ ping: 1, $db: 'admin' }, { requestId: id });
  const pong = (id: number, to: number): Buffer => opMsg({ ok: 1 }, { requestId: id, responseTo: to });
  const steps: Step[] = [];
  const compressors = ['zlib', 'zstd', 'noop', 'snappy'] as const;
  compressors.forEach((z, i) => {
    steps.push(c(opCompressed(ping(10 + i), z), i * 100), s(opCompressed(pong(20 + i, 10 + i), z), i * 100 + 50));
  });
  const { entries, stats } = run(steps);
  assert.deepEqual(entries.map((e) => [e.request.compressor, e.request.opcode, e.request.command, e.request.decoded, e.response?.decoded]), [
    ['zlib', 'OP_MSG', 'ping', true, true],
    ['zstd', 'OP_MSG', 'ping', true, true],
    ['noop', 'OP_MSG', 'ping', true, true],
    ['snappy', 'OP_MSG', '', false, false],
  ]);
  assert.equal(stats.dissectionErrors, 0);
  assert.equal(mongodbDescriptor.summarize(entries[3]!).verb, 'OP_MSG (snappy)');
  assert.equal(entries[0]!.response!.document!.text, '{"ok":1}');
});

test('exhaust: replies with moreToCome stream to one request; each reply is an entry with its place in the stream', () => {
  const steps = [
    c(opMsg({ getMore: Long.fromNumber(77), collection: 'log', $db: 'shop' }, { requestId: 5, flags: FLAG_EXHAUST_ALLOWED }), 0),
    s(opMsg({ cursor: { nextBatch: [{ a: 1 }], id: Long.fromNumber(77) }, ok: 1 }, { requestId: 100, responseTo: 5, flags: FLAG_MORE_TO_COME }), 10),
    s(opMsg({ cursor: { nextBatch: [{ a: 2 }], id: Long.fromNumber(77) }, ok: 1 }, { requestId: 101, responseTo: 100, flags: FLAG_MORE_TO_COME }), 20),
    s(opMsg({ cursor: { nextBatch: [], id: Long.ZERO }, ok: 1 }, { requestId: 102, responseTo: 101 }), 30),
    c(opMsg({ insert: 'log', $db: 'shop', writeConcern: { w: 0 } }, { requestId: 6, flags: FLAG_MORE_TO_COME, sequences: [{ identifier: 'documents', documents: [{ a: 3 }] }] }), 40),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-0 OP_MSG getMore shop.log -> ok [0]',
    '7-1 OP_MSG getMore shop.log -> ok [1]',
    '7-2 OP_MSG getMore shop.log -> ok [2]',
    '7-3 OP_MSG insert shop.log -> none',
  ]);
  const { entries, stats } = run(steps);
  assert.equal(entries[3]!.request.moreToCome, true);
  // Later replies of the stream start at their own arrival: nothing waits on them.
  assert.deepEqual(entries.slice(0, 3).map((e) => [e.startTime.slice(-10), e.elapsedTime]), [['00.000000Z', 0.01], ['00.000020Z', 0], ['00.000030Z', 0]]);
  assert.equal(stats.orphanResponses, 0);
  assert.equal(stats.unpairedRequests, 0);
});

test('an unanswered request comes out at the timeout or at the close, with the reason', () => {
  const r = recorder({ responseTimeoutUs: 1_000_000 });
  const stream = mongodbDissector.open(fakeConn({ b: SERVER }), r.ctx);
  play(stream, [c(opMsg({ ping: 1, $db: 'admin' }, { requestId: 1 }), 0), c(opMsg({ ping: 1, $db: 'admin' }, { requestId: 2 }), 2_000_000)]);
  const all = r.all as unknown as MongodbEntry[];
  assert.deepEqual(all.map((e) => [e.id, e.error?.type]), [['7-0', 'timeout']]);
  stream.close('end-of-capture', 3_000_000);
  assert.deepEqual(all.map((e) => [e.id, e.error?.msg]), [['7-0', 'no response'], ['7-1', 'capture ended before the response']]);
});

test('joining midway: the rest of a message is skipped and the next header found; a gap between messages resyncs too', () => {
  const first = opMsg({ find: 'a', filter: { pad: 'x'.repeat(300) }, $db: 'd' }, { requestId: 1 });
  const steps = [
    c(first.subarray(100), 0),
    c(opMsg({ count: 'b', $db: 'd' }, { requestId: 2 }), 10),
    s(opMsg({ n: 0, ok: 1 }, { requestId: 3, responseTo: 2 }), 20),
    { gap: 50, dir: 0 as const, us: 25 },
    c(opMsg({ distinct: 'c', key: 'k', $db: 'd' }, { requestId: 4 }), 30),
    s(opMsg({ values: [], ok: 1 }, { requestId: 5, responseTo: 4 }), 40),
  ];
  assert.deepEqual(run(steps).entries.map(line), ['7-0 OP_MSG count d.b -> ok', '7-1 OP_MSG distinct d.c -> ok']);
});

test('documents are cut at the body limit; a message past the keep limit still names its command', () => {
  const big = opMsg({ insert: 'blobs', $db: 'd' }, { requestId: 1, sequences: [{ identifier: 'documents', documents: Array.from({ length: 50 }, (_, i) => ({ i, data: 'y'.repeat(100_000) })) }] });
  const steps = [c(big, 0), s(opMsg({ n: 50, ok: 1 }, { requestId: 2, responseTo: 1 }), 10)];
  const { entries } = run(steps, { kind: 'whole' }, 1024);
  assert.equal(entries.length, 1);
  const e = entries[0]!;
  assert.equal(e.request.command, 'insert');
  assert.equal(e.request.collection, 'blobs');
  assert.equal(e.requestSize, big.length);
  const seq = e.request.sequences[0]!.documents;
  assert.equal(seq.truncated, true);
  assert.ok(Buffer.byteLength(seq.text) <= 1024);
  assert.equal(e.response!.success, true);
});

test('redaction: SASL payloads, speculativeAuthenticate, authenticate fields and createUser pwd become [REDACTED]', () => {
  const secret = new Binary(Buffer.from('n,,n=alice,r=clientnonce-SECRET'));
  const steps = [
    c(opMsg({ hello: 1, speculativeAuthenticate: { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: secret, db: 'admin' }, $db: 'admin' }, { requestId: 1 }), 0),
    s(opMsg({ isWritablePrimary: true, speculativeAuthenticate: { conversationId: 1, done: false, payload: new Binary(Buffer.from('r=SECRET,s=salt')) }, ok: 1 }, { requestId: 2, responseTo: 1 }), 1),
    c(opMsg({ saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.from('c=biws,p=SECRETPROOF')), $db: 'admin' }, { requestId: 3 }), 2),
    s(opMsg({ conversationId: 1, done: true, payload: new Binary(Buffer.from('v=SECRETSIG')), ok: 1 }, { requestId: 4, responseTo: 3 }), 3),
    c(opMsg({ authenticate: 1, mechanism: 'MONGODB-CR', user: 'bob', nonce: 'SECRETNONCE', key: 'SECRETKEY', $db: 'admin' }, { requestId: 5 }), 4),
    s(opMsg({ ok: 1 }, { requestId: 6, responseTo: 5 }), 5),
    c(opMsg({ createUser: 'carol', pwd: 'SECRETPWD', roles: ['read'], $db: 'admin' }, { requestId: 7 }), 6),
    s(opMsg({ ok: 1 }, { requestId: 8, responseTo: 7 }), 7),
  ];
  const redactor = new EntryRedactor();
  const out = run(steps).entries.map((e) => redactor.redact(e) as MongodbEntry);
  const text = JSON.stringify(out);
  assert.doesNotMatch(text, /SECRET/, 'no credential left');
  assert.equal(JSON.parse(out[0]!.request.document!.text).speculativeAuthenticate.payload, '[REDACTED]');
  assert.equal(JSON.parse(out[0]!.request.document!.text).speculativeAuthenticate.mechanism, 'SCRAM-SHA-256');
  assert.equal(JSON.parse(out[1]!.request.document!.text).conversationId, 1, 'what is not a credential stays');
  assert.equal(JSON.parse(out[1]!.request.document!.text).payload, '[REDACTED]');
  assert.equal(JSON.parse(out[1]!.response!.document!.text).payload, '[REDACTED]');
  assert.equal(JSON.parse(out[2]!.request.document!.text).mechanism, 'MONGODB-CR');
  assert.equal(JSON.parse(out[2]!.request.document!.text).nonce, '[REDACTED]');
  assert.equal(JSON.parse(out[3]!.request.document!.text).pwd, '[REDACTED]');
  assert.deepEqual(out.map((e) => e.request.command), ['hello', 'saslContinue', 'authenticate', 'createUser']);
});

test('sniff: request and reply openings match, other protocols do not, short prefixes ask for more', () => {
  assert.equal(sniffMongodb(opMsg({ hello: 1, $db: 'admin' }, { requestId: 1 })), 'match');
  assert.equal(sniffMongodb(opQuery(1, 'admin.$cmd', { isMaster: 1 })), 'match');
  assert.equal(sniffMongodb(opReply(2, 1, [{ ok: 1 }])), 'match');
  assert.equal(sniffMongodb(opCompressed(opMsg({ ping: 1 }, { requestId: 1 }), 'zlib')), 'match');
  assert.equal(sniffMongodb(opMsg({ hello: 1 }, { requestId: 1 }).subarray(0, 10)), 'more');
  for (const other of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'a'.repeat(40)]) {
    assert.equal(sniffMongodb(Buffer.from(other, 'latin1')), 'no', JSON.stringify(other));
  }
});
