/**
 * Redis serialization protocol (RESP2/RESP3) dissector. PLACEHOLDER of the issue 16 contract: the redis helper replaces it.
 */
import type { Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { REDIS_PROTOCOL_NAME } from './entry.ts';

export const redisDissector: Dissector = Object.freeze({
  id: 'redis',
  protocol: REDIS_PROTOCOL_NAME,
  ports: Object.freeze([6379]),
  sniff: (): SniffResult => 'no',
  open: (): DissectorStream => {
    throw new Error('redis dissector not built yet');
  },
});
