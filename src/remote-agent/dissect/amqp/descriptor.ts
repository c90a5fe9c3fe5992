/**
 * Present stage: what AMQP 0-9-1 tells everyone outside its folder (src/model/protocol-descriptor.ts):
 * the list row (`basic publish  orders → order.created (120 B)`, `queue declare  jobs  404 NOT_FOUND`),
 * the detail tables, the dedup key, the service-map label, the KFL word `amqp` and Kubeshark's KFL2
 * `amqp_*` variables, and its redaction (the SASL response of Connection.Start-Ok and Secure-Ok,
 * and Update-Secret's new secret; message bodies as bodies).
 * Imports only src/model and its own entry.ts.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import { AMQP_PROTOCOL_NAME, type AmqpEntry, type AmqpFieldValue, type AmqpMethod } from './entry.ts';

/** Characters of a table value shown in a detail row. */
const DETAIL_VALUE_CHARS = 256;
/** Characters of a Close's reply text shown in a list row. */
const ROW_TEXT_CHARS = 80;
/** Characters of a name kept in a dedup key. */
const DEDUP_NAME_CHARS = 255;
/** The reply code of a normal close (and of every -Ok). */
const REPLY_SUCCESS = 200;

function isAmqp(entry: unknown): entry is AmqpEntry {
  return (entry as { protocol?: { name?: unknown } } | null)?.protocol?.name === AMQP_PROTOCOL_NAME;
}

/** `basic.publish`: KFL2's dotted form of the method. */
function dotted(method: string): string {
  return method.replace(' ', '.');
}

function quoteName(name: string | undefined): string {
  return name === undefined ? '' : name === '' ? '""' : name;
}

/** What the method is about: its exchange, queue, routing key, consumer, tag or host. */
function targetOf(m: AmqpMethod): string {
  const parts: string[] = [];
  if (m.exchange !== undefined && m.queue === undefined) parts.push(m.exchange === '' ? '(default)' : m.exchange);
  if (m.queue !== undefined) parts.push(quoteName(m.queue));
  if (m.queue !== undefined && m.exchange !== undefined) parts.push(`← ${m.exchange === '' ? '(default)' : m.exchange}`);
  if (m.source !== undefined) parts.push(`${quoteName(m.destination)} ← ${quoteName(m.source)}`);
  if (m.routingKey !== undefined) parts.push(`→ ${quoteName(m.routingKey)}`);
  if (m.consumerTag !== undefined && m.queue === undefined) parts.push(m.consumerTag);
  if (m.deliveryTag !== undefined) parts.push(`#${m.deliveryTag}${m.multiple === true ? ' (multiple)' : ''}`);
  if (m.virtualHost !== undefined) parts.push(m.virtualHost);
  // A Close's text (a Return's name is in the outcome already), cut: the row has little room.
  if (m.replyCode !== undefined && m.replyText !== undefined && m.classNumber !== 60) parts.push(m.replyText.length > ROW_TEXT_CHARS ? `${m.replyText.slice(0, ROW_TEXT_CHARS)}…` : m.replyText);
  if (m.user !== undefined) parts.push(`user ${m.user}`);
  if (m.body !== undefined) parts.push(`(${formatBytes(m.body.size)})`);
  return parts.join(' ');
}

/** A Close's or Return's reply code, or the failure a request's Close answer carried. */
function replyOf(m: AmqpMethod | null): { code: number; text: string } | null {
  if (m === null || m.replyCode === undefined) return null;
  return { code: m.replyCode, text: (m.replyText ?? '').split(' ')[0] ?? '' };
}

function classOfCode(code: number): OutcomeClass {
  if (code === REPLY_SUCCESS) return 'success';
  // Hard errors (connection exceptions) are the 5xx; the soft ones (channel) refuse the request.
  return code >= 500 ? 'server-error' : 'client-error';
}

function outcomeOf(entry: AmqpEntry): { outcome: string; outcomeClass: OutcomeClass; isError: boolean } {
  const req = entry.request;
  const res = entry.response;
  // A request answered by a Close failed; a Close or Return carries its own code.
  const reply = replyOf(res) ?? replyOf(req);
  if (reply !== null) return { outcome: `${reply.code} ${reply.text}`.trimEnd(), outcomeClass: classOfCode(reply.code), isError: reply.code !== REPLY_SUCCESS || entry.error !== null };
  if (res !== null) {
    const ok = res.method.slice(res.method.indexOf(' ') + 1);
    return { outcome: ok, outcomeClass: entry.error === null ? 'success' : 'client-error', isError: entry.error !== null };
  }
  // One-way methods have no answer to wait for; a request that lost its answer is an error.
  return { outcome: '', outcomeClass: 'none', isError: entry.error !== null };
}

