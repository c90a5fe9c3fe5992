/**
 * AMQP 0-9-1 for the protocol benchmark: one connection as amqplib and RabbitMQ make it (protocol
 * header, Start/Start-Ok, Tune/Tune-Ok, Open, Channel.Open), then a run of what a worker does:
 * publishes with properties and JSON bodies (some larger than a frame), declares, binds, gets
 * (answered with a message or empty), deliveries and their acks. Frames built with the encoder of
 * test/helpers/amqp-wire.ts, byte for byte what the spec (and tshark) reads.
 */
import type { Exchange } from '../../robustness/tcp-capture.ts';
import * as w from '../../helpers/amqp-wire.ts';
import type { Prng } from '../prng.ts';
import type { BenchConversation, ProtocolBenchCase } from './bench-case.ts';

const NONE = new Uint8Array(0);
/** RabbitMQ's default frame_max: bodies longer than this come in several body frames. */
const FRAME_MAX = 131072;

function jsonBody(rng: Prng, n: number): string {
  return JSON.stringify({ id: n, customer: rng.hex(12), items: Array.from({ length: rng.int(1, 20) }, (_, i) => ({ sku: `sku-${i}-${rng.hex(6)}`, qty: rng.int(1, 9) })) });
}

function conversation(rng: Prng, index: number): BenchConversation {
  const ch = 1;
  const exchanges: Exchange[] = [
    { client: w.PROTOCOL_HEADER, server: w.connectionStart() },
    { client: w.startOkPlain('worker', `secret-${index}`), server: w.tune() },
    { client: w.concat(w.tuneOk(), w.connectionOpen('/')), server: w.connectionOpenOk() },
    { client: w.channelOpen(ch), server: w.channelOpenOk(ch) },
  ];
  // Start, Tune, Open and Channel.Open: four entries.
  let entries = 4;
  let tag = 0;
  const runs = rng.int(24, 40);
  for (let i = 0; i < runs; i++) {
    const queue = `jobs-${index}-${i % 4}`;
    switch (rng.int(0, 5)) {
      case 0:
      case 1: {
        const big = rng.chance(0.05);
        const body = big ? 'x'.repeat(FRAME_MAX * 2) : jsonBody(rng, i);
        exchanges.push({
          client: w.publish(ch, 'orders', `order.${rng.pick(['created', 'paid', 'shipped'])}`, body, { contentType: 'application/json', deliveryMode: 2, correlationId: rng.hex(16), headers: { 'x-tenant': `t${index}` } }, FRAME_MAX),
          server: NONE,
        });
        entries += 1;
        break;
      }
      case 2:
        exchanges.push({ client: w.queueDeclare(ch, queue, { durable: true, args: { 'x-max-length': 1000 } }), server: w.queueDeclareOk(ch, queue, rng.int(0, 100), rng.int(0, 3)) });
        entries += 1;
        break;
      case 3:
        exchanges.push({ client: w.queueBind(ch, queue, 'orders', 'order.*'), server: w.queueBindOk(ch) });
        entries += 1;
        break;
      case 4:
        tag++;
        exchanges.push({ client: w.get(ch, queue), server: rng.chance(0.7) ? w.getOk(ch, tag, 'orders', 'order.created', rng.int(0, 9), jsonBody(rng, i), { contentType: 'application/json' }) : w.getEmpty(ch) });
        entries += 1;
        break;
      default:
        tag++;
        // A delivery pushed by the server, acked by the client: two one-way entries.
        exchanges.push({ client: NONE, server: w.deliver(ch, 'ctag-1', tag, 'orders', 'order.created', jsonBody(rng, i), { contentType: 'application/json' }) });
        exchanges.push({ client: w.ack(ch, tag), server: NONE });
        entries += 2;
    }
  }
  exchanges.push({ client: w.close(ch, 200, 'Normal shutdown'), server: w.closeOk(ch) });
  exchanges.push({ client: w.close(0, 200, 'Normal shutdown'), server: w.closeOk(0) });
  entries += 2;
  return { exchanges, entries };
}

export const benchCase: ProtocolBenchCase = {
  protocol: 'amqp',
  serverPort: 5672,
  conversation,
  // tshark dissects port 5672 as AMQP 0-9-1 by default.
  tshark: { filter: 'amqp' },
};
