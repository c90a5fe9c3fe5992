/**
 * The detail pane's content as plain lines (pure): timing, endpoints and sizes, then the sections
 * the entry's protocol descriptor gives (HTTP: the request line and headers, the response status
 * and headers, then the bodies); or the raw entry JSON. The pane only scrolls over these.
 * Every line is display-safe (control characters shown escaped, src/model/terminal-text.ts) and
 * bounded: a huge header value or body line is cut, a body with huge numbers of lines too, so
 * wrapping and rendering stay cheap whatever the capture holds.
 */
import type { Endpoint, Entry } from '../model/entry.ts';
import type { DetailRow, DetailSection } from '../model/protocol-descriptor.ts';
import { sanitizeBlock, sanitizeLine } from '../model/terminal-text.ts';
import { formatBytes } from '../model/byte-units.ts';
import { descriptorOf, representEntry } from '../remote-agent/dissect/descriptors.ts';
import { formatLatency, type StatusClass } from './entry-row.ts';

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

/** A table: its title and how many names it lists (a name may have a row per value), then `name: value` rows. */
function tableLines(title: string, rows: readonly DetailRow[]): DetailLine[] {
  if (rows.length === 0) return [];
  const out = [line(`${title} (${new Set(rows.map((row) => row.label)).size})`, 'label')];
  for (const row of rows) out.push(line(`  ${row.label}: ${row.value}`));
  return out;
}

/** A part of the exchange: a blank line, its title, then its first line (or what is missing). */
function headingLines(section: Extract<DetailSection, { kind: 'heading' }>): DetailLine[] {
  const first = section.absent === true ? line(`  ${section.text}`, section.outcomeClass ?? 'muted') : line(section.text, section.outcomeClass ?? 'heading');
  return [line(''), line(section.title, 'section'), first];
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

/** ` (body 12 B)` beside a wire size, when the protocol counts its payload apart. */
function bodyNote(bytes: number | null | undefined): string {
  return typeof bytes === 'number' ? ` (body ${formatBytes(bytes)})` : '';
}

function bodySizesOf(entry: Entry): { readonly request: number; readonly response: number | null } | undefined {
  try {
    return descriptorOf(entry)?.bodySizes?.(entry);
  } catch {
    return undefined; // NDJSON input whose fields are not what its protocol writes
  }
}

/**
 * The facts first, then the messages: timing, both endpoints and the sizes at the top (what a
 * reader checks first: when, who to whom, how big), then the descriptor's sections (HTTP: the
 * request line and its headers, the response status and its headers), and the bodies last, since
 * they can run for pages.
 */
export function detailLines(entry: Entry): readonly DetailLine[] {
  const response = entry.response;
  const bodies = bodySizesOf(entry);
  const out: DetailLine[] = [
    line(`  started   ${entry.startTime}`),
    response === null ? line('  elapsed   - (no response)', 'server-error') : line(`  elapsed   ${formatLatency(entry.elapsedTime)} to the response`),
    line(`  client    ${endpointText(entry.src)}`),
    line(`  server    ${endpointText(entry.dst)}${entry.tls ? ', TLS' : ''}`),
    line(`  sizes     request ${formatBytes(entry.requestSize)}${bodyNote(bodies?.request)}, response ${response === null ? '-' : `${formatBytes(entry.responseSize)}${bodyNote(bodies?.response)}`}`),
  ];
  if (entry.error !== null) out.push(line(`  error     ${entry.error.type}: ${entry.error.msg}`, response === null ? 'server-error' : 'warning'));
  let hasBodies = false;
  for (const section of representEntry(entry)) {
    if (section.kind === 'heading') out.push(...headingLines(section));
    else if (section.kind === 'table') out.push(...tableLines(section.title, section.rows));
    else {
      // One blank line between the messages and the bodies.
      if (!hasBodies) out.push(line(''));
      hasBodies = true;
      const { text, mimeType, sizeBytes, encoding, truncated } = section;
      out.push(...bodyLines({ text, mimeType, size: sizeBytes, ...(encoding !== undefined ? { encoding } : {}), ...(truncated !== undefined ? { truncated } : {}) }, section.title));
    }
  }
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
