/**
 * MySQL/MariaDB client/server protocol dissector. PLACEHOLDER of the issue 16 contract: the mysql helper replaces it.
 */
import type { Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { MYSQL_PROTOCOL_NAME } from './entry.ts';

export const mysqlDissector: Dissector = Object.freeze({
  id: 'mysql',
  protocol: MYSQL_PROTOCOL_NAME,
  ports: Object.freeze([3306]),
  sniff: (): SniffResult => 'no',
  open: (): DissectorStream => {
    throw new Error('mysql dissector not built yet');
  },
});
