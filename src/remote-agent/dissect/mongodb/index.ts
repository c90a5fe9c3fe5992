/**
 * MongoDB wire protocol dissector. PLACEHOLDER of the issue 16 contract: the mongodb helper replaces it.
 */
import type { Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { MONGODB_PROTOCOL_NAME } from './entry.ts';

export const mongodbDissector: Dissector = Object.freeze({
  id: 'mongodb',
  protocol: MONGODB_PROTOCOL_NAME,
  ports: Object.freeze([27017]),
  sniff: (): SniffResult => 'no',
  open: (): DissectorStream => {
    throw new Error('mongodb dissector not built yet');
  },
});
