/**
 * The Redis case of the protocol benchmark: connections as node-redis and redis-cli make them (an
 * AUTH, on every other connection HELLO 3, then a few dozen typical commands: GETs of JSON values,
 * SETs with EX, HGETALL, INCR, MGET, a pipeline of several commands in one segment, a MULTI/EXEC
 * transaction), each command a RESP array of bulk strings and each reply what redis-server 7
 * answers (RESP2, or RESP3 after HELLO 3). One entry per command.
 */
import type { Exchange } from '../../robustness/tcp-capture.ts';
import type { Prng } from '../prng.ts';
import type { BenchConversation, ProtocolBenchCase } from './bench-case.ts';

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const command = (...words: string[]): string => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** A JSON value of a few hundred bytes, as an application caches. */
function jsonValue(rng: Prng, id: number): string {
  const items = Array.from({ length: rng.int(1, 8) }, (_, i) => ({ sku: `sku-${id}-${i}`, qty: rng.int(1, 5), price: rng.int(100, 99_999) / 100 }));
  return JSON.stringify({ id, user: `user-${rng.int(1, 10_000)}`, items, updated: 1_700_000_000 + rng.int(0, 1e6) });
}

function conversation(rng: Prng, index: number): BenchConversation {
  const resp3 = index % 2 === 1;
  const exchanges: Exchange[] = [{ client: text(command('AUTH', 'default', 'bench-password')), server: text('+OK\r\n') }];
  let entries = 1;
  if (resp3) {
    exchanges.push({ client: text(command('HELLO', '3')), server: text('%3\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n') });
    entries++;
  }
  const nil = resp3 ? '_\r\n' : '$-1\r\n';
  const count = rng.int(24, 48);
  for (let i = 0; i < count; i++) {
    const key = `cart:${rng.int(1, 5000)}`;
    switch (rng.int(0, 6)) {
      case 0:
      case 1:
        exchanges.push({ client: text(command('GET', key)), server: text(rng.chance(0.9) ? bulk(jsonValue(rng, i)) : nil) });
        entries++;
        break;
      case 2:
        exchanges.push({ client: text(command('SET', key, jsonValue(rng, i), 'EX', '3600')), server: text('+OK\r\n') });
        entries++;
        break;
      case 3: {
        const fields = rng.int(1, 6);
        const pairs = Array.from({ length: fields }, (_, f) => `${bulk(`f${f}`)}${bulk(String(rng.int(0, 1e6)))}`).join('');
        exchanges.push({ client: text(command('HGETALL', `user:${rng.int(1, 9999)}`)), server: text(`${resp3 ? '%' : '*'}${resp3 ? fields : fields * 2}\r\n${pairs}`) });
        entries++;
        break;
      }
      case 4: {
        // A pipeline: several commands in one write, their replies in one.
        const n = rng.int(2, 6);
        exchanges.push({
          client: text(Array.from({ length: n }, (_, k) => command('INCR', `views:${i}:${k}`)).join('')),
          server: text(Array.from({ length: n }, () => `:${rng.int(1, 1e6)}\r\n`).join('')),
        });
        entries += n;
        break;
      }
      case 5: {
        const keys = Array.from({ length: rng.int(2, 5) }, () => `price:${rng.int(1, 999)}`);
        exchanges.push({ client: text(command('MGET', ...keys)), server: text(`*${keys.length}\r\n${keys.map(() => bulk(String(rng.int(100, 9999)))).join('')}`) });
        entries++;
        break;
      }
      default:
        exchanges.push({
          client: text(command('MULTI') + command('INCR', `stock:${i}`) + command('LPUSH', `orders:${i}`, jsonValue(rng, i)) + command('EXEC')),
          server: text(`+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:${rng.int(0, 99)}\r\n:${rng.int(1, 99)}\r\n`),
        });
        entries += 4;
    }
  }
  return { exchanges, entries };
}

export const benchCase: ProtocolBenchCase = {
  protocol: 'redis',
  serverPort: 6379,
  conversation,
  tshark: { filter: 'resp' },
};
