/**
 * Present stage: what Redis tells everyone outside its folder (src/model/protocol-descriptor.ts):
 * the list row (`GET  cart:42  1.1 KiB`), the detail sections (command, arguments, reply,
 * transaction results, push), the dedup key, the service-map label, the KFL word `redis` and
 * Kubeshark's KFL2 `redis_*` variables, the link of a push to its SUBSCRIBE entry, and redaction of
 * credentials (AUTH, HELLO ... AUTH, MIGRATE ... AUTH, CONFIG SET requirepass, ACL SETUSER >pass).
 * Imports only src/model and its own entry.ts.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import type { RedisEntry, RedisRequest, RedisResponse } from './entry.ts';

/** Characters of a key in a dedup key and in KFL2's `redis_key` (Kubeshark's 64 bytes). */
const DEDUP_KEY_CHARS = 255;
const KFL_KEY_CHARS = 64;
/** Characters of a simple-string reply shown as the row's outcome. */
const OUTCOME_CHARS = 32;
/** Arguments listed one per row in the detail pane. */
const DETAIL_ARGS = 64;

function isRedis(entry: unknown): entry is RedisEntry {
  const protocol = (entry as { protocol?: { name?: unknown } } | null)?.protocol;
  return protocol?.name === 'redis';
}

/** The whole command as one line: name and arguments (KFL2's `redis_command`). */
export function commandLine(r: RedisRequest): string {
  // Entries read back (NDJSON, Kubeshark's) may lack the argument list: the command alone then.
  const args = Array.isArray(r.args) ? r.args : [];
  const more = typeof r.argCount === 'number' && r.argCount > args.length ? ' …' : '';
  return [r.command, ...args].join(' ') + more;
}

function isErrorReply(res: RedisResponse): boolean {
  return res.type === 'Error' || res.type === 'Bulk Error' || res.aborted === true;
}

/** What the row shows as the outcome: the error code, a short status, a size or a count. */
function outcomeText(res: RedisResponse): string {
  if (res.push !== undefined) return formatBytes(res.push.size);
  if (isErrorReply(res)) return res.errorCode !== '' ? res.errorCode : res.aborted === true ? 'aborted' : 'error';
  if (res.nil === true) return '(nil)';
  switch (res.type) {
    case 'Simple String':
      return res.value.length > OUTCOME_CHARS ? `${res.value.slice(0, OUTCOME_CHARS)}…` : res.value;
    case 'Integer':
    case 'Double':
    case 'Boolean':
    case 'Big Number':
      return res.value.slice(0, OUTCOME_CHARS);
    case 'Bulk String':
    case 'Verbatim String':
      return formatBytes(res.size ?? 0);
    default:
      if (res.confirmations !== undefined) return `${res.confirmations} subscribed`;
      return `${res.size ?? 0} ${res.type === 'Map' ? 'pairs' : 'items'}`;
  }
}

function outcomeClassOf(entry: RedisEntry): OutcomeClass {
  const res = entry.response;
  if (res === null) return 'none';
  return isErrorReply(res) ? 'client-error' : 'success';
}

function summarize(entry: RedisEntry): RowSummary {
  const req = entry.request;
  const res = entry.response;
  if (req === null) {
    const push = res?.push;
    const kind = push?.kind ?? 'push';
    return {
      verb: kind,
      target: push === undefined ? '' : push.pattern !== undefined ? `${push.channel} (${push.pattern})` : push.channel,
      outcome: res === null ? '' : outcomeText(res),
      outcomeClass: res === null ? 'none' : 'info',
      isError: false,
      verbQuery: `redis and response.push.kind == ${kflString(kind)}`,
      ...(push === undefined || push.channel === '' ? {} : { targetQuery: `redis and response.push.channel == ${kflString(push.channel)}` }),
      ...(push === undefined ? {} : { payloadBytes: push.size }),
    };
  }
  // Entries read back (NDJSON, Kubeshark's) may lack fields: blanks then.
  const key = typeof req.key === 'string' ? req.key : '';
  const value = typeof req.value === 'string' ? req.value : '';
  const target = key === '' ? '' : value === '' ? key : `${key} ${value}`;
  return {
    verb: String(req.command ?? ''),
    target,
    outcome: res === null ? '' : outcomeText(res),
    outcomeClass: outcomeClassOf(entry),
    isError: res === null || isErrorReply(res),
    verbQuery: `redis and request.command == ${kflString(String(req.command ?? ''))}`,
    ...(key === '' ? {} : { targetQuery: `redis and request.key == ${kflString(key)}` }),
    ...(res === null
      ? {}
      : typeof res.errorCode === 'string' && res.errorCode !== ''
        ? { outcomeQuery: `redis and response.errorCode == ${kflString(res.errorCode)}` }
        : { outcomeQuery: `redis and response.type == ${kflString(String(res.type ?? ''))}` }),
    ...(res !== null && res.size !== undefined && (res.type === 'Bulk String' || res.type === 'Verbatim String') ? { payloadBytes: res.size } : {}),
  };
}

