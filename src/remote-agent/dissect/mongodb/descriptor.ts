/**
 * Present stage: what MongoDB tells everyone outside its folder (src/model/protocol-descriptor.ts):
 * the list row (`find  shop.orders  ok`), the detail sections (documents as relaxed Extended JSON),
 * the dedup key, the service-map label, the KFL word `mongodb` and Kubeshark's KFL2 `mongodb_*`
 * variables, and redaction: SASL payloads, `authenticate` fields and `pwd` masked as [REDACTED].
 * Imports only src/model and its own entry.ts.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import type { MongodbDocuments, MongodbEntry, MongodbRequest, MongodbResponse, MongodbSequence } from './entry.ts';

function isMongodb(entry: unknown): entry is MongodbEntry {
  return (entry as { protocol?: { name?: unknown } } | null)?.protocol?.name === 'mongodb';
}

/** `shop.orders`, `shop`, or "" (what a command acts on). */
function namespaceOf(req: MongodbRequest): string {
  if (req.collection !== '') return req.database === '' ? req.collection : `${req.database}.${req.collection}`;
  return req.database;
}

function verbOf(req: MongodbRequest): string {
  if (req.command !== '') return req.command;
  return req.compressor !== undefined && !req.decoded ? `${req.opcode} (${req.compressor})` : req.opcode;
}

function outcomeOf(entry: MongodbEntry): string {
  const res = entry.response;
  if (res === null) return entry.error === null ? 'no reply expected' : '';
  if (!res.decoded) return `(${res.compressor ?? 'compressed'})`;
  const more = res.streamIndex > 0 || res.moreToCome ? ` [stream ${res.streamIndex}]` : '';
  if (res.success) return `ok${more}`;
  const name = res.errorCodeName !== '' ? res.errorCodeName : res.writeErrors.length > 0 ? 'writeErrors' : 'error';
  return `${name}${res.errorCode !== 0 ? ` (${res.errorCode})` : ''}${more}`;
}

function outcomeClassOf(entry: MongodbEntry): OutcomeClass {
  const res = entry.response;
  if (res === null) return 'none';
  return res.success ? 'success' : 'client-error';
}

/** A request with nothing to wait for (an unacknowledged write) is not an error. */
function isError(entry: MongodbEntry): boolean {
  const res = entry.response;
  if (res === null) return entry.error !== null;
  return !res.success;
}

function summarize(entry: MongodbEntry): RowSummary {
  const req = entry.request;
  const res = entry.response;
  const target = namespaceOf(req);
  return {
    verb: verbOf(req),
    target,
    outcome: outcomeOf(entry),
    outcomeClass: outcomeClassOf(entry),
    isError: isError(entry),
    verbQuery: `mongodb and mongodb_command == ${kflString(req.command)}`,
    ...(target === ''
      ? {}
      : {
          targetQuery: req.collection === ''
            ? `mongodb and mongodb_database == ${kflString(req.database)}`
            : `mongodb and mongodb_database == ${kflString(req.database)} and mongodb_collection == ${kflString(req.collection)}`,
        }),
    ...(res === null
      ? {}
      : { outcomeQuery: res.success ? 'mongodb and mongodb_success' : `mongodb and mongodb_error_code == ${res.errorCode}` }),
    ...(res === null ? {} : { payloadBytes: (res.document?.size ?? 0) + res.sequences.reduce((n, s) => n + s.documents.size, 0) }),
  };
}

function documentSection(title: string, d: MongodbDocuments): DetailSection {
  return {
    kind: 'body',
    title: `${title} (${d.count === 1 ? '1 document' : `${d.count} documents`}, ${formatBytes(d.size)})`,
    mimeType: d.mimeType,
    text: d.text,
    ...(d.truncated === true ? { truncated: true } : {}),
    sizeBytes: d.size,
  };
}

function sequenceSections(side: string, sequences: readonly MongodbSequence[]): DetailSection[] {
  return sequences.map((s) => documentSection(`${side} sequence ${s.identifier}`, s.documents));
}

function headerRows(m: MongodbRequest | MongodbResponse, side: 'request' | 'response'): DetailRow[] {
  const rows: DetailRow[] = [
    { label: 'Opcode', value: m.opcode, selector: `${side}.opcode` },
    { label: 'Request id', value: String(m.requestId), selector: `${side}.requestId` },
  ];
  if (m.responseTo !== 0) rows.push({ label: 'Response to', value: String(m.responseTo), selector: `${side}.responseTo` });
  if (m.flags.length > 0) rows.push({ label: 'Flags', value: m.flags.join(' '), selector: `${side}.flags` });
  if (m.compressor !== undefined) rows.push({ label: 'Compressor', value: m.decoded ? m.compressor : `${m.compressor} (not decompressed here)`, selector: `${side}.compressor` });
  rows.push({ label: 'Size', value: formatBytes(m.size) });
  return rows;
}

