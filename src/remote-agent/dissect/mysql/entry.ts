/**
 * The MySQL/MariaDB entry: one command of the client/server protocol and everything the server
 * answered to it, or the connection phase (greeting, login, authentication exchange) as one
 * `HANDSHAKE` entry. Field names follow Kubeshark's KFL2 `mysql_*` variables (command like
 * `COM_QUERY`, query, database, statement id, success, error code and message); docs/mysql.md
 * describes every field.
 *
 * Credentials are never part of it: the parser skips auth data and never keeps it.
 * Imports only src/model (the descriptor, KFL and the TUI load it without the parser).
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const MYSQL_PROTOCOL_NAME = 'mysql';

/** The command name of the connection phase (not a COM_ code of the protocol). */
export const HANDSHAKE_COMMAND = 'HANDSHAKE';

/** A column of a result set (or a parameter of a prepared statement), from its definition packet. */
export interface MysqlColumn {
  name: string;
  /** The table it comes from (its alias), "" for an expression. */
  table: string;
  /** `VARCHAR`, `LONGLONG`, ... (the protocol's type names, without MYSQL_TYPE_). */
  type: string;
}

/** A parameter of COM_STMT_EXECUTE, decoded by its type; null for SQL NULL (or not sent). */
export interface MysqlParam {
  type: string;
  value: string | null;
}

/** What the server told in its greeting and the client in its login (no auth data). */
export interface MysqlHandshake {
  protocolVersion: number;
  serverVersion: string;
  connectionId: number;
  /** Capability flag names (`CLIENT_PROTOCOL_41`, `CLIENT_DEPRECATE_EOF`...). */
  serverCapabilities: string[];
  clientCapabilities: string[];
  /** The authentication plugin named last (greeting, login, or the server's auth switch). */
  authPlugin: string;
  /** The client asked for TLS (CLIENT_SSL): the rest of the connection is encrypted. */
  ssl: boolean;
}

export interface MysqlRequest {
  /** `COM_QUERY`, `COM_STMT_EXECUTE`, ..., `HANDSHAKE` for the connection phase. */
  command: string;
  /** The command byte; -1 for the handshake. */
  commandCode: number;
  /** COM_QUERY and COM_STMT_PREPARE text; COM_STMT_EXECUTE: its statement's text when it was seen prepared. */
  query?: string;
  /** The query was longer than what is kept (`options.maxBodyBytes`). */
  queryTruncated?: boolean;
  /** The schema: COM_INIT_DB, COM_CREATE_DB/DROP_DB, the login's or COM_CHANGE_USER's. */
  database?: string;
  /** The login's or COM_CHANGE_USER's user name. */
  user?: string;
  /** COM_FIELD_LIST's table. */
  table?: string;
  /** COM_STMT_EXECUTE/CLOSE/RESET/FETCH/SEND_LONG_DATA. */
  statementId?: number;
  /** COM_STMT_EXECUTE's parameters, when their types are known (sent, or remembered for the statement). */
  params?: MysqlParam[];
  /** COM_PROCESS_KILL's connection id. */
  processId?: number;
  handshake?: MysqlHandshake;
}

/** One result of a command: an OK, an error, or a result set. */
export type MysqlResult =
  | {
      kind: 'ok';
      affectedRows: number;
      lastInsertId: number;
      warnings: number;
      /** Server status flags as a number (SERVER_MORE_RESULTS_EXISTS is 0x0008). */
      status: number;
      info?: string;
    }
  | { kind: 'error'; errorCode: number; sqlState: string; errorMessage: string }
  | {
      kind: 'resultset';
      columns: MysqlColumn[];
      /** Rows as text (binary rows decoded by column type), null for NULL; kept up to maxBodyBytes. */
      rows: (string | null)[][];
      rowCount: number;
      /** Some rows (or columns) were not kept. */
      rowsTruncated: boolean;
      warnings: number;
      status: number;
    };

export interface MysqlResponse {
  /** No error result, and the login (or TLS) went through. */
  success: boolean;
  /** Every result of the command, in order (several when SERVER_MORE_RESULTS_EXISTS). */
  results: MysqlResult[];
  /** From the error result, when there is one. */
  errorCode?: number;
  sqlState?: string;
  errorMessage?: string;
  /** Sums over the results. */
  affectedRows: number;
  rowCount: number;
  warnings: number;
  /** The last non-zero last-insert-id of the results. */
  lastInsertId?: number;
  /** COM_STMT_PREPARE answered: the statement, its parameters and columns. */
  prepared?: { statementId: number; paramCount: number; columnCount: number; params: MysqlColumn[]; columns: MysqlColumn[] };
  /** COM_STATISTICS's text answer. */
  text?: string;
  /** The login switched to TLS (CLIENT_SSL): nothing after it is dissected. */
  tls?: boolean;
}

export type MysqlEntry = EntryEnvelope<'mysql', MysqlRequest, MysqlResponse>;