function requestSections(req: RedisRequest, resp3: boolean): DetailSection[] {
  const rows: DetailRow[] = [
    { label: 'Type', value: req.type, selector: 'request.type' },
    { label: 'Command', value: req.command, selector: 'request.command' },
    { label: 'Key', value: req.key, selector: 'request.key' },
    ...(req.keyword === '' ? [] : [{ label: 'Keyword', value: req.keyword, selector: 'request.keyword' }]),
    { label: 'Arguments', value: String(req.argCount), selector: 'request.argCount' },
    { label: 'Protocol', value: resp3 ? 'RESP3' : 'RESP2' },
    ...(req.inTransaction === true ? [{ label: 'Transaction', value: 'queued (its result is in the EXEC entry)', selector: 'request.inTransaction' }] : []),
  ];
  const args: DetailRow[] = (Array.isArray(req.args) ? req.args : []).slice(0, DETAIL_ARGS).map((a, i) => ({ label: String(i + 1), value: a, selector: `request.args[${i}]` }));
  if (req.argCount > args.length) args.push({ label: '…', value: `${req.argCount - args.length} more` });
  return [
    { kind: 'heading', title: 'Command', text: commandLine(req) },
    { kind: 'table', title: 'Command', rows },
    { kind: 'table', title: 'Arguments', rows: args },
  ];
}

function responseSections(entry: RedisEntry, res: RedisResponse): DetailSection[] {
  const rows: DetailRow[] = [
    { label: 'Type', value: res.type, selector: 'response.type' },
    { label: 'Value', value: res.value, selector: 'response.value' },
    ...(res.errorCode === '' ? [] : [{ label: 'Error code', value: res.errorCode, selector: 'response.errorCode' }]),
    ...(res.size === undefined ? [] : [{ label: res.type.endsWith('String') ? 'Size' : 'Elements', value: res.type.endsWith('String') ? formatBytes(res.size) : String(res.size), selector: 'response.size' }]),
    ...(res.truncated === true ? [{ label: 'Truncated', value: 'yes (--max-body)' }] : []),
    ...(res.format === undefined ? [] : [{ label: 'Format', value: res.format, selector: 'response.format' }]),
    ...(res.attributes === undefined ? [] : [{ label: 'Attributes', value: res.attributes, selector: 'response.attributes' }]),
    ...(res.confirmations === undefined ? [] : [{ label: 'Confirmations', value: String(res.confirmations), selector: 'response.confirmations' }]),
    ...(res.aborted === true ? [{ label: 'Transaction', value: 'aborted (nothing ran)', selector: 'response.aborted' }] : []),
  ];
  const sections: DetailSection[] = [
    { kind: 'heading', title: entry.request === null ? 'Push' : 'Reply', text: `${res.type} ${outcomeText(res)}`, outcomeClass: outcomeClassOf(entry) },
    { kind: 'table', title: 'Reply', rows },
  ];
  if (res.results !== undefined) {
    sections.push({
      kind: 'table',
      title: 'Transaction',
      rows: res.results.map((r, i) => ({ label: `${i + 1}. ${r.command}${r.key === '' ? '' : ` ${r.key}`}`, value: `${r.type}: ${r.value}`, selector: `response.results[${i}].value` })),
    });
  }
  const push = res.push;
  if (push !== undefined) {
    sections.push({
      kind: 'table',
      title: 'Push',
      rows: [
        { label: 'Kind', value: push.kind, selector: 'response.push.kind' },
        { label: 'Channel', value: push.channel, selector: 'response.push.channel' },
        ...(push.pattern === undefined ? [] : [{ label: 'Pattern', value: push.pattern, selector: 'response.push.pattern' }]),
        { label: 'Message', value: push.message, selector: 'response.push.message' },
        { label: 'Size', value: formatBytes(push.size) },
        ...(entry.subscriptionId === undefined ? [] : [{ label: 'Subscription entry', value: entry.subscriptionId, selector: 'subscriptionId' }]),
      ],
    });
  }
  return sections;
}

