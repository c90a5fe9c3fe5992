/**
 * The detail pane's content as plain lines (pure): timing, endpoints and sizes, then the request
 * line and headers, the response status and headers, then the bodies; or the raw entry JSON. The pane only scrolls over these.
 * Every line is display-safe (control characters shown escaped, src/model/terminal-text.ts) and
 * bounded: a huge header value or body line is cut, a body with huge numbers of lines too, so
 * wrapping and rendering stay cheap whatever the capture holds.
 */
import type { Endpoint, Entry } from '../model/entry.ts';
import { sanitizeBlock, sanitizeLine } from '../model/terminal-text.ts';
import { formatBytes } from '../model/byte-units.ts';
import { formatLatency, statusClassOf, type StatusClass } from './entry-row.ts';

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

function mapLines(title: string, map: Readonly<Record<string, string | string[]>>): DetailLine[] {
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
export function bodyLines(body: BodyInput, title = 'Body'): DetailLine[] {
  const out = [line(`${title} (${body.mimeType || 'unknown type'}, ${formatBytes(body.size)})`, 'label')];
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

/**
 * The facts first, then the messages: timing, both endpoints and the sizes at the top (what a
 * reader checks first: when, who to whom, how big), then the request line and its headers, the
 * response status and its headers, and the bodies last, since they can run for pages.
 */
export function detailLines(entry: Entry): readonly DetailLine[] {
  const { request, response } = entry;
  const out: DetailLine[] = [
    line(`  started   ${entry.startTime}`),
    response === null ? line('  elapsed   - (no response)', 'server-error') : line(`  elapsed   ${formatLatency(entry.elapsedTime)} to the response`),
    line(`  client    ${endpointText(entry.src)}`),
    line(`  server    ${endpointText(entry.dst)}${entry.tls ? ', TLS' : ''}`),
    line(`  sizes     request ${formatBytes(entry.requestSize)} (body ${formatBytes(request.bodySize)}), response ${response === null ? '-' : `${formatBytes(entry.responseSize)} (body ${formatBytes(response.bodySize)})`}`),
  ];
  if (entry.error !== null) out.push(line(`  error     ${entry.error.type}: ${entry.error.msg}`, response === null ? 'server-error' : 'warning'));
  out.push(line(''), line('Request', 'section'));
  out.push(line(`${request.method} ${request.url} HTTP/${request.httpVersion.replace(/^HTTP\//, '')}`, 'heading'));
  out.push(...mapLines('Headers', request.headers), ...mapLines('Query', request.queryString), ...mapLines('Cookies', request.cookies));
  out.push(line(''), line('Response', 'section'));
  if (response === null) out.push(line('  no response', 'server-error'));
  else {
    out.push(line(`HTTP/${response.httpVersion.replace(/^HTTP\//, '')} ${response.status} ${response.statusText}`.trimEnd(), statusClassOf(response.status)));
    out.push(...mapLines('Headers', response.headers), ...mapLines('Cookies', response.cookies));
  }
  const hasRequestBody = request.postData !== null;
  const hasResponseBody = response !== null && (response.content.text !== '' || response.content.size > 0);
  if (hasRequestBody || hasResponseBody) out.push(line(''));
  if (request.postData !== null) out.push(...bodyLines({ ...request.postData, size: request.bodySize }, 'Request body'));
  if (response !== null && hasResponseBody) out.push(...bodyLines(response.content, 'Response body'));
  out.push(line(''), line(`entry ${entry.id}, ${entry.protocol.abbr} ${entry.protocol.version}`, 'muted'));
  return out;
}

/** "front-end (pod front-end-7d9c, service front-end, ns shop) 10.0.0.1:40000": what the cluster or capture knows. */
function endpointText(endpoint: Endpoint): string {
  const address = endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
  const known: string[] = [];
  if (endpoint.pod !== undefined && endpoint.pod !== '' && endpoint.pod !== endpoint.name) known.push(`pod ${endpoint.pod}`);
  if (endpoint.service !== undefined && endpoint.service !== '' && endpoint.service !== endpoint.name) known.push(`service ${endpoint.service}`);
  if (endpoint.namespace !== '') known.push(`ns ${endpoint.namespace}`);
  const name = endpoint.name === '' ? '' : `${endpoint.name} `;
  return `${name}${known.length > 0 ? `(${known.join(', ')}) ` : ''}${address}`;
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
