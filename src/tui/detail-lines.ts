/**
 * The detail pane's content as plain lines (pure): request line, headers, query, cookies, bodies,
 * response, timings and connection, or the raw entry JSON. The pane only scrolls over these.
 * Every line is display-safe (control characters shown escaped, src/model/terminal-text.ts) and
 * bounded: a huge header value or body line is cut, a body with huge numbers of lines too, so
 * wrapping and rendering stay cheap whatever the capture holds.
 */
import type { Entry, HeaderMap, QueryMap } from '../model/entry.ts';
import { sanitizeBlock, sanitizeLine } from '../model/terminal-text.ts';
import { formatBytes } from '../model/byte-units.ts';
import { endpointLabel, formatLatency, statusClassOf, type StatusClass } from './entry-row.ts';

/** Characters of one line shown at most (about 100 rows once wrapped); the rest is counted. */
export const MAX_LINE_CHARS = 10_000;
/** Characters and lines of one body shown at most. */
export const MAX_BODY_CHARS = 1_000_000;
export const MAX_BODY_LINES = 5_000;

export type LineTone = 'heading' | 'section' | 'label' | 'text' | 'muted' | 'warning' | StatusClass;

export interface DetailLine {
  readonly text: string;
  readonly tone: LineTone;
}

/** One display line: cut to MAX_LINE_CHARS (before sanitising, which only makes it longer), control characters escaped. */
function line(text: string, tone: LineTone = 'text'): DetailLine {
  if (text.length <= MAX_LINE_CHARS) return { text: sanitizeLine(text), tone };
  return { text: `${sanitizeLine(text.slice(0, MAX_LINE_CHARS))}… (${text.length - MAX_LINE_CHARS} more characters not shown)`, tone };
}

function mapLines(title: string, map: HeaderMap | QueryMap): DetailLine[] {
  const names = Object.keys(map);
  if (names.length === 0) return [];
  const out = [line(`${title} (${names.length})`, 'label')];
  for (const name of names) {
    const value = map[name];
    const values = Array.isArray(value) ? value : [value];
    for (const one of values) {
      // Set-Cookie fields are joined with LF in the entry (src/model/entry.ts): one line each again.
      for (const field of name.toLowerCase() === 'set-cookie' ? one.split('\n') : [one]) out.push(line(`  ${name}: ${field}`));
    }
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
    // TAB and LF are layout here: sanitizeBlock keeps line breaks and expands tabs, line() the rest.
    const isHuge = body.text.length > MAX_BODY_CHARS;
    const lines = sanitizeBlock(isHuge ? body.text.slice(0, MAX_BODY_CHARS) : prettyBody(body.text, body.mimeType)).split('\n');
    for (const text of lines.slice(0, MAX_BODY_LINES)) out.push(line(`  ${text}`));
    if (lines.length > MAX_BODY_LINES) out.push(line(`  … ${lines.length - MAX_BODY_LINES} more lines not shown`, 'muted'));
    else if (isHuge) out.push(line(`  … ${body.text.length - MAX_BODY_CHARS} more characters not shown`, 'muted'));
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
