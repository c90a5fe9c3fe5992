/**
 * Present stage of MongoDB wire protocol. PLACEHOLDER of the issue 16 contract: the mongodb helper replaces it.
 * Imports only src/model and its own entry.ts.
 */
import type { ProtocolDescriptor } from '../../../model/protocol-descriptor.ts';
import type { MongodbEntry } from './entry.ts';

export const mongodbDescriptor: ProtocolDescriptor<MongodbEntry> = Object.freeze({
  name: 'mongodb',
  abbr: 'MONGODB',
  longName: 'MongoDB wire protocol',
  defaultPorts: Object.freeze([27017]),
  referenceUrl: 'https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/',
  summarize: () => ({ verb: '', target: '', outcome: '', outcomeClass: 'none' as const, isError: false }),
  represent: () => [],
  dedupKey: () => '',
  edgeLabel: () => 'MONGODB',
  kfl: Object.freeze({ words: Object.freeze([{ word: 'mongodb', matches: (p: { readonly name: unknown }) => p.name === 'mongodb' }]), variables: Object.freeze([]) }),
  redact: (entry: MongodbEntry): MongodbEntry => entry,
});
