/**
 * Advanced Message Queuing Protocol 0-9-1 dissector. PLACEHOLDER of the issue 16 contract: the amqp helper replaces it.
 */
import type { Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { AMQP_PROTOCOL_NAME } from './entry.ts';

export const amqpDissector: Dissector = Object.freeze({
  id: 'amqp',
  protocol: AMQP_PROTOCOL_NAME,
  ports: Object.freeze([5672]),
  sniff: (): SniffResult => 'no',
  open: (): DissectorStream => {
    throw new Error('amqp dissector not built yet');
  },
});
