/**
 * The PostgreSQL frontend/backend protocol entry. PLACEHOLDER of the issue 16 contract: the postgresql helper replaces this file
 * with the real shape (Kubeshark's field names where it has them; docs/protocols/postgresql.md).
 * Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const POSTGRESQL_PROTOCOL_NAME = 'postgresql';

export interface PostgresqlRequest {
  readonly [field: string]: unknown;
}

export interface PostgresqlResponse {
  readonly [field: string]: unknown;
}

export type PostgresqlEntry = EntryEnvelope<'postgresql', PostgresqlRequest, PostgresqlResponse>;
