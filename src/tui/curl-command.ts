/**
 * The request of an entry as a curl command line, and the OSC 52 sequence that puts text on the
 * terminal's clipboard (xterm "Manipulate Selection Data": ESC ] 52 ; c ; base64 BEL).
 */
import type { Entry } from '../model/entry.ts';

/** POSIX shell single quoting: safe for any byte string. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Headers curl computes itself or that would lie about the body it sends. */
const SKIPPED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

export function curlCommand(entry: Entry): string {
  const { request } = entry;
  const headerName = Object.keys(request.headers).find((name) => name.toLowerCase() === 'host');
  const host = headerName ? request.headers[headerName] : `${entry.dst.ip.includes(':') ? `[${entry.dst.ip}]` : entry.dst.ip}:${entry.dst.port}`;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(request.url) ? request.url : `${entry.tls ? 'https' : 'http'}://${host}${request.url}`;
  const parts = ['curl', '-X', request.method, shellQuote(url)];
  for (const [name, value] of Object.entries(request.headers)) {
    if (!SKIPPED_HEADERS.has(name.toLowerCase())) parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  const body = request.postData;
  if (body === null || body.text === '') return parts.join(' ');
  if (body.encoding === 'base64') return `printf %s ${shellQuote(body.text)} | base64 -d | ${parts.join(' ')} --data-binary @-`;
  parts.push('--data-raw', shellQuote(body.text));
  return parts.join(' ');
}

export function osc52Sequence(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}
