/**
 * Present stage of Apache Kafka protocol. PLACEHOLDER of the issue 16 contract: the kafka helper replaces it.
 * Imports only src/model and its own entry.ts.
 */
import type { ProtocolDescriptor } from '../../../model/protocol-descriptor.ts';
import type { KafkaEntry } from './entry.ts';

export const kafkaDescriptor: ProtocolDescriptor<KafkaEntry> = Object.freeze({
  name: 'kafka',
  abbr: 'KAFKA',
  longName: 'Apache Kafka protocol',
  defaultPorts: Object.freeze([9092]),
  referenceUrl: 'https://kafka.apache.org/protocol',
  summarize: () => ({ verb: '', target: '', outcome: '', outcomeClass: 'none' as const, isError: false }),
  represent: () => [],
  dedupKey: () => '',
  edgeLabel: () => 'KAFKA',
  kfl: Object.freeze({ words: Object.freeze([{ word: 'kafka', matches: (p: { readonly name: unknown }) => p.name === 'kafka' }]), variables: Object.freeze([]) }),
  redact: (entry: KafkaEntry): KafkaEntry => entry,
});
