/**
 * PostgreSQL frontend/backend protocol dissector. PLACEHOLDER of the issue 16 contract: the postgresql helper replaces it.
 */
import type { Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { POSTGRESQL_PROTOCOL_NAME } from './entry.ts';

export const postgresqlDissector: Dissector = Object.freeze({
  id: 'postgresql',
  protocol: POSTGRESQL_PROTOCOL_NAME,
  ports: Object.freeze([5432]),
  sniff: (): SniffResult => 'no',
  open: (): DissectorStream => {
    throw new Error('postgresql dissector not built yet');
  },
});
