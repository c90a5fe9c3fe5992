/**
 * The PostgreSQL frontend/backend protocol entry (protocol 3.0, "Frontend/Backend Protocol" in the
 * PostgreSQL docs): one entry per request unit a client sends and the server closes with
 * ReadyForQuery (a Query message, an extended-query run ending with Sync, the startup with its
 * authentication), or per one-sided message (Terminate, CancelRequest). docs/postgresql.md lists
 * every field. Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const POSTGRESQL_PROTOCOL_NAME = 'postgresql';

/** What the client asked for. */
export type PostgresqlRequestKind =
  | 'startup'
  | 'ssl-request'
  | 'gssenc-request'
  | 'cancel'
  | 'simple-query'
  | 'extended-query'
  | 'function-call'
  | 'terminate';

/** One parameter of a Bind: its type's name when known (`int4`, or the OID as text), its value as text. */
export interface PostgresqlParameter {
  readonly type: string;
  /** Text parameters as sent; binary ones decoded for common types, else `\x` and hex; null for SQL NULL. */
  readonly value: string | null;
  readonly format: 'text' | 'binary';
}

/** A Parse: a statement prepared under a name ("" is the unnamed statement). */
export interface PostgresqlPrepare {
  readonly statement: string;
  readonly query: string;
  /** Parameter types the client declared (names or OIDs), in order; may be shorter than the parameters. */
  readonly parameterTypes: readonly string[];
}

/** An Execute of a portal, with the statement it was bound from and the values bound. */
export interface PostgresqlExecution {
  readonly statement: string;
  readonly portal: string;
  /** The statement's text (from its Parse, in this unit or earlier on the connection); "" when unknown. */
  readonly query: string;
  readonly parameters: readonly PostgresqlParameter[];
  /** Rows asked for at most (0: all). */
  readonly maxRows: number;
}

/** COPY data of one direction: the rows (CopyData messages) and bytes, the data kept up to --max-body. */
export interface PostgresqlCopy {
  readonly rows: number;
  readonly bytes: number;
  readonly data: string;
  readonly truncated: boolean;
  /** CopyFail: the client gave up with this message. */
  readonly failure?: string;
}

export interface PostgresqlRequest {
  readonly kind: PostgresqlRequestKind;
  /** The first statement's SQL command word (`SELECT`, `INSERT`), or the message for others (`Startup`, `Terminate`). */
  readonly command: string;
  /** The SQL text: the Query message's, or the executed (else parsed) statements' joined by `; `. */
  readonly query: string;
  /** The connection's database and user, from its startup message ("" when joined midway). */
  readonly database: string;
  readonly user: string;
  /** Frontend message names of the unit, in order (`Parse`, `Bind`, ..., `Sync`). */
  readonly messages: readonly string[];
  /** Startup parameters (a `password` parameter masked). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Extended query: the statements parsed, and the portals executed. */
  readonly prepares?: readonly PostgresqlPrepare[];
  readonly executions?: readonly PostgresqlExecution[];
  /** COPY FROM STDIN: what the client sent. */
  readonly copy?: PostgresqlCopy;
  /** CancelRequest: the backend whose query is cancelled (its secret key is not kept). */
  readonly cancelProcessId?: number;
}

/** An ErrorResponse or NoticeResponse. */
export interface PostgresqlNotice {
  /** `ERROR`, `FATAL`, `WARNING`, `NOTICE`... (the non-localised V field when sent). */
  readonly severity: string;
  /** SQLSTATE, e.g. `42P01`. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string;
}

export interface PostgresqlColumn {
  readonly name: string;
  /** Type name for common types, else the OID as text. */
  readonly type: string;
}

/** One result set: its columns (RowDescription), rows counted, rows kept up to --max-body. */
export interface PostgresqlResult {
  readonly columns: readonly PostgresqlColumn[];
  readonly rowCount: number;
  /** Values as text (binary ones decoded for common types, else hex); null is SQL NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
}

export interface PostgresqlResponse {
  /** Backend message names, in order (at most a few hundred kept; `messageCount` counts them all). */
  readonly messages: readonly string[];
  readonly messageCount: number;
  /** CommandComplete tags, one per statement that completed (`INSERT 0 1`, `SELECT 2`). */
  readonly commandTags: readonly string[];
  /** DataRow messages in all. */
  readonly rows: number;
  readonly results: readonly PostgresqlResult[];
  /** Some rows or values were not kept (--max-body). */
  readonly rowsTruncated: boolean;
  /** The ErrorResponse that ended the unit, if any. */
  readonly error: PostgresqlNotice | null;
  readonly notices: readonly PostgresqlNotice[];
  /** COPY TO STDOUT: what the server sent. */
  readonly copy?: PostgresqlCopy;
  /** SSLRequest/GSSENCRequest: the one-byte answer (`N` refused, `S`/`G` accepted: encryption follows). */
  readonly encryptionAnswer?: string;
  /** Startup: the authentication method the server asked for (`SCRAM-SHA-256`, `MD5`, `cleartext`, `ok`). */
  readonly authentication?: string;
  /** Startup: server parameters reported (ParameterStatus). */
  readonly serverParameters?: Readonly<Record<string, string>>;
  /** ReadyForQuery's transaction status: `idle`, `in-transaction`, `failed`; "" when the unit did not end with it. */
  readonly transactionStatus: string;
}

export type PostgresqlEntry = EntryEnvelope<'postgresql', PostgresqlRequest, PostgresqlResponse>;
