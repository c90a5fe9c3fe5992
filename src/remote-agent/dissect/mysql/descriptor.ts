/**
 * Present stage of MySQL/MariaDB client/server protocol. PLACEHOLDER of the issue 16 contract: the mysql helper replaces it.
 * Imports only src/model and its own entry.ts.
 */
import type { ProtocolDescriptor } from '../../../model/protocol-descriptor.ts';
import type { MysqlEntry } from './entry.ts';

export const mysqlDescriptor: ProtocolDescriptor<MysqlEntry> = Object.freeze({
  name: 'mysql',
  abbr: 'MYSQL',
  longName: 'MySQL/MariaDB client/server protocol',
  defaultPorts: Object.freeze([3306]),
  referenceUrl: 'https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html',
  summarize: () => ({ verb: '', target: '', outcome: '', outcomeClass: 'none' as const, isError: false }),
  represent: () => [],
  dedupKey: () => '',
  edgeLabel: () => 'MYSQL',
  kfl: Object.freeze({ words: Object.freeze([{ word: 'mysql', matches: (p: { readonly name: unknown }) => p.name === 'mysql' }]), variables: Object.freeze([]) }),
  redact: (entry: MysqlEntry): MysqlEntry => entry,
});