function represent(entry: RedisEntry): readonly DetailSection[] {
  const sections: DetailSection[] = entry.request === null ? [] : requestSections(entry.request, entry.protocol.version === '3');
  const res = entry.response;
  if (res === null) {
    sections.push({ kind: 'heading', title: 'Reply', text: entry.error?.msg ?? 'no reply', outcomeClass: 'server-error', absent: true });
    return sections;
  }
  return [...sections, ...responseSections(entry, res)];
}

function dedupKey(entry: RedisEntry): string {
  const req = entry.request;
  if (req === null) {
    const push = entry.response?.push;
    return `push|${push?.kind ?? ''}|${(push?.channel ?? '').slice(0, DEDUP_KEY_CHARS)}`;
  }
  return `${req.command}|${req.key.slice(0, DEDUP_KEY_CHARS)}|${req.argCount}`;
}

const REQUEST_FIELDS = ['type', 'command', 'key', 'value', 'keyword', 'args', 'argCount', 'inTransaction'];
const RESPONSE_FIELDS = ['type', 'value', 'errorCode', 'size', 'nil', 'truncated', 'attributes', 'format', 'confirmations', 'results', 'aborted', 'push'];
const PATHS: readonly string[] = [
  'subscriptionId',
  ...REQUEST_FIELDS.map((f) => `request.${f}`),
  ...RESPONSE_FIELDS.map((f) => `response.${f}`),
  ...['command', 'key', 'type', 'value', 'errorCode'].map((f) => `response.results.${f}`),
  ...['kind', 'channel', 'pattern', 'message', 'size'].map((f) => `response.push.${f}`),
];

/**
 * KFL2 variables Kubeshark documents for Redis: `redis_type` is the verb (the command, or the
 * push's kind), `redis_command` the whole command line, `redis_key` the key cut to 64 characters.
 * On other entries they are null, like any path that is not there.
 */
const redisOnly = (read: (e: RedisEntry) => unknown) => (e: unknown): unknown => (isRedis(e) ? read(e) : null);
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'redis_type', kind: 'computed', get: redisOnly((e) => e.request?.command ?? e.response?.push?.kind ?? '') },
  { name: 'redis_command', kind: 'computed', get: redisOnly((e) => (e.request === null ? '' : commandLine(e.request))) },
  { name: 'redis_key', kind: 'computed', get: redisOnly((e) => String(e.request?.key ?? e.response?.push?.channel ?? '').slice(0, KFL_KEY_CHARS)) },
  { name: 'redis_request_size', kind: 'computed', get: redisOnly((e) => e.requestSize) },
  { name: 'redis_response_size', kind: 'computed', get: redisOnly((e) => e.responseSize) },
  { name: 'redis_total_size', kind: 'computed', get: redisOnly((e) => e.requestSize + e.responseSize) },
] satisfies KflVariable[]);

/** Parameters of CONFIG SET / CONFIG GET whose values are credentials. */
const SECRET_CONFIG = new Set(['requirepass', 'masterauth', 'masteruser', 'tls-key-file-pass', 'tls-client-key-file-pass']);

/**
 * Indexes (in `args`) of the arguments that are credentials: AUTH [user] pass, HELLO ... AUTH user
 * pass, MIGRATE ... AUTH pass | AUTH2 user pass, CONFIG SET requirepass pass, ACL SETUSER user
 * >pass / <pass / #hash / !hash.
 */
