/**
 * Present stage of Redis serialization protocol (RESP2/RESP3). PLACEHOLDER of the issue 16 contract: the redis helper replaces it.
 * Imports only src/model and its own entry.ts.
 */
import type { ProtocolDescriptor } from '../../../model/protocol-descriptor.ts';
import type { RedisEntry } from './entry.ts';

export const redisDescriptor: ProtocolDescriptor<RedisEntry> = Object.freeze({
  name: 'redis',
  abbr: 'REDIS',
  longName: 'Redis serialization protocol (RESP2/RESP3)',
  defaultPorts: Object.freeze([6379]),
  referenceUrl: 'https://redis.io/docs/latest/develop/reference/protocol-spec/',
  summarize: () => ({ verb: '', target: '', outcome: '', outcomeClass: 'none' as const, isError: false }),
  represent: () => [],
  dedupKey: () => '',
  edgeLabel: () => 'REDIS',
  kfl: Object.freeze({ words: Object.freeze([{ word: 'redis', matches: (p: { readonly name: unknown }) => p.name === 'redis' }]), variables: Object.freeze([]) }),
  redact: (entry: RedisEntry): RedisEntry => entry,
});