function summarize(entry: AmqpEntry): RowSummary {
  const req = entry.request;
  const { outcome, outcomeClass, isError } = outcomeOf(entry);
  const key = req.queue !== undefined ? `request.queue == ${kflString(req.queue)}` : req.exchange !== undefined ? `request.exchange == ${kflString(req.exchange)}` : undefined;
  const codeQuery = entry.response?.replyCode !== undefined ? `response.replyCode == ${entry.response.replyCode}` : req.replyCode !== undefined ? `request.replyCode == ${req.replyCode}` : undefined;
  const body = req.body ?? entry.response?.body;
  return {
    verb: req.method,
    target: targetOf(req),
    outcome,
    outcomeClass,
    isError,
    verbQuery: `amqp and request.method == ${kflString(req.method)}`,
    ...(key === undefined ? {} : { targetQuery: `amqp and ${key}` }),
    ...(codeQuery === undefined ? {} : { outcomeQuery: `amqp and ${codeQuery}` }),
    ...(body === undefined ? {} : { payloadBytes: body.size }),
  };
}

/** Field names in the order a detail table shows them (the rest of a method's fields). */
const SKIP = new Set(['method', 'classNumber', 'methodNumber', 'channel', 'sender', 'byClose', 'properties', 'body']);

function valueText(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v as AmqpFieldValue) ?? String(v);
  return text.length > DETAIL_VALUE_CHARS ? `${text.slice(0, DETAIL_VALUE_CHARS)}…` : text;
}

function methodRows(m: AmqpMethod, side: 'request' | 'response'): DetailRow[] {
  const rows: DetailRow[] = [
    { label: 'Channel', value: String(m.channel), selector: `${side}.channel` },
    { label: 'Sent by', value: m.sender, selector: `${side}.sender` },
    { label: 'Ids', value: `${m.classNumber}.${m.methodNumber}` },
  ];
  for (const [k, v] of Object.entries(m)) if (!SKIP.has(k) && v !== undefined) rows.push({ label: k, value: valueText(v), selector: `${side}.${k}` });
  return rows;
}

function methodSections(m: AmqpMethod, side: 'request' | 'response', title: string): DetailSection[] {
  const sections: DetailSection[] = [{ kind: 'table', title: `${title} arguments`, rows: methodRows(m, side) }];
  if (m.properties !== undefined) {
    sections.push({
      kind: 'table',
      title: 'Properties',
      rows: Object.entries(m.properties).map(([k, v]) => ({ label: k, value: valueText(v), selector: `${side}.properties.${k}` })),
    });
  }
  if (m.body !== undefined) {
    sections.push({
      kind: 'body',
      title: 'Body',
      mimeType: m.body.mimeType,
      text: m.body.text,
      ...(m.body.encoding === undefined ? {} : { encoding: m.body.encoding }),
      ...(m.body.truncated === true ? { truncated: true } : {}),
      sizeBytes: m.body.size,
    });
  }
  return sections;
}

function represent(entry: AmqpEntry): readonly DetailSection[] {
  const req = entry.request;
  const res = entry.response;
  const { outcome, outcomeClass } = outcomeOf(entry);
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Method', text: `${req.method} ${targetOf(req)}`.trimEnd(), ...(req.replyCode !== undefined ? { outcomeClass } : {}) },
    ...methodSections(req, 'request', 'Method'),
  ];
  if (res === null) {
    if (entry.error !== null) sections.push({ kind: 'heading', title: 'Answer', text: `no answer: ${entry.error.msg}`, outcomeClass: 'server-error', absent: true });
    return sections;
  }
  sections.push(
    { kind: 'heading', title: 'Answer', text: `${res.method}${res.byClose === true ? ' (the request failed)' : ''} ${outcome}`.trimEnd(), outcomeClass },
    ...methodSections(res, 'response', 'Answer'),
  );
  return sections;
}

function dedupKey(entry: AmqpEntry): string {
  const m = entry.request;
  const name = (m.exchange ?? m.queue ?? m.consumerTag ?? '').slice(0, DEDUP_NAME_CHARS);
  return `${m.channel}|${m.method}|${m.sender}|${name}|${m.routingKey?.slice(0, DEDUP_NAME_CHARS) ?? ''}|${m.deliveryTag ?? ''}|${m.body?.size ?? ''}`;
}

/** The fields of AMQP entries, for KFL's "did you mean" (docs/amqp.md lists them). */
const METHOD_FIELDS = [
  'method', 'classNumber', 'methodNumber', 'channel', 'sender', 'byClose', 'versionMajor', 'versionMinor', 'serverProperties', 'mechanisms',
  'locales', 'clientProperties', 'mechanism', 'response', 'user', 'locale', 'challenge', 'channelMax', 'frameMax', 'heartbeat',
  'virtualHost', 'capabilities', 'insist', 'knownHosts', 'replyCode', 'replyText', 'classId', 'methodId', 'failedMethod', 'reason',
  'newSecret', 'active', 'realm', 'ticket', 'read', 'write', 'exchange', 'type', 'passive', 'durable', 'autoDelete', 'internal',
  'exclusive', 'noWait', 'arguments', 'destination', 'source', 'ifUnused', 'ifEmpty', 'queue', 'messageCount', 'consumerCount',
  'routingKey', 'prefetchSize', 'prefetchCount', 'global', 'consumerTag', 'noLocal', 'noAck', 'mandatory', 'immediate',
  'deliveryTag', 'redelivered', 'multiple', 'requeue', 'clusterId', 'properties', 'body',
  ...['contentType', 'contentEncoding', 'headers', 'deliveryMode', 'priority', 'correlationId', 'replyTo', 'expiration', 'messageId',
    'timestamp', 'type', 'userId', 'appId', 'clusterId'].map((p) => `properties.${p}`),
  ...['size', 'mimeType', 'text', 'encoding', 'truncated'].map((b) => `body.${b}`),
];
const PATHS: readonly string[] = ['request', 'response'].flatMap((side) => METHOD_FIELDS.map((f) => `${side}.${f}`));

