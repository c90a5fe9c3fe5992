/**
 * MongoDB for the protocol benchmark: one connection as the official driver makes it, its bytes
 * built with the `bson` encoder as the driver builds them (test/helpers/mongodb-wire.ts): the
 * legacy handshake (OP_QUERY isMaster, OP_REPLY), then a few dozen OP_MSG commands of a typical
 * service (find by id with a reply of one document, insert with a document sequence, update,
 * aggregate, a find whose cursor a getMore drains), each answered.
 */
import { Long, ObjectId } from 'bson';
import { opMsg, opQuery, opReply } from '../../helpers/mongodb-wire.ts';
import type { Exchange } from '../../robustness/tcp-capture.ts';
import type { Prng } from '../prng.ts';
import type { BenchConversation, ProtocolBenchCase } from './bench-case.ts';

function order(rng: Prng, i: number): Record<string, unknown> {
  return {
    _id: new ObjectId(),
    orderNo: i,
    customer: `customer-${rng.int(1, 5000)}`,
    items: Array.from({ length: rng.int(1, 4) }, (_, k) => ({ sku: `SKU-${rng.int(100, 999)}`, qty: rng.int(1, 5), price: 9.99 + k })),
    status: rng.pick(['new', 'paid', 'shipped']),
    createdAt: new Date(1_700_000_000_000 + i * 1000),
  };
}

function conversation(rng: Prng, index: number): BenchConversation {
  const exchanges: Exchange[] = [];
  let id = 1;
  let replyId = 1_000_000;
  const lsid = { id: new ObjectId() };
  const ask = (body: Record<string, unknown>, reply: Record<string, unknown>, sequences?: { identifier: string; documents: Record<string, unknown>[] }[]): void => {
    const requestId = id++;
    exchanges.push({
      client: opMsg({ ...body, lsid, $db: 'shop' }, { requestId, ...(sequences === undefined ? {} : { sequences }) }),
      server: opMsg(reply, { requestId: replyId++, responseTo: requestId }),
    });
  };
  exchanges.push({
    client: opQuery(id, 'admin.$cmd', { isMaster: 1, helloOk: true, client: { driver: { name: 'nodejs', version: '7.9.1' }, os: { type: 'Linux' } }, compression: [] }),
    server: opReply(replyId++, id++, [{ helloOk: true, ismaster: true, maxWireVersion: 21, minWireVersion: 0, maxBsonObjectSize: 16777216, logicalSessionTimeoutMinutes: 30, connectionId: index, ok: 1 }]),
  });
  const n = rng.int(24, 40);
  for (let i = 0; i < n; i++) {
    switch (rng.int(0, 4)) {
      case 0:
        ask({ find: 'orders', filter: { orderNo: i }, limit: 1, singleBatch: true }, { cursor: { firstBatch: [order(rng, i)], id: Long.ZERO, ns: 'shop.orders' }, ok: 1 });
        break;
      case 1: {
        const docs = Array.from({ length: rng.int(1, 5) }, (_, k) => order(rng, i * 10 + k));
        ask({ insert: 'orders', ordered: true }, { n: docs.length, ok: 1 }, [{ identifier: 'documents', documents: docs }]);
        break;
      }
      case 2:
        ask({ update: 'orders', ordered: true }, { n: 1, nModified: 1, ok: 1 }, [{ identifier: 'updates', documents: [{ q: { orderNo: i }, u: { $set: { status: 'paid' } } }] }]);
        break;
      case 3:
        ask({ aggregate: 'orders', pipeline: [{ $match: { status: 'paid' } }, { $group: { _id: '$customer', total: { $sum: 1 } } }], cursor: {} }, { cursor: { firstBatch: [{ _id: 'customer-1', total: 3 }], id: Long.ZERO, ns: 'shop.orders' }, ok: 1 });
        break;
      default: {
        const cursorId = Long.fromNumber(7_000_000 + i);
        ask({ find: 'orders', filter: { status: 'new' }, batchSize: 2 }, { cursor: { firstBatch: [order(rng, i), order(rng, i + 1)], id: cursorId, ns: 'shop.orders' }, ok: 1 });
        ask({ getMore: cursorId, collection: 'orders', batchSize: 2 }, { cursor: { nextBatch: [order(rng, i + 2)], id: Long.ZERO, ns: 'shop.orders' }, ok: 1 });
      }
    }
  }
  return { exchanges, entries: exchanges.length };
}

export const benchCase: ProtocolBenchCase = {
  protocol: 'mongodb',
  serverPort: 27017,
  conversation,
  // A request has responseTo 0. tshark 4.0 leaves these segments as TCP unless told (checked: 98
  // requests of 3 conversations, as many as our entries, with decode-as).
  tshark: { filter: 'mongo && mongo.response_to == 0', args: ['-d', 'tcp.port==27017,mongo'] },
};
