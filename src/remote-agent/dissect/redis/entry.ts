/**
 * The Redis entry: one command and its reply (RESP2 or RESP3), or one message the server pushed
 * without a request (pub/sub messages, RESP3 pushes). Field names follow Kubeshark's Redis entries
 * (request.{type, command, key, value, keyword}, response.{type, value}), so its users' KFL and jq
 * keep working; what Kubeshark lacks (the argument list, sizes, error codes, transactions,
 * subscriptions) is added under names of its own. docs/redis.md describes every field.
 *
 * Imports only src/model (the descriptor, KFL and the TUI load it without the parser).
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const REDIS_PROTOCOL_NAME = 'redis';

/** `protocol.version` says which RESP the connection spoke when the entry was made (HELLO 3 switches). */
export const REDIS_RESP2 = Object.freeze({ name: REDIS_PROTOCOL_NAME, version: '2', abbr: 'REDIS' } as const);
export const REDIS_RESP3 = Object.freeze({ name: REDIS_PROTOCOL_NAME, version: '3', abbr: 'REDIS' } as const);

/** Arguments kept per command (the count is always whole). */
export const MAX_ARGS_KEPT = 256;

export interface RedisRequest {
  /** `Array` (a RESP array of bulk strings) or `Inline` (a line of words). */
  type: string;
  /** The command's name, upper-cased (`GET`, `CLIENT`); as sent in `args` of nothing else. */
  command: string;
  /** The first argument (Kubeshark's key), `""` when there is none; escaped where not printable. */
  key: string;
  /** The arguments after the key, joined by spaces (Kubeshark's value); bounded like every kept string. */
  value: string;
  /** The first option word among the arguments (`EX`, `NX`, `WITHSCORES`, ...), `""` when none. */
  keyword: string;
  /** Every argument after the command, as text (redis-cli escapes), at most MAX_ARGS_KEPT. */
  args: string[];
  /** How many arguments came after the command. */
  argCount: number;
  /** Sent inside MULTI ... EXEC: the server queued it (its reply is `QUEUED`); its result is EXEC's. */
  inTransaction?: boolean;
}

/** One queued command of a transaction and what EXEC answered for it. */
export interface RedisTransactionResult {
  command: string;
  key: string;
  /** The reply's type and value, as in a response. */
  type: string;
  value: string;
  /** The error's code word (`WRONGTYPE`) when the command failed inside the transaction, else `""`. */
  errorCode: string;
}

/** What a push (pub/sub message, RESP3 `>`) carried. */
export interface RedisPush {
  /** Its first element: `message`, `pmessage`, `smessage`, `invalidate`... */
  kind: string;
  /** The channel it came on (`""` when it has none). */
  channel: string;
  /** For `pmessage`, the pattern that matched. */
  pattern?: string;
  /** The published payload (escaped, bounded), or the rest of the push rendered. */
  message: string;
  /** Bytes of the payload. */
  size: number;
}

export interface RedisResponse {
  /** Kubeshark's type names: `Simple String`, `Error`, `Integer`, `Bulk String`, `Array`; RESP3: `Map`, `Set`, `Push`, `Double`, `Boolean`, `Big Number`, `Null`, `Bulk Error`, `Verbatim String`. */
  type: string;
  /** The reply as text: strings escaped, aggregates `[a, b]` / `{k: v}`, nulls `(nil)`; bounded. */
  value: string;
  /** The error's code word for error replies (`ERR`, `WRONGTYPE`, `NOAUTH`, `WRONGPASS`), else `""`. */
  errorCode: string;
  /** Bulk strings: their size in bytes; aggregates: their element count (pairs for a map). */
  size?: number;
  /** A null reply (`$-1`, `*-1`, RESP3 `_`). */
  nil?: boolean;
  /** The value was cut (a string past the kept bytes, elements not kept). */
  truncated?: boolean;
  /** RESP3 attributes sent before the reply, rendered. */
  attributes?: string;
  /** Verbatim strings: the format (`txt`, `mkd`). */
  format?: string;
  /** (UN)SUBSCRIBE and friends: how many confirmations answered it (one per channel). */
  confirmations?: number;
  /** EXEC: the queued commands in order and what each got. `aborted` when EXEC answered null or an error. */
  results?: RedisTransactionResult[];
  aborted?: boolean;
  /** A push: an entry of its own, without a request. */
  push?: RedisPush;
}

/**
 * `request` is null for a push (a message the server sent unasked); `subscriptionId` then names
 * the entry of the SUBSCRIBE (PSUBSCRIBE, SSUBSCRIBE) that asked for it, when it was captured.
 */
export interface RedisEntry extends EntryEnvelope<typeof REDIS_PROTOCOL_NAME, RedisRequest | null, RedisResponse> {
  subscriptionId?: string;
}