function represent(entry: MongodbEntry): readonly DetailSection[] {
  const req = entry.request;
  const res = entry.response;
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Command', text: `${verbOf(req)} ${namespaceOf(req)}`.trimEnd() },
    {
      kind: 'table',
      title: 'Request',
      rows: [
        { label: 'Command', value: req.command, selector: 'request.command' },
        { label: 'Database', value: req.database, selector: 'request.database' },
        ...(req.collection === '' ? [] : [{ label: 'Collection', value: req.collection, selector: 'request.collection' }]),
        ...headerRows(req, 'request'),
      ],
    },
  ];
  if (req.document !== null) sections.push(documentSection('Request body', req.document));
  sections.push(...sequenceSections('Request', req.sequences));
  if (res === null) {
    const text = entry.error?.msg ?? (req.moreToCome ? 'no reply expected (moreToCome)' : 'no reply expected');
    sections.push({ kind: 'heading', title: 'Reply', text, outcomeClass: entry.error === null ? 'none' : 'server-error', absent: true });
    return sections;
  }
  const rows: DetailRow[] = [{ label: 'Success', value: String(res.success), selector: 'response.success' }];
  if (!res.success) {
    rows.push(
      { label: 'Code', value: String(res.errorCode), selector: 'response.errorCode' },
      { label: 'Code name', value: res.errorCodeName, selector: 'response.errorCodeName' },
      { label: 'Message', value: res.errorMessage, selector: 'response.errorMessage' },
    );
  }
  res.writeErrors.forEach((w, i) =>
    rows.push({ label: `Write error ${i}`, value: `index ${w.index}: ${w.code} ${w.codeName} ${w.errmsg}`.replace(/\s+/g, ' ').trim(), selector: `response.writeErrors[${i}].code` }),
  );
  if (res.streamIndex > 0 || res.moreToCome) rows.push({ label: 'Stream', value: `reply ${res.streamIndex}${res.moreToCome ? ', more to come' : ', last'}`, selector: 'response.streamIndex' });
  if (res.cursorId !== undefined) rows.push({ label: 'Cursor id', value: res.cursorId, selector: 'response.cursorId' }, { label: 'Returned', value: String(res.numberReturned ?? 0) });
  rows.push(...headerRows(res, 'response'));
  sections.push({ kind: 'heading', title: 'Reply', text: outcomeOf(entry), outcomeClass: outcomeClassOf(entry) }, { kind: 'table', title: 'Reply', rows });
  if (res.document !== null) sections.push(documentSection('Reply body', res.document));
  sections.push(...sequenceSections('Reply', res.sequences));
  return sections;
}

function dedupKey(entry: MongodbEntry): string {
  const r = entry.request;
  return `${r.requestId}|${r.opcode}|${r.command.slice(0, 64)}|${r.size}|${entry.response?.streamIndex ?? 0}`;
}

// ---- KFL2 variables (kubeshark.md §1.4) ----

const mongoOnly = (read: (e: MongodbEntry) => unknown) => (e: unknown): unknown => (isMongodb(e) ? read(e) : null);
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'mongodb_command', kind: 'computed', get: mongoOnly((e) => e.request.command) },
  { name: 'mongodb_database', kind: 'computed', get: mongoOnly((e) => e.request.database) },
  { name: 'mongodb_collection', kind: 'computed', get: mongoOnly((e) => e.request.collection) },
  { name: 'mongodb_opcode', kind: 'computed', get: mongoOnly((e) => e.request.opcode) },
  { name: 'mongodb_request_size', kind: 'computed', get: mongoOnly((e) => e.requestSize) },
  { name: 'mongodb_response_size', kind: 'computed', get: mongoOnly((e) => e.responseSize) },
  { name: 'mongodb_total_size', kind: 'computed', get: mongoOnly((e) => e.requestSize + e.responseSize) },
  { name: 'mongodb_success', kind: 'computed', get: mongoOnly((e) => e.response?.success ?? false) },
  { name: 'mongodb_error_code', kind: 'computed', get: mongoOnly((e) => e.response?.errorCode ?? 0) },
  { name: 'mongodb_error_message', kind: 'computed', get: mongoOnly((e) => e.response?.errorMessage ?? '') },
  { name: 'mongodb_error_code_name', kind: 'computed', get: mongoOnly((e) => e.response?.errorCodeName ?? '') },
] satisfies KflVariable[]);

const MESSAGE_FIELDS = ['opcode', 'requestId', 'responseTo', 'flags', 'compressor', 'decoded', 'size', 'document', 'document.text', 'document.size', 'document.count', 'document.truncated', 'sequences', 'sequences.identifier', 'sequences.documents', 'sequences.documents.text'];
const PATHS: readonly string[] = Object.freeze([
  ...MESSAGE_FIELDS.flatMap((f) => [`request.${f}`, `response.${f}`]),
  'request.command', 'request.database', 'request.collection', 'request.moreToCome', 'request.fullCollectionName',
  'response.success', 'response.errorCode', 'response.errorCodeName', 'response.errorMessage', 'response.writeErrors',
  'response.writeErrors.index', 'response.writeErrors.code', 'response.writeErrors.codeName', 'response.writeErrors.errmsg',
  'response.cursorId', 'response.numberReturned', 'response.streamIndex', 'response.moreToCome',
]);

