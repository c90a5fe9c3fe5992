/**
 * Apache Kafka protocol dissector. PLACEHOLDER of the issue 16 contract: the kafka helper replaces it.
 */
import type { Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { KAFKA_PROTOCOL_NAME } from './entry.ts';

export const kafkaDissector: Dissector = Object.freeze({
  id: 'kafka',
  protocol: KAFKA_PROTOCOL_NAME,
  ports: Object.freeze([9092]),
  sniff: (): SniffResult => 'no',
  open: (): DissectorStream => {
    throw new Error('kafka dissector not built yet');
  },
});