export function secretArgs(command: string, args: readonly string[]): number[] {
  const out: number[] = [];
  const upper = (i: number): string => (args[i] ?? '').toUpperCase();
  switch (command) {
    case 'AUTH':
      if (args.length === 1) out.push(0);
      else if (args.length >= 2) for (let i = 1; i < args.length; i++) out.push(i);
      break;
    case 'HELLO':
      for (let i = 1; i < args.length; i++) if (upper(i) === 'AUTH') out.push(i + 2);
      break;
    case 'MIGRATE':
      for (let i = 0; i < args.length; i++) {
        if (upper(i) === 'AUTH') out.push(i + 1);
        if (upper(i) === 'AUTH2') out.push(i + 2);
      }
      break;
    case 'CONFIG':
      if (upper(0) === 'SET') for (let i = 1; i + 1 < args.length; i += 2) if (SECRET_CONFIG.has(args[i]!.toLowerCase())) out.push(i + 1);
      break;
    case 'ACL':
      if (upper(0) === 'SETUSER') for (let i = 2; i < args.length; i++) if (/^[<>#!]/.test(args[i]!)) out.push(i);
      break;
  }
  return out.filter((i) => i < args.length);
}

/** Commands whose arguments may hold a credential (secretArgs says which). */
const SECRET_COMMANDS = new Set(['AUTH', 'HELLO', 'MIGRATE', 'CONFIG', 'ACL']);

/** CONFIG GET whose pattern may match a credential's name: its reply holds the credential. */
function repliesWithSecrets(req: RedisRequest): boolean {
  if (req.command !== 'CONFIG' || req.key.toUpperCase() !== 'GET') return false;
  return req.args.slice(1).some((p) => /[*?[]/.test(p) || SECRET_CONFIG.has(p.toLowerCase()));
}

/** Kubeshark's key and value are made of the arguments: made again from the redacted ones. */
function redactRequest(req: RedisRequest, redacted: string): void {
  const secret = secretArgs(req.command, req.args);
  if (secret.length === 0) return;
  for (const i of secret) req.args[i] = redacted;
  req.key = req.args[0] ?? '';
  req.value = req.args.slice(1).join(' ');
}

function redact(entry: RedisEntry, redactor: PayloadRedactor): RedisEntry {
  try {
    const req = entry.request;
    const res = entry.response;
    if (req !== null && Array.isArray(req.args)) {
      redactRequest(req, redactor.redacted);
      if (res !== null && repliesWithSecrets(req)) res.value = redactor.redacted;
    } else if (req !== null && typeof req === 'object') {
      // Kubeshark's shape read back (no argument list; the command may carry its arguments):
      // a command that can carry a credential keeps only its name.
      const name = String(req.command ?? '').trim().split(/\s+/)[0]!.toUpperCase();
      if (SECRET_COMMANDS.has(name)) {
        req.command = name;
        req.key = redactor.redacted;
        req.value = redactor.redacted;
      }
    }
    // AUTH inside MULTI: EXEC's results name each queued command with its first argument.
    for (const r of res?.results ?? []) if (r.command === 'AUTH') r.key = redactor.redacted;
  } catch {
    // An entry of an unexpected shape (read back from NDJSON): its request is hidden whole.
    if (entry.request !== null) entry.request = { type: '', command: '', key: redactor.redacted, value: redactor.redacted, keyword: '', args: [], argCount: 0 };
  }
  return entry;
}

function heldChars(entry: RedisEntry): number {
  let n = 0;
  const req = entry.request;
  if (req !== null) {
    n += String(req.value).length + String(req.key).length;
    if (Array.isArray(req.args)) for (const a of req.args) n += String(a).length;
  }
  const res = entry.response;
  if (res !== null) {
    n += String(res.value).length + String(res.push?.message ?? '').length;
    if (Array.isArray(res.results)) for (const r of res.results) n += String(r.value).length;
  }
  return n;
}

export const redisDescriptor: ProtocolDescriptor<RedisEntry> = Object.freeze({
  name: 'redis',
  abbr: 'REDIS',
  longName: 'Redis serialization protocol (RESP2/RESP3)',
  defaultPorts: Object.freeze([6379]),
  referenceUrl: 'https://redis.io/docs/latest/develop/reference/protocol-spec/',
  summarize,
  represent,
  dedupKey,
  edgeLabel: () => 'REDIS',
  kfl: Object.freeze({
    words: Object.freeze([{ word: 'redis', matches: (p: { readonly name: unknown }) => p.name === 'redis' }]),
    variables: VARIABLES,
    paths: Object.freeze(PATHS),
  }),
  redact,
  heldChars,
  relinkIds: (entry: RedisEntry, rename: (id: string) => string): void => {
    if (typeof entry.subscriptionId === 'string' && entry.subscriptionId !== '') entry.subscriptionId = rename(entry.subscriptionId);
  },
});
