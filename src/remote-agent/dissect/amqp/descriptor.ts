/**
 * Present stage of Advanced Message Queuing Protocol 0-9-1. PLACEHOLDER of the issue 16 contract: the amqp helper replaces it.
 * Imports only src/model and its own entry.ts.
 */
import type { ProtocolDescriptor } from '../../../model/protocol-descriptor.ts';
import type { AmqpEntry } from './entry.ts';

export const amqpDescriptor: ProtocolDescriptor<AmqpEntry> = Object.freeze({
  name: 'amqp',
  abbr: 'AMQP',
  longName: 'Advanced Message Queuing Protocol 0-9-1',
  defaultPorts: Object.freeze([5672]),
  referenceUrl: 'https://www.rabbitmq.com/resources/specs/amqp0-9-1.pdf',
  summarize: () => ({ verb: '', target: '', outcome: '', outcomeClass: 'none' as const, isError: false }),
  represent: () => [],
  dedupKey: () => '',
  edgeLabel: () => 'AMQP',
  kfl: Object.freeze({ words: Object.freeze([{ word: 'amqp', matches: (p: { readonly name: unknown }) => p.name === 'amqp' }]), variables: Object.freeze([]) }),
  redact: (entry: AmqpEntry): AmqpEntry => entry,
});
