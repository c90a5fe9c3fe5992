/**
 * Present stage: what Kafka tells everyone outside its folder (src/model/protocol-descriptor.ts):
 * the list row (`Produce  orders  NONE`), the detail sections, the dedup key, the service-map label,
 * the KFL word `kafka` and Kubeshark's KFL2 `kafka_*` variables, and its redaction (the SASL bytes
 * of SaslAuthenticate, which carry a PLAIN password or a SCRAM proof, are never shown).
 * Imports only src/model and its own entry.ts.
 */
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import { isKafkaEntry, type KafkaBody, type KafkaEntry } from './entry.ts';

/** SaslAuthenticate: its request and response carry authentication bytes. */
const SASL_AUTHENTICATE = 36;
/** Characters of a body shown in the detail pane before it is cut. */
const DETAIL_BODY_CHARS = 64 * 1024;
/** Names in a row's target before `+n` (a Metadata request for 500 topics stays one line). */
const TARGET_NAMES = 3;
const DEDUP_CLIENT_CHARS = 128;
/** What a kept entry may hold at most per side (stream.ts MAX_KEEP_BYTES): a bound for heldChars. */
const HELD_PER_SIDE = 1024 * 1024;

function list(body: KafkaBody, field: string): readonly unknown[] {
  const v = body[field];
  return Array.isArray(v) ? v : [];
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * The topics a request names (Metadata `topics[].name`, Produce `topicData[].topic`, Fetch and
 * ListOffsets `topics[].topic`, DeleteTopics `topicNames[]`...), in order, without repeats.
 */
export function requestTopics(body: KafkaBody): string[] {
  const out = new Set<string>();
  for (const t of [...list(body, 'topics'), ...list(body, 'topicData')]) {
    if (typeof t === 'string') out.add(t);
    else if (typeof t === 'object' && t !== null) {
      const o = t as Record<string, unknown>;
      const name = text(o['topic']) ?? text(o['name']);
      if (name !== null) out.add(name);
    }
  }
  for (const t of list(body, 'topicNames')) if (typeof t === 'string') out.add(t);
  for (const g of list(body, 'groups')) {
    const topics = (g as Record<string, unknown> | null)?.['topics'];
    if (Array.isArray(topics)) for (const t of topics) {
      const name = text((t as Record<string, unknown> | null)?.['name']);
      if (name !== null) out.add(name);
    }
  }
  return [...out];
}

/** What a request is about, in a few words: its topics, else its group, coordinator key or client id. */
export function requestSummary(entry: KafkaEntry): string {
  const body = entry.request.payload;
  const topics = requestTopics(body);
  if (topics.length > 0) return topics.length > TARGET_NAMES ? `${topics.slice(0, TARGET_NAMES).join(', ')} +${topics.length - TARGET_NAMES}` : topics.join(', ');
  const group = text(body['groupId']);
  if (group !== null) return group;
  const key = text(body['key']) ?? list(body, 'coordinatorKeys').filter((k): k is string => typeof k === 'string').join(', ');
  if (key !== '') return key;
  return entry.request.clientID;
}

/** Kafka's Java enum spelling of an API name (`ApiVersions` -> `API_VERSIONS`), as Kubeshark's KFL2 docs write them. */
export function upperApiName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function outcomeClassOf(entry: KafkaEntry): OutcomeClass {
  const res = entry.response;
  if (res === null) return entry.error === null ? 'none' : 'server-error';
  if (res.errorCode === null) return 'info';
  return res.errorCode === 0 ? 'success' : 'client-error';
}

function isError(entry: KafkaEntry): boolean {
  const res = entry.response;
  // A Produce with acks=0 has no response and no error: it is complete as sent.
  if (res === null) return entry.error !== null;
  return res.errorCode !== null && res.errorCode !== 0;
}

function summarize(entry: KafkaEntry): RowSummary {
  const req = entry.request;
  const res = entry.response;
  const target = requestSummary(entry);
  const outcome = res === null ? (entry.error === null ? 'no response expected' : '') : res.errorName ?? 'answered';
  const topics = requestTopics(req.payload);
  return {
    verb: req.apiKeyName,
    target,
    outcome,
    outcomeClass: outcomeClassOf(entry),
    isError: isError(entry),
    verbQuery: `kafka and request.apiKeyName == ${kflString(req.apiKeyName)}`,
    ...(topics.length > 0
      ? { targetQuery: `kafka and kafka_request_summary.contains(${kflString(topics[0]!)})` }
      : target !== '' ? { targetQuery: `kafka and kafka_request_summary == ${kflString(target)}` } : {}),
    ...(res?.errorCode !== null && res?.errorCode !== undefined ? { outcomeQuery: `kafka and response.errorCode == ${res.errorCode}` } : {}),
    ...(res === null ? {} : { payloadBytes: res.size }),
  };
}

function bodySection(title: string, body: KafkaBody, sizeBytes: number): DetailSection {
  const json = JSON.stringify(body, null, 2);
  const cut = json.length > DETAIL_BODY_CHARS;
  return { kind: 'body', title, mimeType: 'application/json', text: cut ? json.slice(0, DETAIL_BODY_CHARS) : json, ...(cut ? { truncated: true } : {}), sizeBytes };
}

function represent(entry: KafkaEntry): readonly DetailSection[] {
  const req = entry.request;
  const res = entry.response;
  const headerRows: DetailRow[] = [
    { label: 'API', value: `${req.apiKeyName} (key ${req.apiKey})`, selector: 'request.apiKeyName' },
    { label: 'Version', value: String(req.apiVersion), selector: 'request.apiVersion' },
    { label: 'Correlation id', value: String(req.correlationID), selector: 'request.correlationID' },
    { label: 'Client id', value: req.clientID, selector: 'request.clientID' },
    { label: 'Size', value: `${req.size} B`, selector: 'request.size' },
    ...(req.note === undefined ? [] : [{ label: 'Note', value: req.note }]),
  ];
  const topics = requestTopics(req.payload);
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Request', text: `${req.apiKeyName} v${req.apiVersion} ${requestSummary(entry)}`.trimEnd() },
    { kind: 'table', title: 'Header', rows: headerRows },
    { kind: 'table', title: 'Topics', rows: topics.map((t) => ({ label: t, value: '' })) },
    bodySection('Request payload', req.payload, req.size),
  ];
  if (res === null) {
    const absent = entry.error === null ? 'no response expected (acks=0)' : `no response${entry.error === null ? '' : `: ${entry.error.msg}`}`;
    sections.push({ kind: 'heading', title: 'Response', text: absent, outcomeClass: outcomeClassOf(entry), absent: true });
    return sections;
  }
  sections.push(
    { kind: 'heading', title: 'Response', text: res.errorName === null ? 'not decoded' : `${res.errorName} (${res.errorCode})`, outcomeClass: outcomeClassOf(entry) },
    {
      kind: 'table',
      title: 'Header',
      rows: [
        { label: 'Correlation id', value: String(res.correlationID), selector: 'response.correlationID' },
        { label: 'Size', value: `${res.size} B`, selector: 'response.size' },
        ...(res.errorCode === null ? [] : [{ label: 'Error', value: `${res.errorCode} ${res.errorName}`, selector: 'response.errorCode' }]),
        ...(res.note === undefined ? [] : [{ label: 'Note', value: res.note }]),
      ],
    },
    bodySection('Response payload', res.payload, res.size),
  );
  return sections;
}

