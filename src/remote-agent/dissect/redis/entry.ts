/**
 * The Redis serialization protocol (RESP2/RESP3) entry. PLACEHOLDER of the issue 16 contract: the redis helper replaces this file
 * with the real shape (Kubeshark's field names where it has them; docs/protocols/redis.md).
 * Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const REDIS_PROTOCOL_NAME = 'redis';

export interface RedisRequest {
  readonly [field: string]: unknown;
}

export interface RedisResponse {
  readonly [field: string]: unknown;
}

export type RedisEntry = EntryEnvelope<'redis', RedisRequest, RedisResponse>;
