/**
 * BSON documents of a message, decoded with the `bson` package (safe options: regular expressions
 * kept as data, never compiled; invalid UTF-8 replaced, not thrown; numbers kept as BSON values so
 * relaxed Extended JSON shows them as MongoDB tools do), and written as relaxed Extended JSON text
 * cut at the body limit. And what a command or a reply says of itself (command, database,
 * collection, ok, code...), read from the top-level keys without decoding the rest.
 */
import { deserialize, EJSON, type Document } from 'bson';
import type { MongodbDocuments, MongodbWriteError } from './entry.ts';
import { DOCUMENT, isWellFormedDocument, topLevelElements, type TopLevelElement } from './bson-scan.ts';
import type { DocumentBytes, DocumentRun } from './wire.ts';

const DESERIALIZE_OPTIONS = Object.freeze({
  promoteValues: false,
  promoteBuffers: false,
  bsonRegExp: true,
  validation: { utf8: false as const },
  allowObjectSmallerThanBufferSize: false,
});

/** Top-level keys read for the facts (a command's `$db` comes last, after its arguments). */
const MAX_TOP_LEVEL_KEYS = 1000;
/** Write errors kept of a reply (a bulk insert may fail thousands of documents). */
const MAX_WRITE_ERRORS = 100;
/** Characters of a name (command, database, collection, codeName) kept. */
const MAX_NAME_CHARS = 256;
/** Characters of an error message kept. */
const MAX_MESSAGE_CHARS = 4096;

/** The decoded document, or null when it is cut, malformed or nested too deep. */
export function decodeDocument(d: DocumentBytes): Document | null {
  if (!d.complete || !isWellFormedDocument(d.bytes, 0)) return null;
  try {
    return deserialize(d.bytes, DESERIALIZE_OPTIONS);
  } catch {
    return null;
  }
}

/**
 * A cut document: its top-level elements that were kept whole, decoded as a document of their own
 * (so a person sees the start of a large command), or null when none was.
 */
function decodeCutDocument(d: DocumentBytes): Document | null {
  const whole = topLevelElements(d.bytes, 0, MAX_TOP_LEVEL_KEYS).filter((e) => e.end >= 0);
  if (whole.length === 0) return null;
  const last = whole[whole.length - 1]!;
  const elements = d.bytes.subarray(4, last.end);
  const rebuilt = new Uint8Array(elements.length + 5);
  new DataView(rebuilt.buffer).setInt32(0, rebuilt.length, true);
  rebuilt.set(elements, 4);
  return decodeDocument({ bytes: rebuilt, size: rebuilt.length, complete: true });
}

/** Characters JSON.stringify leaves raw that a terminal or a line-based reader would act on (C0 is escaped already). */
const RAW_CONTROLS = /[\u007f-\u009f\u2028\u2029]/g;
/** Control characters of any kind, in names and messages taken from the wire. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const uEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Wire text made printable: control characters written as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(CONTROLS, uEscape);
}

function ejson(doc: Document): string {
  try {
    // Inside JSON strings `\uXXXX` is the same character: the text stays valid, equal JSON.
    return EJSON.stringify(doc, { relaxed: true }).replace(RAW_CONTROLS, uEscape);
  } catch {
    return '{"$undecodable":true}';
  }
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, without splitting a character. */
function cutText(text: string, maxBytes: number): { text: string; cut: boolean } {
  // A character is at most 3 UTF-8 bytes per UTF-16 unit: short texts need no measuring.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, cut: false };
  const bytes = Buffer.from(text, 'utf8').subarray(0, maxBytes);
  let end = bytes.length;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), cut: true };
}

/**
 * Documents as text: one document as its JSON, several (`asArray`) as a JSON array, cut at
 * `maxBytes`. Documents past the limit are not decoded at all. A document that does not decode
 * shows as `{"$undecodable": <bytes>}`.
 */
