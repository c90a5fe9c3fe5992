/**
 * What gRPC tells the rest of kubectl-shark: a variant of HTTP (ProtocolVariant,
 * src/model/protocol-descriptor.ts). A gRPC call is an HTTP/2 entry with `grpc` set, under
 * Kubeshark's protocol name "http", so it has no registry line of its own: the registry composes
 * this variant with the HTTP descriptor (src/remote-agent/dissect/descriptors.ts), and an entry
 * gets the row, detail sections, KFL names and redaction below when it carries a call. Imports only
 * src/model and this folder, so KFL, the TUI and the pipeline load it without the parsers.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { formatCount } from '../../../model/count-text.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, ProtocolVariant, RowSummary } from '../../../model/protocol-descriptor.ts';
import type { GrpcCarrier } from './descriptor-carrier.ts';
import { renderFields } from './descriptor-fields.ts';
import { GRPC_KFL_READERS } from './descriptor-kfl-readers.ts';
import { redactGrpc } from './descriptor-redact.ts';
import { grpcOutcomeClass, isGrpcError } from './descriptor-status.ts';
import type { GrpcCall, GrpcMessage } from './entry.ts';

/** A call is a stream when a side carried more than one message (as far as the capture saw it). */
const isStream = (call: GrpcCall): boolean => call.requestMessageCount > 1 || call.responseMessageCount > 1;

const STREAM_QUERY = 'grpc and (grpc.requestMessageCount > 1 or grpc.responseMessageCount > 1)';
const CALL_QUERY = 'grpc and grpc.requestMessageCount <= 1 and grpc.responseMessageCount <= 1';

/**
 * A gRPC row: `call` or `stream` (more than one message on a side) as the verb, `package.Service/
 * Method` as the target (with the message counts of a stream), the status name as the outcome. A
 * class for the reason HttpSummary is one: rows are summarised per frame, queries built on a click.
 */
class GrpcSummary implements RowSummary {
  readonly verb: string;
  readonly target: string;
  readonly outcome: string;
  readonly outcomeClass: OutcomeClass;
  readonly isError: boolean;
  readonly payloadBytes: number | undefined;
  readonly #call: GrpcCall;

  constructor(entry: GrpcCarrier, call: GrpcCall) {
    this.#call = call;
    const stream = isStream(call);
    this.verb = stream ? 'stream' : 'call';
    const name = `${call.service}/${call.method}`;
    this.target = stream ? `${name} (${formatCount(call.requestMessageCount)} → ${formatCount(call.responseMessageCount)} msgs)` : name;
    // No grpc-status: an HTTP status other than 200 is what answered (a proxy's 503, a 404 from a
    // server that does not speak gRPC there), and says more than nothing.
    const http = entry.response?.status;
    this.outcome = call.statusName ?? (typeof http === 'number' && http !== 200 ? `HTTP ${http}` : '');
    this.outcomeClass = call.status === null && entry.response === null ? 'none' : grpcOutcomeClass(call.status);
    this.isError = isGrpcError(call.status);
    this.payloadBytes = entry.response === null ? undefined : entry.response.content.size;
  }