/**
 * Kubeshark's KFL2 variables for AMQP. On other entries they are null, like any path that is not
 * there. Requests and responses are merged the way Kubeshark documents it: the request's side first.
 */
const amqpOnly = (read: (e: AmqpEntry) => unknown) => (e: unknown): unknown => (isAmqp(e) ? read(e) : null);
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'amqp_method', kind: 'computed', get: amqpOnly((e) => dotted(e.request.method)) },
  { name: 'amqp_summary', kind: 'computed', get: amqpOnly((e) => `${e.request.method} ${targetOf(e.request)}`.trimEnd()) },
  { name: 'amqp_request', kind: 'computed', get: amqpOnly(() => true) },
  { name: 'amqp_response', kind: 'computed', get: amqpOnly((e) => e.response !== null) },
  { name: 'amqp_request_length', kind: 'computed', get: amqpOnly((e) => e.requestSize) },
  { name: 'amqp_response_length', kind: 'computed', get: amqpOnly((e) => e.responseSize) },
  { name: 'amqp_total_size', kind: 'computed', get: amqpOnly((e) => e.requestSize + e.responseSize) },
] satisfies KflVariable[]);

/** The fields that hold secrets: SASL responses (PLAIN `\0user\0password`, AMQPLAIN's PASSWORD) and a new secret. */
const SECRET_FIELDS = ['response', 'newSecret'] as const;

/**
 * Masks the credentials of Connection.Start-Ok and Secure-Ok (the whole SASL response: the user
 * name stays in `user`) and Update-Secret's token, and redacts message bodies as bodies and the
 * string values of message header tables as headers. In place; never throws.
 */
function redact(entry: AmqpEntry, redactor: PayloadRedactor): AmqpEntry {
  for (const side of [entry.request, entry.response]) {
    if (side === null || typeof side !== 'object') continue;
    try {
      for (const field of SECRET_FIELDS) if (typeof side[field] === 'string' && side[field] !== '') side[field] = redactor.redacted;
    } catch {
      // A frozen or odd side: leave it (the contract: never throw).
    }
    if (side.body !== undefined) redactor.redactField(side, 'body', 'body');
    redactHeaderTable(side.properties?.headers, redactor);
  }
  return entry;
}

/**
 * A message's headers table is application headers: string values under sensitive names
 * (`authorization`, `x-api-key`...) are masked as HTTP headers are. In place; never throws.
 */
function redactHeaderTable(headers: unknown, redactor: PayloadRedactor): void {
  if (headers === null || typeof headers !== 'object') return;
  try {
    // No prototype: a `__proto__` key from the wire is a key like any other.
    const strings = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') strings[k] = v;
    const masked = redactor.headers(strings);
    for (const [k, v] of Object.entries(masked)) {
      if (v !== strings[k]) Object.defineProperty(headers, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  } catch {
    // A frozen or odd table: left as it is (the contract: never throw).
  }
}

/**
 * Kept body text, and about as many characters as the method and header frames had bytes (their
 * strings and tables are held as text): what an entry costs a buffer that holds it.
 */
function heldChars(entry: AmqpEntry): number {
  const side = (m: AmqpMethod | null, size: number): number => {
    if (m === null) return 0;
    const body = m.body;
    return (body?.text.length ?? 0) + Math.max(0, size - (body?.size ?? 0));
  };
  return side(entry.request, entry.requestSize) + side(entry.response, entry.responseSize);
}

export const amqpDescriptor: ProtocolDescriptor<AmqpEntry> = Object.freeze({
  name: AMQP_PROTOCOL_NAME,
  abbr: 'AMQP',
  longName: 'Advanced Message Queuing Protocol 0-9-1',
  defaultPorts: Object.freeze([5672]),
  referenceUrl: 'https://www.rabbitmq.com/resources/specs/amqp0-9-1.pdf',
  summarize,
  represent,
  dedupKey,
  edgeLabel: (): string => 'AMQP',
  kfl: Object.freeze({
    words: Object.freeze([{ word: 'amqp', matches: (p: { readonly name: unknown }) => p.name === AMQP_PROTOCOL_NAME }]),
    variables: VARIABLES,
    paths: Object.freeze(PATHS),
    openMaps: Object.freeze(['request.arguments', 'response.arguments', 'request.properties.headers', 'response.properties.headers', 'request.serverProperties', 'response.clientProperties', 'request.clientProperties', 'response.serverProperties']),
  }),
  redact,
  heldChars,
  bodySizes: (entry: AmqpEntry) => ({ request: entry.request.body?.size ?? 0, response: entry.response === null ? null : (entry.response.body?.size ?? 0) }),
});