export function documentsText(docs: readonly DocumentBytes[], asArray: boolean, run: { size: number; cut: boolean }, maxBytes: number): MongodbDocuments {
  const parts: string[] = [];
  let bytes = asArray ? 2 : 0;
  let truncated = run.cut;
  for (const d of docs) {
    if (bytes > maxBytes) {
      truncated = true;
      break;
    }
    let doc = decodeDocument(d);
    if (doc === null && !d.complete) {
      doc = decodeCutDocument(d);
      truncated = true;
    }
    const text = doc === null ? `{"$undecodable":${d.size}}` : ejson(doc);
    parts.push(text);
    bytes += text.length + 1;
  }
  const joined = asArray ? `[${parts.join(',')}]` : (parts[0] ?? '');
  const cut = cutText(joined, maxBytes);
  return {
    mimeType: 'application/json',
    text: cut.text,
    ...(truncated || cut.cut ? { truncated: true } : {}),
    size: run.size,
    count: docs.length,
  };
}

export function documentRunText(run: DocumentRun, maxBytes: number): MongodbDocuments {
  return documentsText(run.documents, true, run, maxBytes);
}

/** Commands whose value names the collection they act on. */
const COLLECTION_COMMANDS: ReadonlySet<string> = new Set([
  'find', 'insert', 'update', 'delete', 'aggregate', 'count', 'distinct', 'findAndModify', 'findandmodify',
  'create', 'drop', 'createIndexes', 'dropIndexes', 'deleteIndexes', 'listIndexes', 'collMod', 'collStats',
  'mapReduce', 'mapreduce', 'validate', 'killCursors', 'compact', 'reIndex', 'dataSize', 'geoSearch',
  'geoNear', 'shardCollection', 'cleanupOrphaned', 'analyze', 'createSearchIndexes', 'updateSearchIndex',
  'dropSearchIndex', 'listSearchIndexes',
]);

/** A name from the wire (namespace, sequence identifier) as an entry keeps it: bounded and printable. */
export function wireName(text: string): string {
  return clip(text, MAX_NAME_CHARS);
}

export interface CommandFacts {
  readonly command: string;
  readonly database: string;
  readonly collection: string;
}

/** Wire text cut to `max` characters and made printable. */
function clip(text: string, max: number): string {
  return printable(text.length <= max ? text : `${text.slice(0, max)}…`);
}

/**
 * Command, `$db` and collection of a command document (an OP_MSG body, or an OP_QUERY on
 * `<db>.$cmd` whose query may wrap the command in `$query`).
 */
export function commandFacts(body: DocumentBytes | null): CommandFacts {
  if (body === null) return { command: '', database: '', collection: '' };
  let elements = topLevelElements(body.bytes, 0, MAX_TOP_LEVEL_KEYS);
  const first = elements[0];
  if (first !== undefined && first.type === DOCUMENT && (first.name === '$query' || first.name === 'query') && first.end >= 0) {
    elements = topLevelElements(body.bytes.subarray(first.valueAt, first.end), 0, MAX_TOP_LEVEL_KEYS);
  }
  const command = elements[0]?.name ?? '';
  const db = elements.find((e) => e.name === '$db')?.text ?? '';
  let collection = '';
  if (command === 'getMore') collection = elements.find((e) => e.name === 'collection')?.text ?? '';
  else if (COLLECTION_COMMANDS.has(command)) collection = elements[0]?.text ?? '';
  return { command: clip(command, MAX_NAME_CHARS), database: clip(db, MAX_NAME_CHARS), collection: clip(collection, MAX_NAME_CHARS) };
}

/** `<db>.<collection>` split at the first dot (collection names may hold dots). */
export function splitNamespace(ns: string): { database: string; collection: string } {
  const dot = ns.indexOf('.');
  if (dot < 0) return { database: clip(ns, MAX_NAME_CHARS), collection: '' };
  return { database: clip(ns.slice(0, dot), MAX_NAME_CHARS), collection: clip(ns.slice(dot + 1), MAX_NAME_CHARS) };
}