  get verbQuery(): string {
    return isStream(this.#call) ? STREAM_QUERY : CALL_QUERY;
  }

  get targetQuery(): string {
    return `grpc.service == ${kflString(String(this.#call.service))} and grpc.method == ${kflString(String(this.#call.method))}`;
  }

  get outcomeQuery(): string {
    const status = this.#call.status;
    return typeof status === 'number' && Number.isFinite(status) ? `grpc.status == ${status}` : 'grpc and grpc.status == nil';
  }
}

function summarize(entry: GrpcCarrier): RowSummary {
  return new GrpcSummary(entry, entry.grpc!);
}

/** `250ms`, `30s`: a deadline as `grpc-timeout` gives it, in milliseconds. */
function deadline(ms: number | null): string {
  if (ms === null) return 'none';
  return ms >= 1000 && ms % 1000 === 0 ? `${formatCount(ms / 1000)}s` : `${ms}ms`;
}

function statusText(call: GrpcCall): string {
  if (call.status === null) return 'no status (the call did not end normally)';
  return `${call.status} ${call.statusName ?? ''}`.trimEnd();
}

function callRows(call: GrpcCall): DetailRow[] {
  const rows: DetailRow[] = [
    { label: 'Service', value: call.service, selector: 'grpc.service' },
    { label: 'Method', value: call.method, selector: 'grpc.method' },
    { label: 'Status', value: statusText(call), selector: 'grpc.status' },
  ];
  if (call.message !== null) rows.push({ label: 'Message', value: call.message, selector: 'grpc.message' });
  rows.push(
    { label: 'Deadline', value: deadline(call.timeoutMs), selector: 'grpc.timeoutMs' },
    { label: 'Request encoding', value: call.requestEncoding, selector: 'grpc.requestEncoding' },
    { label: 'Response encoding', value: call.responseEncoding, selector: 'grpc.responseEncoding' },
    { label: 'Request messages', value: formatCount(call.requestMessageCount), selector: 'grpc.requestMessageCount' },
    { label: 'Response messages', value: formatCount(call.responseMessageCount), selector: 'grpc.responseMessageCount' },
  );
  return rows;
}

/** One kept message as a body: pretty JSON with a schema, the field tree without, or why neither. */
function messageSection(side: 'Request' | 'Response', index: number, count: number, encoding: string, message: GrpcMessage): DetailSection {
  const wire = message.compressed ? `, ${encoding}-compressed, ${formatBytes(message.size)} on the wire` : '';
  const title = `${side} message ${formatCount(index + 1)} of ${formatCount(count)}${wire}`;
  let text: string;
  let mimeType: string;
  if (message.json !== undefined) {
    mimeType = `protobuf ${message.type ?? ''}`.trimEnd();
    text = JSON.stringify(message.json, null, 2) ?? '';
  } else if (message.fields !== undefined) {
    mimeType = 'protobuf, no schema';
    // An empty message (protobuf's default values only) is common: say so rather than show nothing.
    text = message.fields.length === 0 ? '(empty message)' : renderFields(message.fields);
  } else {
    mimeType = 'protobuf';
    text = `(not decoded: ${message.error ?? 'unknown reason'})`;
  }
  return {
    kind: 'body', title, mimeType, text, sizeBytes: message.decodedSize ?? message.size,
    ...(message.truncated === true ? { truncated: true } : {}),
  };
}

/** A side's messages: how many the call carried against how many are kept, then each kept one. */
function sideSections(side: 'Request' | 'Response', count: number, encoding: string, kept: readonly GrpcMessage[]): DetailSection[] {
  const shown = kept.length < count ? `showing ${formatCount(kept.length)} of ${formatCount(count)} messages` : count === 1 ? '1 message' : `${formatCount(count)} messages`;
  const out: DetailSection[] = [{ kind: 'heading', title: `${side} messages`, text: shown, ...(count === 0 ? { absent: true } : {}) }];
  kept.forEach((message, i) => out.push(messageSection(side, i, count, encoding, message)));
  return out;
}

/**
 * The call first (what a gRPC user looks for), then HTTP's sections without its raw bodies (the
 * messages' bytes as base64: the decoded messages below replace them; `y` shows the raw entry),
 * then each side's messages.
 */
function represent(entry: GrpcCarrier, family: readonly DetailSection[]): readonly DetailSection[] {
  const call = entry.grpc!;
  return [
    { kind: 'heading', title: 'gRPC call', text: `${call.service}/${call.method}  ${statusText(call)}`, outcomeClass: grpcOutcomeClass(call.status) },
    { kind: 'table', title: 'Call', rows: callRows(call) },
    ...family.filter((section) => section.kind !== 'body'),
    ...sideSections('Request', call.requestMessageCount, call.requestEncoding, call.requestMessages),
    ...sideSections('Response', call.responseMessageCount, call.responseEncoding, call.responseMessages),
  ];
}

/** Kubeshark's KFL2 gRPC variables, and ours for the service; null on entries that are not calls. */
const VARIABLES: readonly KflVariable[] = [
  { name: 'grpc_status', kind: 'path', path: 'grpc.status' },
  { name: 'grpc_method', kind: 'path', path: 'grpc.method' },
  { name: 'grpc_service', kind: 'path', path: 'grpc.service' },
];

const CALL_FIELDS = [
  'service', 'method', 'status', 'statusName', 'message', 'requestEncoding', 'responseEncoding', 'timeoutMs',
  'requestMessageCount', 'responseMessageCount', 'requestMessages', 'responseMessages',
];

/** Bytes of the kept messages: what a held entry costs beyond HTTP's kept body text. */
function heldChars(entry: GrpcCarrier): number {
  const call = entry.grpc!;
  return keptBytes(call.requestMessages) + keptBytes(call.responseMessages);
}

/** Only numbers count: NDJSON input may hold anything where a size should be. */
function keptBytes(messages: readonly GrpcMessage[]): number {
  let bytes = 0;
  for (const m of messages) {
    const size = m.decodedSize ?? m.size;
    if (typeof size === 'number' && Number.isFinite(size)) bytes += size;
  }
  return bytes;
}

export const grpcVariant: ProtocolVariant<GrpcCarrier> = Object.freeze({
  abbr: 'gRPC',
  // The dissector sets `grpc` on every call (and Kubeshark's NDJSON without it still matches the
  // `grpc` word by its abbreviation, with HTTP's row).
  appliesTo: (entry: GrpcCarrier): boolean => entry.grpc !== null && typeof entry.grpc === 'object',
  summarize,
  represent,
  kfl: Object.freeze({
    // Kubeshark's gRPC macro: protocol.abbr "gRPC".
    words: Object.freeze([{ word: 'grpc', matches: (p: { readonly abbr: unknown }): boolean => p.abbr === 'gRPC' }]),
    variables: Object.freeze(VARIABLES),
    paths: Object.freeze(['grpc', ...CALL_FIELDS.map((f) => `grpc.${f}`)]),
    openMaps: Object.freeze(['grpc.requestMessages', 'grpc.responseMessages']),
    readers: GRPC_KFL_READERS,
  }),
  redact: redactGrpc,
  heldChars,
});
