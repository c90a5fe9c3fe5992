/**
 * What WebSocket tells the rest of kubectl-shark (src/model/protocol-descriptor.ts): rows, detail,
 * dedup key, service-map label, KFL words and variables, redaction. Imports only src/model and
 * ./entry.ts, so KFL, the TUI and the pipeline load it without the parsers.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import { WEBSOCKET_PROTOCOL_NAME, messageOf, type WebSocketEntry, type WebSocketMessage } from './entry.ts';

/** Fields of a message, under `request.` and `response.`, and the link to the upgrade. */
const MESSAGE_FIELDS = [
  'opcode', 'frames', 'payloadLength', 'compressed', 'masked', 'closeCode', 'closeReason', 'payload',
  'payload.size', 'payload.mimeType', 'payload.text', 'payload.encoding', 'payload.truncated',
];
const PATHS: readonly string[] = ['upgradeId', ...['request', 'response'].flatMap((side) => MESSAGE_FIELDS.map((f) => `${side}.${f}`))];

/** Characters of payload text shown in a list row. */
const PREVIEW_CHARS = 40;
/** Close codes of a normal end (RFC 6455 §7.4.1): 1000 normal closure, 1001 going away. */
const NORMAL_CLOSE = new Set([1000, 1001]);

const RFC_6455 = 'https://www.rfc-editor.org/rfc/rfc6455';

export const websocketDescriptor: ProtocolDescriptor<WebSocketEntry> = Object.freeze({
  name: WEBSOCKET_PROTOCOL_NAME,
  abbr: 'WS',
  longName: 'WebSocket',
  defaultPorts: Object.freeze([]),
  referenceUrl: RFC_6455,
  summarize,
  represent,
  /**
   * The pipeline adds the client address and where the message starts in its sender's direction
   * (TCP sequence number); the direction tells the two directions' numbers apart, and the opcode
   * and length are what both ends agree on. Not the upgrade id: each capture numbers its
   * connections itself, so the two ends' ids differ for the same message.
   */
  dedupKey: (entry: WebSocketEntry): string => {
    const m = messageOf(entry);
    return `ws|${entry.request !== null ? 'c' : 's'}|${m?.opcode ?? ''}|${m?.payloadLength ?? 0}`;
  },
  edgeLabel: (): string => 'WS',
  relinkIds: (entry: WebSocketEntry, rename: (id: string) => string): void => {
    if (entry.upgradeId !== '') entry.upgradeId = rename(entry.upgradeId);
  },
  kfl: Object.freeze({
    paths: Object.freeze(PATHS),
    // Ours, and Kubeshark's `ws` macro (protocol.abbr "WS"), so NDJSON from Kubeshark still matches.
    words: Object.freeze([{ word: 'ws', matches: (p: { readonly name: unknown; readonly abbr: unknown }): boolean => p.name === WEBSOCKET_PROTOCOL_NAME || p.abbr === 'WS' }]),
    variables: Object.freeze<KflVariable[]>([
      { name: 'ws_opcode', kind: 'computed', get: (e) => sideOf(e, 'any')?.['opcode'] },
      { name: 'ws_request', kind: 'computed', get: (e) => isWebSocket(e) && sideOf(e, 'request') !== null },
      { name: 'ws_response', kind: 'computed', get: (e) => isWebSocket(e) && sideOf(e, 'response') !== null },
      { name: 'ws_request_payload_data', kind: 'path', path: 'request.payload.text' },
      { name: 'ws_request_payload_length', kind: 'path', path: 'request.payloadLength' },
      { name: 'ws_response_payload_length', kind: 'path', path: 'response.payloadLength' },
    ]),
  }),
  redact,
  bodySizes: (entry: WebSocketEntry) => ({ request: entry.request?.payload.size ?? 0, response: entry.response === null ? null : entry.response.payload.size }),
});

function summarize(entry: WebSocketEntry): RowSummary {
  const m = messageOf(entry);
  const arrow = entry.request !== null ? '→' : '←';
  if (m === null) return { verb: '?', target: arrow, outcome: '', outcomeClass: 'none', isError: true };
  const closeError = m.opcode === 'close' && m.closeCode !== undefined && m.closeCode !== 0 && !NORMAL_CLOSE.has(m.closeCode);
  const isError = entry.error !== null || closeError;
  const side = entry.request !== null ? 'request' : 'response';
  const summary: RowSummary = {
    verb: m.opcode,
    target: `${arrow} ${preview(m)}`,
    // The code alone: the verb already says close, and a status column is a few characters wide.
    outcome: m.opcode === 'close' ? String(m.closeCode ?? 0) : '',
    outcomeClass: m.opcode !== 'close' ? 'none' : closeError ? 'server-error' : 'success',
    isError,
    verbQuery: `ws_opcode == ${kflString(String(m.opcode))}`,
    payloadBytes: m.payload.size,
    ...(m.opcode === 'close' ? { outcomeQuery: `${side}.closeCode == ${Number(m.closeCode ?? 0)}` } : {}),
  };
  return summary;
}

