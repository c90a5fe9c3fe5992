/**
 * The MySQL/MariaDB client/server protocol entry. PLACEHOLDER of the issue 16 contract: the mysql helper replaces this file
 * with the real shape (Kubeshark's field names where it has them; docs/protocols/mysql.md).
 * Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const MYSQL_PROTOCOL_NAME = 'mysql';

export interface MysqlRequest {
  readonly [field: string]: unknown;
}

export interface MysqlResponse {
  readonly [field: string]: unknown;
}

export type MysqlEntry = EntryEnvelope<'mysql', MysqlRequest, MysqlResponse>;
