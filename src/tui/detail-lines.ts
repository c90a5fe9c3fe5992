/**
 * The detail pane's content as plain lines (pure): request line, headers, query, cookies, bodies,
 * response, timings and connection, or the raw entry JSON. The pane only scrolls over these.
 */
import type { Entry, HeaderMap, QueryMap } from '../model/entry.ts';
import { endpointLabel, formatBytes, formatLatency, statusClassOf, type StatusClass } from './entry-row.ts';

export type LineTone = 'heading' | 'section' | 'label' | 'text' | 'muted' | 'warning' | StatusClass;

export interface DetailLine {
  readonly text: string;
  readonly tone: LineTone;
}

const line = (text: string, tone: LineTone = 'text'): DetailLine => ({ text, tone });

function mapLines(title: string, map: HeaderMap | QueryMap): DetailLine[] {
  const names = Object.keys(map);
  if (names.length === 0) return [];
  const out = [line(`${title} (${names.length})`, 'label')];
  for (const name of names) {
    const value = map[name];
    const values = Array.isArray(value) ? value : [value];
    for (const one of values) out.push(line(`  ${name}: ${one}`));
  }
  return out;
}

export interface BodyInput {
  readonly text: string;
  readonly mimeType: string;
  readonly encoding?: string;
  readonly truncated?: boolean;
  /** Whole body size in bytes. */
  readonly size: number;
}

/** JSON pretty-printed, binary as a note, text as is; truncation is marked. */
export function bodyLines(body: BodyInput): DetailLine[] {
  const out = [line(`Body (${body.mimeType || 'unknown type'}, ${formatBytes(body.size)})`, 'label')];
  if (body.encoding === 'base64') {
    out.push(line(`  [binary body: ${formatBytes(body.size)}, kept as base64; y shows the raw entry]`, 'muted'));
  } else {
    for (const text of prettyBody(body.text, body.mimeType).split('\n')) out.push(line(`  ${text}`));
  }
  if (body.truncated === true) out.push(line(`  … truncated: only the first ${formatBytes(Buffer.byteLength(body.text))} are kept`, 'warning'));
  return out;
}

function prettyBody(text: string, mimeType: string): string {
  const looksJson = /json/i.test(mimeType) || /^\s*[[{]/.test(text);
  if (!looksJson) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function detailLines(entry: Entry): readonly DetailLine[] {
  const { request, response } = entry;
  const out: DetailLine[] = [line(`${request.method} ${request.url} HTTP/${request.httpVersion.replace(/^HTTP\//, '')}`, 'heading')];
  out.push(line(`${endpointLabel(entry.src)} -> ${endpointLabel(entry.dst)}   ${entry.protocol.abbr}${entry.tls ? ' (TLS)' : ''}`, 'muted'));
  out.push(line(''), line('Request', 'section'));
  out.push(...mapLines('Headers', request.headers), ...mapLines('Query', request.queryString), ...mapLines('Cookies', request.cookies));
  if (request.postData !== null) out.push(...bodyLines({ ...request.postData, size: request.bodySize }));
  out.push(line(''));
  if (response === null) {
    out.push(line('Response', 'section'), line(entry.error ? `  no response: ${entry.error.type}: ${entry.error.msg}` : '  no response', 'server-error'));
  } else {
    out.push(line(`Response ${response.status} ${response.statusText}`, statusClassOf(response.status)));
    out.push(...mapLines('Headers', response.headers), ...mapLines('Cookies', response.cookies));
    if (response.content.text !== '' || response.content.size > 0) out.push(...bodyLines(response.content));
  }
  out.push(line(''), line('Timing', 'section'));
  out.push(line(`  started   ${entry.startTime}`));
  out.push(line(`  response  ${response ? `after ${formatLatency(entry.elapsedTime)}` : '-'}`));
  out.push(line(''), line('Connection', 'section'));
  out.push(line(`  client    ${entry.src.ip}:${entry.src.port}${namedAs(entry.src.name, entry.src.namespace)}`));
  out.push(line(`  server    ${entry.dst.ip}:${entry.dst.port}${namedAs(entry.dst.name, entry.dst.namespace)}`));
  out.push(line(`  sizes     request ${formatBytes(entry.requestSize)}, response ${formatBytes(entry.responseSize)}; entry id ${entry.id}`));
  if (entry.error !== null && response !== null) out.push(line(`  error     ${entry.error.type}: ${entry.error.msg}`, 'warning'));
  return out;
}

function namedAs(name: string, namespace: string): string {
  if (name === '') return '';
  return namespace === '' ? ` (${name})` : ` (${namespace}/${name})`;
}

export function rawJsonLines(entry: Entry): readonly DetailLine[] {
  return JSON.stringify(entry, null, 2)
    .split('\n')
    .map((text) => line(text));
}

/** Soft-wraps lines to a width; continuation lines are indented like their first line, plus two. */
export function wrapLines(lines: readonly DetailLine[], width: number): readonly DetailLine[] {
  const out: DetailLine[] = [];
  const max = Math.max(8, width);
  for (const one of lines) {
    if (one.text.length <= max) {
      out.push(one);
      continue;
    }
    const indent = ' '.repeat(Math.min(max / 2, (/^ */.exec(one.text)?.[0].length ?? 0) + 2));
    out.push({ ...one, text: one.text.slice(0, max) });
    for (let at = max; at < one.text.length; at += max - indent.length) out.push({ ...one, text: indent + one.text.slice(at, at + max - indent.length) });
  }
  return out;
}
