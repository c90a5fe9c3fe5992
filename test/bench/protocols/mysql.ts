/**
 * MySQL for the protocol benchmark: one connection is a MariaDB greeting, a login answered OK
 * (CLIENT_DEPRECATE_EOF), then a few dozen commands as a real client sends them and a server
 * answers: text queries with result sets of varied rows, inserts and updates answered OK, a
 * prepared statement executed several times with parameters (binary rows), a query error, a ping,
 * and COM_QUIT. Packets are built from the protocol's documentation (test/helpers/mysql-wire.ts).
 */
import type { Prng } from '../prng.ts';
import type { Exchange } from '../../robustness/tcp-capture.ts';
import {
  bin, binaryRow, COM, columnDef, command, concat, err, execute, greeting, lenenc, login, ok, packet, prepareOk, str, textResultSet, TYPE, u32,
} from '../../helpers/mysql-wire.ts';
import type { BenchConversation, ProtocolBenchCase } from './bench-case.ts';

const NAMES = ['socks', 'shoes', 'hat', 'scarf', 'gloves', 'coat', 'belt', 'tie'];

function selectExchange(rng: Prng, i: number): Exchange {
  const rows = Array.from({ length: rng.int(0, 40) }, (_, r) => [String(r + 1), rng.pick(NAMES), String(rng.int(100, 99_999) / 100)]);
  return {
    client: command(COM.QUERY, `SELECT id, name, price FROM catalogue WHERE tag = '${rng.pick(NAMES)}' LIMIT ${rows.length + i}`),
    server: textResultSet(['id', 'name', 'price'], rows, { deprecateEof: true }),
  };
}

function conversation(rng: Prng, index: number): BenchConversation {
  const none = new Uint8Array(0);
  const exchanges: Exchange[] = [
    { client: none, server: greeting({ connectionId: index + 1 }) },
    { client: login({ user: 'shop', auth: str('0123456789abcdefghij'), database: 'shop' }), server: ok(2) },
    {
      client: command(COM.STMT_PREPARE, 'SELECT id, name FROM orders WHERE customer = ? AND total > ?'),
      server: prepareOk(1, 2, [{ name: 'id', type: TYPE.LONG }, { name: 'name', type: TYPE.VAR_STRING }], true),
    },
  ];
  let commands = 1;
  const n = rng.int(24, 40);
  for (let i = 0; i < n; i++) {
    const kind = rng.int(0, 9);
    if (kind <= 4) exchanges.push(selectExchange(rng, i));
    else if (kind <= 6) {
      exchanges.push({
        client: command(COM.QUERY, `INSERT INTO cart (customer, item, qty) VALUES (${rng.int(1, 999)}, '${rng.pick(NAMES)}', ${rng.int(1, 9)})`),
        server: ok(1, { affected: 1, insertId: rng.int(1, 1_000_000) }),
      });
    } else if (kind === 7) {
      const rows = Array.from({ length: rng.int(0, 10) }, (_, r) => binaryRow(4 + r, [u32(r + 1), concat(lenenc(5), str(rng.pick(NAMES).padEnd(5, '_').slice(0, 5)))]));
      exchanges.push({
        client: execute(1, [bin.long(rng.int(1, 999)), bin.double(rng.int(0, 5000) / 10)], rng.chance(0.5)),
        server: concat(packet(1, lenenc(2)), columnDef(2, 'id', TYPE.LONG), columnDef(3, 'name', TYPE.VAR_STRING), ...rows, ok(4 + rows.length, { header: 0xfe })),
      });
    } else if (kind === 8) exchanges.push({ client: command(COM.QUERY, 'SELECT * FROM missing'), server: err(1, 1146, '42S02', "Table 'shop.missing' doesn't exist") });
    else exchanges.push({ client: command(COM.PING), server: ok(1) });
    commands++;
  }
  exchanges.push({ client: command(COM.QUIT), server: none });
  commands++;
  // One HANDSHAKE entry, then one entry per command.
  return { exchanges, entries: 1 + commands };
}

export const benchCase: ProtocolBenchCase = {
  protocol: 'mysql',
  serverPort: 3306,
  conversation,
  tshark: { filter: 'mysql' },
};
