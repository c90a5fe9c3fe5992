/**
 * The Apache Kafka protocol entry. PLACEHOLDER of the issue 16 contract: the kafka helper replaces this file
 * with the real shape (Kubeshark's field names where it has them; docs/protocols/kafka.md).
 * Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const KAFKA_PROTOCOL_NAME = 'kafka';

export interface KafkaRequest {
  readonly [field: string]: unknown;
}

export interface KafkaResponse {
  readonly [field: string]: unknown;
}

export type KafkaEntry = EntryEnvelope<'kafka', KafkaRequest, KafkaResponse>;
