import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialize } from 'bson';
import { compileKfl } from '../../../kfl/index.ts';
import type { Entry } from '../../../model/entry.ts';
import { c, fakeConn, play, recorder, s } from '../../../../test/helpers/http1-connection.ts';
import { opMsg } from '../../../../test/helpers/mongodb-wire.ts';
import { isWellFormedDocument, MAX_BSON_DEPTH, topLevelElements } from './bson-scan.ts';
import { mongodbDescriptor } from './descriptor.ts';
import type { MongodbEntry } from './entry.ts';
import { mongodbDissector } from './index.ts';

function entries(): MongodbEntry[] {
  const r = recorder();
  const stream = mongodbDissector.open(fakeConn({ b: { ip: '10.0.0.27', port: 27017 } }), r.ctx);
  play(stream, [
    c(opMsg({ find: 'orders', filter: { item: 'pen' }, $db: 'shop' }, { requestId: 1 }), 0),
    s(opMsg({ cursor: { firstBatch: [], id: 0, ns: 'shop.orders' }, ok: 1 }, { requestId: 2, responseTo: 1 }), 150_000),
    c(opMsg({ insert: 'orders', $db: 'shop' }, { requestId: 3, sequences: [{ identifier: 'documents', documents: [{ _id: 1 }] }] }), 200_000),
    s(opMsg({ n: 0, writeErrors: [{ index: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error' }], ok: 1 }, { requestId: 4, responseTo: 3 }), 210_000),
  ]);
  stream.close('fin', 300_000);
  return r.all as unknown as MongodbEntry[];
}

function matching(query: string, list: readonly MongodbEntry[]): string[] {
  const r = compileKfl(query);
  if (!r.ok) throw new Error(r.error.display);
  return list.filter((e) => r.filter.test(e as unknown as Entry)).map((e) => e.request.command);
}

test('KFL: the word mongodb and every mongodb_* variable select the right entries', () => {
  const list = entries();
  assert.deepEqual(matching('mongodb', list), ['find', 'insert']);
  assert.deepEqual(matching('mongodb_command == "find" && mongodb_database == "shop" && mongodb_collection == "orders"', list), ['find']);
  assert.deepEqual(matching('mongodb && !mongodb_success', list), ['insert']);
  assert.deepEqual(matching('mongodb_error_code == 11000 && mongodb_error_code_name == "DuplicateKey"', list), ['insert']);
  assert.deepEqual(matching('mongodb_error_message.startsWith("E11000")', list), ['insert']);
  assert.deepEqual(matching('mongodb_opcode == "OP_MSG" && mongodb_total_size == mongodb_request_size + mongodb_response_size', list), ['find', 'insert']);
  assert.deepEqual(matching('mongodb && elapsed_time > 100000', list), ['find']);
  assert.deepEqual(matching('response.writeErrors[0].code == 11000', list), ['insert']);
  // The row's own queries select the entry they came from.
  for (const e of list) {
    const row = mongodbDescriptor.summarize(e);
    for (const q of [row.verbQuery, row.targetQuery, row.outcomeQuery]) assert.ok(matching(q!, list).includes(e.request.command), `${q} selects ${e.id}`);
  }
});

test('row and detail sections: command, namespace, outcome, documents', () => {
  const [find, insert] = entries();
  assert.deepEqual(mongodbDescriptor.summarize(insert!).outcome, 'DuplicateKey (11000)');
  assert.deepEqual(mongodbDescriptor.summarize(find!).outcome, 'ok');
  const sections = mongodbDescriptor.represent(insert!);
  const titles = sections.map((x) => x.title);
  const bodyBytes = serialize({ insert: 'orders', $db: 'shop' }).length;
  const replyBytes = serialize({ n: 0, writeErrors: [{ index: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error' }], ok: 1 }).length;
  assert.deepEqual(titles, ['Command', 'Request', `Request body (1 document, ${bodyBytes} B)`, 'Request sequence documents (1 document, 14 B)', 'Reply', 'Reply', `Reply body (1 document, ${replyBytes} B)`]);
  const reply = sections.find((x) => x.kind === 'table' && x.title === 'Reply');
  assert.ok(reply?.kind === 'table' && reply.rows.some((r) => r.label === 'Write error 0' && r.value === 'index 0: 11000 DuplicateKey E11000 duplicate key error'));
  assert.equal(mongodbDescriptor.edgeLabel(find!), 'MONGODB');
  assert.notEqual(mongodbDescriptor.dedupKey(find!), mongodbDescriptor.dedupKey(insert!));
});

test('BSON scan: nesting past the limit is refused without recursion; cut documents yield their whole top-level elements', () => {
  let doc: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < MAX_BSON_DEPTH - 1; i++) doc = { d: doc };
  assert.equal(isWellFormedDocument(serialize(doc), 0), true, `${MAX_BSON_DEPTH} levels`);
  assert.equal(isWellFormedDocument(serialize({ d: doc }), 0), false, 'one more level');
  const bytes = serialize({ find: 'orders', filter: { a: 'x'.repeat(100) }, $db: 'shop' });
  assert.deepEqual(topLevelElements(bytes, 0, 10).map((e) => [e.name, e.text ?? null, e.end >= 0]), [['find', 'orders', true], ['filter', null, true], ['$db', 'shop', true]]);
  assert.deepEqual(topLevelElements(bytes.subarray(0, 40), 0, 10).map((e) => [e.name, e.end >= 0]), [['find', true], ['filter', false]]);
  const broken = Buffer.from(bytes);
  broken[broken.length - 1] = 1;
  assert.equal(isWellFormedDocument(broken, 0), false, 'no terminator');
});
