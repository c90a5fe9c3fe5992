/**
 * What a PostgreSQL message looks like from outside ("Message Formats" in the PostgreSQL docs):
 * after the untyped startup packets, every message is a type byte and a 32-bit length that counts
 * itself but not the type. The types each side may send, the messages whose length is fixed, and
 * the checks the framer, the sniffer and the resynchronisation share.
 */

/** Frontend (client) message types: Bind, Close, CopyData/Done/Fail, Describe, Execute, Flush, FunctionCall, password/SASL, Parse, Query, Sync, Terminate. */
export const FRONTEND_NAMES: ReadonlyMap<number, string> = new Map([
  [0x42, 'Bind'], [0x43, 'Close'], [0x64, 'CopyData'], [0x63, 'CopyDone'], [0x66, 'CopyFail'],
  [0x44, 'Describe'], [0x45, 'Execute'], [0x48, 'Flush'], [0x46, 'FunctionCall'],
  [0x70, 'PasswordMessage'], [0x50, 'Parse'], [0x51, 'Query'], [0x53, 'Sync'], [0x58, 'Terminate'],
]);

export const BACKEND_NAMES: ReadonlyMap<number, string> = new Map([
  [0x52, 'Authentication'], [0x4b, 'BackendKeyData'], [0x32, 'BindComplete'], [0x33, 'CloseComplete'],
  [0x43, 'CommandComplete'], [0x64, 'CopyData'], [0x63, 'CopyDone'], [0x47, 'CopyInResponse'],
  [0x48, 'CopyOutResponse'], [0x57, 'CopyBothResponse'], [0x44, 'DataRow'], [0x49, 'EmptyQueryResponse'],
  [0x45, 'ErrorResponse'], [0x56, 'FunctionCallResponse'], [0x76, 'NegotiateProtocolVersion'],
  [0x6e, 'NoData'], [0x4e, 'NoticeResponse'], [0x41, 'NotificationResponse'], [0x74, 'ParameterDescription'],
  [0x53, 'ParameterStatus'], [0x31, 'ParseComplete'], [0x73, 'PortalSuspended'], [0x5a, 'ReadyForQuery'],
  [0x54, 'RowDescription'],
]);

/** Length fields (after the type byte) of the messages whose length is fixed. */
const FRONTEND_FIXED: ReadonlyMap<number, number> = new Map([[0x48, 4], [0x53, 4], [0x58, 4], [0x63, 4]]);
const BACKEND_FIXED: ReadonlyMap<number, number> = new Map([
  [0x4b, 12], [0x32, 4], [0x33, 4], [0x49, 4], [0x6e, 4], [0x31, 4], [0x73, 4], [0x5a, 5], [0x63, 4],
]);

/** The server's own limit on a message is 1 GB; anything longer is not PostgreSQL. */
export const MAX_MESSAGE_BYTES = 0x40000000;
/** The server refuses startup packets longer than this (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_BYTES = 10000;

export type Side = 'frontend' | 'backend';

/** Total bytes of the typed message at `head[0]`, 'more' when fewer than 5 bytes, 'bad' when it cannot be one of `side`'s. */
export function typedLength(head: Uint8Array, side: Side): number | 'more' | 'bad' {
  if (head.length < 1) return 'more';
  const type = head[0]!;
  const names = side === 'frontend' ? FRONTEND_NAMES : BACKEND_NAMES;
  if (!names.has(type)) return 'bad';
  if (head.length < 5) return 'more';
  const len = ((head[1]! << 24) | (head[2]! << 16) | (head[3]! << 8) | head[4]!) >>> 0;
  const fixed = (side === 'frontend' ? FRONTEND_FIXED : BACKEND_FIXED).get(type);
  if (fixed !== undefined ? len !== fixed : len < 4 || len > MAX_MESSAGE_BYTES) return 'bad';
  return 1 + len;
}

/** Total bytes of the untyped startup packet at `head[0]` (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest). */
export function untypedLength(head: Uint8Array): number | 'more' | 'bad' {
  if (head.length < 4) return 'more';
  const len = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  return len < 8 || len > MAX_STARTUP_BYTES ? 'bad' : len;
}

/** Where a ReadyForQuery (`Z`, length 5, status I/T/E) starts in `window`, or -1: the server side's resynchronisation point. */
export function findReadyForQuery(window: Uint8Array, from = 0): number {
  for (let i = window.indexOf(0x5a, from); i >= 0 && i + 6 <= window.length; i = window.indexOf(0x5a, i + 1)) {
    if (window[i + 1] === 0 && window[i + 2] === 0 && window[i + 3] === 0 && window[i + 4] === 5) {
      const s = window[i + 5];
      if (s === 0x49 || s === 0x54 || s === 0x45) return i;
    }
  }
  return -1;
}

/** Bytes of a query's text a plausibility check reads. */
const CHECK_TEXT_BYTES = 256;

/**
 * A plausible Query (`Q`) or Parse (`P`) at `at`: the client side's resynchronisation point and
 * the mid-stream opening. Its length is sane and the text up to its NUL (or the first bytes of a
 * longer one) is printable: control bytes other than tab and newlines never start SQL.
 */
export function isPlausibleQueryStart(buf: Uint8Array, at: number): 'yes' | 'no' | 'more' {
  if (at + 5 > buf.length) return 'more';
  const type = buf[at]!;
  if (type !== 0x51 && type !== 0x50) return 'no';
  const len = ((buf[at + 1]! << 24) | (buf[at + 2]! << 16) | (buf[at + 3]! << 8) | buf[at + 4]!) >>> 0;
  if (len < (type === 0x51 ? 6 : 8) || len > MAX_MESSAGE_BYTES) return 'no';
  const end = at + 1 + len;
  // Parse starts with the statement name (may be empty), then the query: check both as text.
  let textBytes = 0;
  let nuls = 0;
  for (let i = at + 5; i < Math.min(buf.length, end); i++) {
    const b = buf[i]!;
    if (b === 0) {
      nuls++;
      if (type === 0x51 || nuls === 2) return i === end - 1 || type === 0x50 ? (textBytes > 0 ? 'yes' : 'no') : 'no';
      continue;
    }
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return 'no';
    if (b === 0x7f) return 'no';
    if (++textBytes >= CHECK_TEXT_BYTES) return 'yes';
  }
  return end <= buf.length ? 'no' : 'more';
}

/** Where a plausible Query or Parse starts in `window`, or -1: the client side's resynchronisation point. */
export function findQueryStart(window: Uint8Array): number {
  for (let i = 0; i < window.length; i++) {
    const b = window[i];
    if (b !== 0x51 && b !== 0x50) continue;
    if (isPlausibleQueryStart(window, i) === 'yes') return i;
  }
  return -1;
}

/**
 * A plausible backend message at `at`: a type the server sends and a length it allows (the reply
 * that confirms a mid-stream opening).
 */
export function isPlausibleBackendStart(buf: Uint8Array, at: number): 'yes' | 'no' | 'more' {
  const len = typedLength(buf.subarray(at), 'backend');
  if (len === 'more') return 'more';
  if (len === 'bad') return 'no';
  // Nothing the server sends in a session is this long before the first rows.
  return len <= 16 * 1024 * 1024 ? 'yes' : 'no';
}
