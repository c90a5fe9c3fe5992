/**
 * multipart/* bodies: a part named by a sensitive Content-Disposition `name` (or `filename`)
 * has its body replaced; the others go through `redactPart` with their own Content-Type (typed
 * parts are redacted like whole bodies of their type, see body-redact.ts).
 */
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';

/** Redacts one part's body given its Content-Type ("" when it has none). */
export type PartRedactor = (body: string, contentType: string, isSensitive: IsSensitive) => string;

/** `boundary` from the Content-Type, else guessed from a first line "--something". */
export function boundaryOf(mimeType: string, text: string): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(mimeType);
  const declared = m === null ? '' : (m[1] ?? m[2] ?? '');
  if (declared !== '' && text.includes(`--${declared}`)) return declared;
  return guessBoundary(text) ?? (declared === '' ? null : declared);
}

function guessBoundary(text: string): string | null {
  let i = 0;
  while (i < text.length && (text[i] === '\r' || text[i] === '\n')) i++;
  if (!text.startsWith('--', i)) return null;
  const eol = lineEnd(text, i);
  const b = text.slice(i + 2, eol).trimEnd();
  return b === '' || b.length > 200 ? null : b;
}

function lineEnd(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  return lf < 0 ? text.length : lf;
}

export function redactMultipart(text: string, boundary: string, isSensitive: IsSensitive, redactPart: PartRedactor): string {
  const delim = `--${boundary}`;
  let out = '';
  let last = 0;
  let d = firstDelimiter(text, delim);
  while (d >= 0) {
    const afterDelim = d + delim.length;
    if (text.startsWith('--', afterDelim)) break; // closing delimiter
    const delimEol = text.indexOf('\n', afterDelim);
    if (delimEol < 0) break; // cut in the delimiter line: no part content yet
    const part = readPartHeaders(text, delimEol + 1);
    if (part === null) break; // cut inside the part headers: no body yet
    const next = text.indexOf(`\n${delim}`, part.bodyStart);
    let bodyEnd = next < 0 ? text.length : next;
    if (next >= 0 && bodyEnd > part.bodyStart && text.charCodeAt(bodyEnd - 1) === 13) bodyEnd--;
    const replacement = partReplacement(text.slice(part.bodyStart, bodyEnd), part, isSensitive, redactPart);
    if (replacement !== null) {
      out += text.slice(last, part.bodyStart) + replacement;
      last = bodyEnd;
    }
    d = next < 0 ? -1 : next + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

function firstDelimiter(text: string, delim: string): number {
  let from = 0;
  for (;;) {
    const d = text.indexOf(delim, from);
    if (d <= 0 || text.charCodeAt(d - 1) === 10) return d;
    from = d + 1;
  }
}

interface PartHead {
  readonly bodyStart: number;
  readonly names: readonly string[];
  readonly contentType: string;
}

/** Header lines up to the blank line; null when the text ends before it. */
function readPartHeaders(text: string, from: number): PartHead | null {
  const names: string[] = [];
  let contentType = '';
  let p = from;
  for (;;) {
    const lf = text.indexOf('\n', p);
    if (lf < 0) return null;
    const line = text.slice(p, lf).replace(/\r$/, '');
    p = lf + 1;
    if (line === '') return { bodyStart: p, names, contentType };
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1);
    if (field === 'content-disposition') names.push(...dispositionNames(value));
    else if (field === 'content-type') contentType = value.trim();
  }
}

/** The `name` and `filename` parameters of a Content-Disposition value (RFC 7578 §4.2). */
export function dispositionNames(value: string): string[] {
  const names: string[] = [];
  const re = /(?:^|;)\s*(name|filename)\*?\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;]*))/gi;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const v = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    if (v !== '') names.push(v);
  }
  return names;
}

function partReplacement(body: string, part: PartHead, isSensitive: IsSensitive, redactPart: PartRedactor): string | null {
  for (const name of part.names) if (isSensitive(name)) return body === REDACTED ? null : REDACTED;
  const redacted = redactPart(body, part.contentType, isSensitive);
  return redacted === body ? null : redacted;
}