// ---- Redaction ----

/** Commands whose whole conversation is a credential exchange (SCRAM, PLAIN, X.509, GSSAPI). */
const SASL_COMMANDS: ReadonlySet<string> = new Set(['saslStart', 'saslContinue']);
const USER_COMMANDS: ReadonlySet<string> = new Set(['createUser', 'updateUser']);
/** `authenticate` (MONGODB-X509, MONGODB-CR) fields that are not credentials. */
const AUTHENTICATE_KEPT: ReadonlySet<string> = new Set(['authenticate', 'mechanism', '$db', 'db']);

type Masker = (doc: Record<string, unknown>, redacted: string) => void;

/** The SASL `payload`, here and in a `speculativeAuthenticate` (hello and its reply carry the first SASL step). */
function maskSasl(doc: Record<string, unknown>, redacted: string): void {
  if ('payload' in doc) doc.payload = redacted;
  const spec = doc.speculativeAuthenticate;
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    const s = spec as Record<string, unknown>;
    if ('payload' in s) s.payload = redacted;
    if ('authenticate' in s) maskAuthenticate(s, redacted);
  }
}

function maskAuthenticate(doc: Record<string, unknown>, redacted: string): void {
  for (const k of Object.keys(doc)) if (!AUTHENTICATE_KEPT.has(k)) doc[k] = redacted;
}

function maskPwd(doc: Record<string, unknown>, redacted: string): void {
  if ('pwd' in doc) doc.pwd = redacted;
}

/**
 * Applies `mask` to the document (or each document of an array) in `d.text`. A text that does not
 * parse (cut at the body limit) cannot be checked, so it is replaced whole.
 */
function maskDocuments(d: MongodbDocuments | null, mask: Masker, redacted: string): void {
  if (d === null) return;
  try {
    const value: unknown = JSON.parse(d.text);
    const docs = Array.isArray(value) ? value : [value];
    for (const doc of docs) if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) mask(doc as Record<string, unknown>, redacted);
    d.text = JSON.stringify(value);
  } catch {
    d.text = redacted;
  }
}

/** Cheap check first: most documents hold no credential word at all, and are not parsed. */
function mayHold(d: MongodbDocuments | null, words: readonly string[]): boolean {
  return d !== null && words.some((w) => d.text.includes(w));
}

function redactSide(m: MongodbRequest | MongodbResponse, command: string, redactor: PayloadRedactor): void {
  const r = redactor.redacted;
  if (SASL_COMMANDS.has(command)) maskDocuments(m.document, maskSasl, r);
  else if (command === 'authenticate') maskDocuments(m.document, 'success' in m ? maskSasl : maskAuthenticate, r);
  else if (mayHold(m.document, ['"speculativeAuthenticate"'])) maskDocuments(m.document, maskSasl, r);
  if (USER_COMMANDS.has(command) && mayHold(m.document, ['"pwd"'])) maskDocuments(m.document, maskPwd, r);
  // What HTTP bodies lose (password, token, key... keys; --redact-keys), documents lose too.
  if (m.document !== null) redactor.redactField(m, 'document', 'body');
  for (const s of m.sequences) redactor.redactField(s, 'documents', 'body');
}

/** In place; never throws (a side that cannot be checked loses its documents whole). */
function redact(entry: MongodbEntry, redactor: PayloadRedactor): MongodbEntry {
  const command = typeof entry.request?.command === 'string' ? entry.request.command : '';
  for (const side of [entry.request, entry.response]) {
    if (side === null || typeof side !== 'object') continue;
    try {
      redactSide(side, command, redactor);
    } catch {
      try {
        side.document = null;
        side.sequences = [];
      } catch {
        // Frozen: nothing can be changed in place.
      }
    }
  }
  return entry;
}

function heldChars(entry: MongodbEntry): number {
  let n = 0;
  for (const side of [entry.request, entry.response]) {
    if (side === null) continue;
    n += side.document?.text.length ?? 0;
    for (const s of side.sequences) n += s.documents.text.length;
  }
  return n;
}

export const mongodbDescriptor: ProtocolDescriptor<MongodbEntry> = Object.freeze({
  name: 'mongodb',
  abbr: 'MONGODB',
  longName: 'MongoDB wire protocol',
  defaultPorts: Object.freeze([27017, 27018, 27019]),
  referenceUrl: 'https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/',
  summarize,
  represent,
  dedupKey,
  edgeLabel: () => 'MONGODB',
  kfl: Object.freeze({
    words: Object.freeze([{ word: 'mongodb', matches: (p: { readonly name: unknown }) => p.name === 'mongodb' }]),
    variables: VARIABLES,
    paths: PATHS,
  }),
  redact,
  bodySizes: (entry: MongodbEntry) => ({
    request: (entry.request.document?.size ?? 0) + entry.request.sequences.reduce((n, s) => n + s.documents.size, 0),
    response: entry.response === null ? null : (entry.response.document?.size ?? 0) + entry.response.sequences.reduce((n, s) => n + s.documents.size, 0),
  }),
  heldChars,
});