function dedupKey(entry: KafkaEntry): string {
  const r = entry.request;
  return `${r.correlationID}|${r.apiKey}|${r.apiVersion}|${r.clientID.slice(0, DEDUP_CLIENT_CHARS)}`;
}

/** The fields of Kafka entries, for KFL's "did you mean" (docs/kafka.md lists them). */
const PATHS: readonly string[] = [
  'request.size', 'request.apiKey', 'request.apiKeyName', 'request.apiVersion', 'request.correlationID', 'request.clientID',
  'request.payload', 'request.decoded', 'request.note',
  'request.payload.topics', 'request.payload.topics.name', 'request.payload.topics.topic', 'request.payload.topics.partitions',
  'request.payload.topicData', 'request.payload.topicData.topic', 'request.payload.topicData.partitions',
  'request.payload.topicData.partitions.partition', 'request.payload.topicData.partitions.records',
  'request.payload.acks', 'request.payload.timeoutMs', 'request.payload.transactionalId', 'request.payload.groupId',
  'request.payload.memberId', 'request.payload.generationId', 'request.payload.key', 'request.payload.keyType',
  'request.payload.clientSoftwareName', 'request.payload.clientSoftwareVersion', 'request.payload.topicNames',
  'response.size', 'response.correlationID', 'response.payload', 'response.decoded', 'response.note',
  'response.errorCode', 'response.errorName', 'response.payload.errorCode', 'response.payload.throttleTimeMs',
  'response.payload.responses', 'response.payload.responses.topic', 'response.payload.responses.partitions',
  'response.payload.responses.partitions.errorCode', 'response.payload.topics', 'response.payload.topics.name',
  'response.payload.topics.errorCode', 'response.payload.brokers', 'response.payload.apiKeys', 'response.payload.coordinators',
  'response.payload.nodeId', 'response.payload.host', 'response.payload.port', 'response.payload.generationId',
  'response.payload.leader', 'response.payload.memberId', 'response.payload.members',
];

