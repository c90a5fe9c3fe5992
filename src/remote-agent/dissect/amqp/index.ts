/**
 * Advanced Message Queuing Protocol 0-9-1 (RabbitMQ's protocol): the stream dissector the
 * registry lists (dissect/registry.ts). docs/amqp.md describes its entries.
 */
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { AMQP_PORTS, AmqpConnection } from './connection.ts';
import { AMQP_PROTOCOL_NAME } from './entry.ts';
import { sniffAmqp } from './sniff.ts';

export const amqpDissector: Dissector = Object.freeze({
  id: 'amqp',
  protocol: AMQP_PROTOCOL_NAME,
  ports: AMQP_PORTS,
  sniff: (prefix: Uint8Array): SniffResult => sniffAmqp(prefix),
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new AmqpConnection(conn, ctx),
});