/** A row's target: the start of a text payload in quotes and its size, or only the size. */
function preview(m: WebSocketMessage): string {
  const size = formatBytes(m.payload.size);
  if (m.opcode === 'close') return m.closeReason !== undefined && m.closeReason !== '' ? `"${cut(m.closeReason)}"` : '';
  if (m.payload.encoding === 'base64' || m.payload.text === '') return size;
  return `"${cut(m.payload.text)}" (${size})`;
}

/** Collapsed to one line (the TUI escapes what is left) and cut to PREVIEW_CHARS. */
function cut(text: string): string {
  const line = text.length > PREVIEW_CHARS * 4 ? text.slice(0, PREVIEW_CHARS * 4) : text;
  const flat = line.replace(/\s+/g, ' ');
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

function represent(entry: WebSocketEntry): readonly DetailSection[] {
  const m = messageOf(entry);
  if (m === null) return [];
  const rows: DetailRow[] = [
    { label: 'Direction', value: entry.request !== null ? 'client → server' : 'server → client', selector: entry.request !== null ? 'ws_request' : 'ws_response' },
    { label: 'Opcode', value: m.opcode, selector: 'ws_opcode' },
    { label: 'Frames', value: String(m.frames) },
    { label: 'Payload on the wire', value: formatBytes(m.payloadLength), selector: entry.request !== null ? 'ws_request_payload_length' : 'ws_response_payload_length' },
    { label: 'Payload size', value: formatBytes(m.payload.size) },
    { label: 'Compressed', value: m.compressed ? 'yes (permessage-deflate)' : 'no' },
    { label: 'Masked', value: m.masked ? 'yes' : 'no' },
  ];
  if (m.opcode === 'close') {
    rows.push({ label: 'Close code', value: String(m.closeCode ?? 0) });
    rows.push({ label: 'Close reason', value: m.closeReason ?? '' });
  }
  rows.push({ label: 'Upgrade entry', value: entry.upgradeId, selector: 'upgradeId' });
  const body: DetailSection = {
    kind: 'body',
    title: 'Payload',
    mimeType: m.payload.mimeType,
    text: m.payload.text,
    sizeBytes: m.payload.size,
    ...(m.payload.encoding !== undefined ? { encoding: m.payload.encoding } : {}),
    ...(m.payload.truncated === true ? { truncated: true } : {}),
  };
  const heading: DetailSection = {
    kind: 'heading',
    title: entry.request !== null ? 'Client → server' : 'Server → client',
    text: `${m.opcode} message, ${m.frames} frame${m.frames === 1 ? '' : 's'}${m.opcode === 'close' ? `, close ${m.closeCode ?? 0}` : ''}`,
  };
  return [heading, { kind: 'table', title: 'WebSocket message', rows }, body];
}

/**
 * A message payload is a body: the same redaction as HTTP bodies (JSON keys, forms, key blocks...),
 * in place. Never throws (redactField guards itself).
 */
function redact(entry: WebSocketEntry, redactor: PayloadRedactor): WebSocketEntry {
  for (const side of [entry.request as unknown, entry.response as unknown]) {
    if (side !== null && typeof side === 'object') redactor.redactField(side, 'payload', 'body');
  }
  return entry;
}

// ---- KFL reads entries as plain JSON values (from NDJSON too): look, never trust -----------------

function isWebSocket(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const p = (e as { protocol?: unknown }).protocol;
  return p !== null && typeof p === 'object' && (p as { name?: unknown }).name === WEBSOCKET_PROTOCOL_NAME;
}

function sideOf(e: unknown, which: 'request' | 'response' | 'any'): Record<string, unknown> | null {
  if (!isWebSocket(e)) return null;
  const obj = e as { request?: unknown; response?: unknown };
  const pick = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null);
  if (which === 'request') return pick(obj.request);
  if (which === 'response') return pick(obj.response);
  return pick(obj.request) ?? pick(obj.response);
}