export interface ReplyFacts {
  readonly success: boolean;
  readonly errorCode: number;
  readonly errorCodeName: string;
  readonly errorMessage: string;
  readonly writeErrors: MongodbWriteError[];
}

function byName(elements: readonly TopLevelElement[], name: string): TopLevelElement | undefined {
  return elements.find((e) => e.name === name);
}

function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object') {
    const o = v as { toNumber?: () => unknown; valueOf: () => unknown };
    try {
      const n = typeof o.toNumber === 'function' ? o.toNumber() : o.valueOf();
      return typeof n === 'number' ? n : Number.NaN;
    } catch {
      return Number.NaN;
    }
  }
  return Number.NaN;
}

function writeErrorsOf(doc: Document | null): MongodbWriteError[] {
  const list: unknown = doc?.writeErrors;
  if (!Array.isArray(list)) return [];
  const out: MongodbWriteError[] = [];
  for (const w of list.slice(0, MAX_WRITE_ERRORS)) {
    if (w === null || typeof w !== 'object') continue;
    const r = w as Record<string, unknown>;
    const code = numberOf(r.code);
    out.push({
      index: Number.isFinite(numberOf(r.index)) ? numberOf(r.index) : -1,
      code: Number.isFinite(code) ? code : 0,
      codeName: typeof r.codeName === 'string' ? clip(r.codeName, MAX_NAME_CHARS) : '',
      errmsg: typeof r.errmsg === 'string' ? clip(r.errmsg, MAX_MESSAGE_CHARS) : '',
    });
  }
  return out;
}

/**
 * What a command reply says: `ok`, and on failure `code`, `codeName`, `errmsg`; write errors and a
 * write concern error fail it too (the command ran, the writes did not all succeed). `legacyFailure`:
 * an OP_REPLY with QueryFailure set (its document holds `$err` and `code`).
 */
export function replyFacts(doc: DocumentBytes | null, legacyFailure: boolean): ReplyFacts {
  if (doc === null) return { success: !legacyFailure, errorCode: 0, errorCodeName: '', errorMessage: '', writeErrors: [] };
  const elements = topLevelElements(doc.bytes, 0, MAX_TOP_LEVEL_KEYS);
  const okEl = byName(elements, 'ok');
  const ok = okEl === undefined ? !legacyFailure && byName(elements, '$err') === undefined : okEl.number === 1;
  const decoded = elements.some((e) => e.name === 'writeErrors' || e.name === 'writeConcernError') ? decodeDocument(doc) : null;
  const writeErrors = writeErrorsOf(decoded);
  const wce = decoded?.writeConcernError as Record<string, unknown> | undefined;
  if (!ok) {
    const code = byName(elements, 'code')?.number ?? 0;
    const message = byName(elements, 'errmsg')?.text ?? byName(elements, '$err')?.text ?? '';
    return {
      success: false,
      errorCode: Number.isFinite(code) ? code : 0,
      errorCodeName: clip(byName(elements, 'codeName')?.text ?? '', MAX_NAME_CHARS),
      errorMessage: clip(message, MAX_MESSAGE_CHARS),
      writeErrors,
    };
  }
  const first = writeErrors[0];
  if (first !== undefined) return { success: false, errorCode: first.code, errorCodeName: first.codeName, errorMessage: first.errmsg, writeErrors };
  if (wce !== undefined && wce !== null && typeof wce === 'object') {
    const code = numberOf(wce.code);
    return {
      success: false,
      errorCode: Number.isFinite(code) ? code : 0,
      errorCodeName: typeof wce.codeName === 'string' ? clip(wce.codeName, MAX_NAME_CHARS) : '',
      errorMessage: typeof wce.errmsg === 'string' ? clip(wce.errmsg, MAX_MESSAGE_CHARS) : '',
      writeErrors,
    };
  }
  return { success: true, errorCode: 0, errorCodeName: '', errorMessage: '', writeErrors };
}
