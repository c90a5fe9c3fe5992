/**
 * The PostgreSQL benchmark case: a psql/pg-like session per connection, with the bytes real
 * clients and servers send (test/helpers/pg-wire.ts writes them per the protocol's message
 * formats): an SSLRequest answered N, a SCRAM startup, then a few dozen units (simple queries with
 * rows, inserts, extended queries with parameters, errors) and a Terminate.
 */
import type { Prng } from '../prng.ts';
import type { Exchange } from '../../robustness/tcp-capture.ts';
import * as pg from '../../helpers/pg-wire.ts';
import type { BenchConversation, ProtocolBenchCase } from './bench-case.ts';

const { concat } = pg;
/** Units after the startup, per connection. */
const UNITS = 30;

function unit(rng: Prng, i: number): Exchange {
  const id = rng.int(1, 1_000_000);
  switch (rng.int(0, 3)) {
    case 0: {
      const n = rng.int(1, 20);
      const rows = Array.from({ length: n }, (_, r) => pg.dataRow([String(id + r), `item-${id + r}`, r % 3 === 0 ? null : '12.50']));
      return {
        client: pg.query(`SELECT id, name, price FROM items WHERE id >= ${id} LIMIT ${n}`),
        server: concat(pg.rowDescription([['id', 23], ['name', 25], ['price', 1700]]), ...rows, pg.commandComplete(`SELECT ${n}`), pg.ready()),
      };
    }
    case 1:
      return { client: pg.query(`INSERT INTO orders (item, qty) VALUES (${id}, ${rng.int(1, 9)})`), server: concat(pg.commandComplete('INSERT 0 1'), pg.ready()) };
    case 2: {
      const named = i % 2 === 0 ? 'item_by_id' : '';
      return {
        client: concat(pg.parse(named, 'SELECT name, price FROM items WHERE id = $1', [23]), pg.bind('', named, [pg.int4(id)], [1]), pg.describe('P', ''), pg.execute(''), pg.sync()),
        server: concat(pg.parseComplete(), pg.bindComplete(), pg.rowDescription([['name', 25], ['price', 1700]]), pg.dataRow([`item-${id}`, '3.10']), pg.commandComplete('SELECT 1'), pg.ready()),
      };
    }
    default:
      return {
        client: pg.query(`SELECT * FROM missing_${id}`),
        server: concat(pg.errorResponse({ S: 'ERROR', V: 'ERROR', C: '42P01', M: `relation "missing_${id}" does not exist`, P: '15' }), pg.ready()),
      };
  }
}

export const benchCase: ProtocolBenchCase = Object.freeze({
  protocol: 'postgresql',
  serverPort: 5432,
  conversation(rng: Prng, index: number): BenchConversation {
    const open = pg.scramOpening(`user${index}`, 'shop');
    const exchanges: Exchange[] = [
      { client: pg.sslRequest(), server: Uint8Array.of(0x4e) },
      { client: open.client[0]!, server: open.server[0]! },
      { client: open.client[1]!, server: open.server[1]! },
      { client: open.client[2]!, server: open.server[2]! },
      ...Array.from({ length: UNITS }, (_, i) => unit(rng, i)),
      { client: pg.terminate(), server: new Uint8Array(0) },
    ];
    // SSLRequest, startup, the units, Terminate.
    return { exchanges, entries: 2 + UNITS + 1 };
  },
  tshark: { filter: 'pgsql', args: ['-d', 'tcp.port==5432,pgsql'] },
});
