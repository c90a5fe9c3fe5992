/**
 * The MongoDB wire protocol entry. PLACEHOLDER of the issue 16 contract: the mongodb helper replaces this file
 * with the real shape (Kubeshark's field names where it has them; docs/protocols/mongodb.md).
 * Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const MONGODB_PROTOCOL_NAME = 'mongodb';

export interface MongodbRequest {
  readonly [field: string]: unknown;
}

export interface MongodbResponse {
  readonly [field: string]: unknown;
}

export type MongodbEntry = EntryEnvelope<'mongodb', MongodbRequest, MongodbResponse>;
