/**
 * Present stage of PostgreSQL frontend/backend protocol. PLACEHOLDER of the issue 16 contract: the postgresql helper replaces it.
 * Imports only src/model and its own entry.ts.
 */
import type { ProtocolDescriptor } from '../../../model/protocol-descriptor.ts';
import type { PostgresqlEntry } from './entry.ts';

export const postgresqlDescriptor: ProtocolDescriptor<PostgresqlEntry> = Object.freeze({
  name: 'postgresql',
  abbr: 'PGSQL',
  longName: 'PostgreSQL frontend/backend protocol',
  defaultPorts: Object.freeze([5432]),
  referenceUrl: 'https://www.postgresql.org/docs/current/protocol.html',
  summarize: () => ({ verb: '', target: '', outcome: '', outcomeClass: 'none' as const, isError: false }),
  represent: () => [],
  dedupKey: () => '',
  edgeLabel: () => 'PGSQL',
  kfl: Object.freeze({ words: Object.freeze([{ word: 'postgresql', matches: (p: { readonly name: unknown }) => p.name === 'postgresql' }]), variables: Object.freeze([]) }),
  redact: (entry: PostgresqlEntry): PostgresqlEntry => entry,
});