const kafkaOnly = (read: (e: KafkaEntry) => unknown) => (e: unknown): unknown => (isKafkaEntry(e) ? read(e) : null);

/** Kubeshark's KFL2 variables for Kafka (kubeshark.md §1.4): merged fields prefer the request; totals add both sides. */
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'kafka_api_key', kind: 'computed', get: kafkaOnly((e) => e.request.apiKey) },
  { name: 'kafka_api_key_name', kind: 'computed', get: kafkaOnly((e) => upperApiName(e.request.apiKeyName)) },
  { name: 'kafka_client_id', kind: 'computed', get: kafkaOnly((e) => e.request.clientID) },
  { name: 'kafka_size', kind: 'computed', get: kafkaOnly((e) => e.requestSize + e.responseSize) },
  { name: 'kafka_request', kind: 'computed', get: kafkaOnly(() => true) },
  { name: 'kafka_response', kind: 'computed', get: kafkaOnly((e) => e.response !== null) },
  { name: 'kafka_request_summary', kind: 'computed', get: kafkaOnly((e) => requestSummary(e)) },
  { name: 'kafka_request_size', kind: 'computed', get: kafkaOnly((e) => e.requestSize) },
  { name: 'kafka_response_size', kind: 'computed', get: kafkaOnly((e) => e.responseSize) },
] satisfies KflVariable[]);

/** The body with its SASL bytes replaced by the redaction mark. */
function withoutAuthBytes(body: KafkaBody, redacted: string): KafkaBody {
  if (!('authBytes' in body) || body['authBytes'] === null) return body;
  return { ...body, authBytes: redacted };
}

/**
 * SaslAuthenticate carries the SASL exchange: PLAIN sends the password in clear, SCRAM a proof.
 * Its `authBytes` are replaced whole, on both sides. Nothing else in Kafka's bodies is a credential
 * (record values are application data, kept within --max-body-bytes like HTTP bodies).
 */
function redact(entry: KafkaEntry, redactor: PayloadRedactor): KafkaEntry {
  try {
    if (entry.request?.apiKey !== SASL_AUTHENTICATE) return entry;
    const request = { ...entry.request, payload: withoutAuthBytes(entry.request.payload ?? {}, redactor.redacted) };
    const response = entry.response === null ? null : { ...entry.response, payload: withoutAuthBytes(entry.response.payload ?? {}, redactor.redacted) };
    return { ...entry, request, response };
  } catch {
    // An entry of an unexpected shape: nothing of it is shown rather than a secret.
    return { ...entry, request: { ...entry.request, payload: {} }, response: entry.response === null ? null : { ...entry.response, payload: {} } };
  }
}

export const kafkaDescriptor: ProtocolDescriptor<KafkaEntry> = Object.freeze({
  name: 'kafka',
  abbr: 'KAFKA',
  longName: 'Apache Kafka protocol',
  defaultPorts: Object.freeze([9092]),
  referenceUrl: 'https://kafka.apache.org/protocol',
  summarize,
  represent,
  dedupKey,
  edgeLabel: () => 'KAFKA',
  kfl: Object.freeze({
    words: Object.freeze([{ word: 'kafka', matches: (p: { readonly name: unknown }) => p.name === 'kafka' }]),
    variables: VARIABLES,
    paths: Object.freeze(PATHS),
  }),
  redact,
  heldChars: (entry: KafkaEntry): number => Math.min(entry.requestSize, HELD_PER_SIDE) + Math.min(entry.responseSize, HELD_PER_SIDE),
});
