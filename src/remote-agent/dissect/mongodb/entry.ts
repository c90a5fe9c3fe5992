/**
 * The MongoDB entry: one command (an OP_MSG, or a legacy OP_QUERY and the like) and the reply that
 * names it (`responseTo`). Kubeshark keeps its MongoDB fields closed-source and documents only its
 * KFL2 variables (mongodb_command, mongodb_database, mongodb_collection, mongodb_opcode,
 * mongodb_success, mongodb_error_*): the fields here are named after them. docs/mongodb.md
 * describes every field.
 *
 * Imports only src/model (the descriptor, KFL and the TUI load it without the parser).
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const MONGODB_PROTOCOL_NAME = 'mongodb';

/** BSON documents as relaxed Extended JSON text, cut at the body limit (`--max-body`). */
export interface MongodbDocuments {
  readonly mimeType: 'application/json';
  /** One document: its JSON; several (a document sequence, OP_REPLY's documents): a JSON array. */
  text: string;
  /** The text was cut at the body limit, or the message was longer than what is kept of it. */
  truncated?: boolean;
  /** BSON bytes of the documents on the wire. */
  readonly size: number;
  /** Documents there are (a sequence may hold thousands; `text` shows what fits). */
  readonly count: number;
}

/** An OP_MSG section of kind 1: documents under one identifier (`documents`, `updates`, `deletes`). */
export interface MongodbSequence {
  readonly identifier: string;
  readonly documents: MongodbDocuments;
}

/** What both sides share. */
interface MongodbMessage {
  /** `OP_MSG`, `OP_QUERY`, `OP_REPLY`, `OP_GET_MORE`...; the original opcode when it came compressed. */
  readonly opcode: string;
  readonly requestId: number;
  readonly responseTo: number;
  /** Flag bits set, by name (`checksumPresent`, `moreToCome`, `exhaustAllowed`; OP_QUERY's `slaveOk`...). */
  readonly flags: readonly string[];
  /** The compressor when the message came in an OP_COMPRESSED (`zlib`, `snappy`, `zstd`, `noop`). */
  readonly compressor?: string;
  /**
   * False when a compressed message could not be opened here (snappy: no library in the agent):
   * only its header (opcode, ids, sizes) is known.
   */
  readonly decoded: boolean;
  /** Bytes on the wire, header included. */
  readonly size: number;
}

export interface MongodbRequest extends MongodbMessage {
  /** The command: the first key of the body (`find`, `insert`, `hello`), or the legacy opcode's action. */
  readonly command: string;
  /** `$db`, or the database part of a legacy operation's full collection name; "" when unknown. */
  readonly database: string;
  /** The command's value for commands on a collection (find, insert, update, delete, aggregate...); else "". */
  readonly collection: string;
  /** The OP_MSG body (section kind 0) or the OP_QUERY query; null when not decoded. */
  document: MongodbDocuments | null;
  /** OP_MSG document sequences (section kind 1), in order. */
  sequences: MongodbSequence[];
  /** The sender wants no reply (moreToCome on a request: an unacknowledged write). */
  readonly moreToCome: boolean;
  /** Legacy OP_QUERY/OP_GET_MORE/OP_INSERT...: `<db>.<collection>` as sent. */
  readonly fullCollectionName?: string;
}

/** One error of a write command's `writeErrors`. */
export interface MongodbWriteError {
  readonly index: number;
  readonly code: number;
  readonly codeName: string;
  readonly errmsg: string;
}

export interface MongodbResponse extends MongodbMessage {
  /** `ok: 1` and no write errors (a legacy OP_REPLY: no QueryFailure flag and no `$err`). */
  readonly success: boolean;
  /** `code` of a failed command (or of its first write error); 0 when it succeeded. */
  readonly errorCode: number;
  readonly errorCodeName: string;
  readonly errorMessage: string;
  readonly writeErrors: readonly MongodbWriteError[];
  /** The reply's body (OP_MSG) or its documents (OP_REPLY); null when not decoded. */
  document: MongodbDocuments | null;
  /** OP_MSG document sequences of the reply (rare), in order. */
  sequences: MongodbSequence[];
  /** OP_REPLY: the cursor id (as decimal text: 64 bits) and the documents returned. */
  readonly cursorId?: string;
  readonly numberReturned?: number;
  /**
   * An exhaust stream (moreToCome on replies: exhaust cursors, streaming hello): the place of this
   * reply in it, 0 for the first. Each reply of a stream is an entry of its own with the same request.
   */
  readonly streamIndex: number;
  /** More replies to the same request follow this one (the reply had moreToCome). */
  readonly moreToCome: boolean;
}

export type MongodbEntry = EntryEnvelope<'mongodb', MongodbRequest, MongodbResponse>;

export function isMongodbEntry(entry: { readonly protocol: { readonly name: string } }): entry is MongodbEntry {
  return entry.protocol.name === MONGODB_PROTOCOL_NAME;
}
