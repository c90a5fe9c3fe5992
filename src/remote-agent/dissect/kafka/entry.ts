/**
 * The Apache Kafka entry: one request and its response, paired by correlation id. Field names are
 * Kubeshark's (`request.apiKeyName`, `request.correlationID`, `request.payload.topicData[0].topic`,
 * `response.payload.errorCode`), so its users' KFL queries keep working; docs/kafka.md lists every
 * field. Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const KAFKA_PROTOCOL_NAME = 'kafka';

/** A decoded body: Kafka's field names (lower camel case), numbers, strings, arrays and objects. */
export type KafkaBody = { readonly [field: string]: unknown };

/**
 * How far a message was decoded: `body` (all of it), `partial` (its body up to a problem or the
 * bytes kept), `header` (the header only: an API key or version we do not decode).
 */
export type KafkaDecoded = 'body' | 'partial' | 'header';

export interface KafkaRequest {
  /** Bytes of the message after its 4-byte size field (the size field's value). */
  readonly size: number;
  readonly apiKey: number;
  /** Kafka's CamelCase name (`Produce`); `ApiKey<n>` for a key we do not know. */
  readonly apiKeyName: string;
  readonly apiVersion: number;
  readonly correlationID: number;
  /** The client id of the header; "" when null or absent (header v0). */
  readonly clientID: string;
  /** The body's fields; {} when only the header was decoded. */
  readonly payload: KafkaBody;
  readonly decoded: KafkaDecoded;
  /** Why the body was not decoded whole (unknown key or version, damaged or cut message). */
  readonly note?: string;
}

export interface KafkaResponse {
  readonly size: number;
  readonly correlationID: number;
  readonly payload: KafkaBody;
  readonly decoded: KafkaDecoded;
  readonly note?: string;
  /**
   * The first non-zero error code anywhere in the body (a top-level one, else a topic's or a
   * partition's), 0 when all are 0; null when the body was not decoded.
   */
  readonly errorCode: number | null;
  /** Its name (`UNKNOWN_TOPIC_OR_PARTITION`, `NONE`); null with errorCode. */
  readonly errorName: string | null;
}

export type KafkaEntry = EntryEnvelope<'kafka', KafkaRequest, KafkaResponse>;

export function isKafkaEntry(entry: unknown): entry is KafkaEntry {
  return (entry as { protocol?: { name?: unknown } } | null)?.protocol?.name === KAFKA_PROTOCOL_NAME;
}
