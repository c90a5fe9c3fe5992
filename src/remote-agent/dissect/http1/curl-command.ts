/**
 * The request of an HTTP entry as a curl command line for POSIX sh: the descriptor's
 * `replayCommand`, which the TUI's copy key puts on the clipboard (src/tui/clipboard.ts).
 *
 * Method, URL, header names and values and the body are the sender's choice (a method is any
 * RFC 9110 token: `G'|id|'` is one), so each is one quoted shell word that sh reads back as exactly
 * the argument curl gets. The command is made to be pasted, and while text is pasted a terminal
 * and a line editor act on control characters: without bracketed paste, ^U in the tty's canonical
 * mode kills the line typed so far and DEL erases the character before it (the opening quote), so
 * the rest of a pasted argument would run as a command of its own; CR turns into LF, TAB completes.
 * So the command holds no control character but LF inside single quotes (sh keeps it there); every
 * other one is spliced in with printf octal escapes, `"$(printf '\033')"`, whose output never ends
 * in a newline, so the command substitution strips nothing.
 *
 * The command is also the request as curl sends it: no flag that curl implies anyway (`-X GET`, or
 * `-X POST` with a body), bodies as `--data-binary` (byte for byte, unlike `-d`), and nothing the
 * request did not ask for: `-k` is never added for TLS traffic, and curl's default form Content-Type
 * is emptied when the request had none. curl-replay.test.ts checks this against a real curl.
 *
 * A descriptor helper: imports only src/model and this folder's entry.ts (the TUI loads it).
 */
import type { HttpEntry } from './entry.ts';

/** Control characters that must not be pasted as they are: C0 but LF, DEL, C1. */
const PASTE_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const PASTE_UNSAFE_RUNS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]+/g;

function singleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * `"$(printf '\ooo...')"` for a run of control characters (their UTF-8 bytes). NUL cannot be part
 * of an argument at all (the kernel ends argv strings at it): it is left out.
 */
function printfSplice(run: string): string {
  let escapes = '';
  for (const byte of Buffer.from(run.replace(/\u0000/g, ''), 'utf8')) escapes += `\\${byte.toString(8).padStart(3, '0')}`;
  return escapes === '' ? `''` : `"$(printf '${escapes}')"`;
}

/** One shell word that POSIX sh reads back as `text` (less any NUL), with no control character to paste but LF. */
export function shellQuote(text: string): string {
  if (!PASTE_UNSAFE.test(text)) return singleQuote(text);
  let word = '';
  let at = 0;
  for (const run of text.matchAll(PASTE_UNSAFE_RUNS)) {
    if (run.index > at) word += singleQuote(text.slice(at, run.index));
    word += printfSplice(run[0]);
    at = run.index + run[0].length;
  }
  if (at < text.length) word += singleQuote(text.slice(at));
  return word;
}

/** A plain method (GET, M-SEARCH, CCM_POST) reads as typed; anything else is quoted. */
function methodWord(method: string): string {
  return /^[A-Za-z0-9_-]+$/.test(method) ? method : shellQuote(method);
}

/** Headers curl computes itself or that would lie about the body it sends. */
const SKIPPED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

/** curl's arguments as shell words (flags bare, values from traffic quoted), and the body for its stdin when no argument can carry it. */
interface CurlParts {
  readonly words: readonly string[];
  readonly stdin: Uint8Array | null;
}

/**
 * The flags that make curl send exactly `method`, given whether a body goes along: curl sends GET
 * by default and POST once it has data, so `-X` is only written when that default differs (a GET
 * with a body keeps `-X GET`). HEAD without a body is `--head`: `-X HEAD` makes curl wait for a
 * body the answer never has. Methods compare case-sensitively (RFC 9110): `get` is not GET.
 */
function methodFlags(method: string, hasBody: boolean): readonly string[] {
  const curlDefault = hasBody ? 'POST' : 'GET';
  if (method === curlDefault) return [];
  if (method === 'HEAD' && !hasBody) return ['--head'];
  return ['-X', methodWord(method)];
}

/**
 * Bodies longer than this go through stdin: Linux caps one argument of exec at 128 KiB
 * (MAX_ARG_STRLEN), and the shell's printf, a builtin, is not exec'd.
 */
const MAX_BODY_ARGUMENT = 64 * 1024;

/**
 * The body's bytes and whether they must come through stdin: `--data-binary` reads a file when its
 * value starts with `@` (a body from traffic must never make curl read and send a local file), no
 * argument can carry NUL or binary bytes, and none can be longer than exec allows. Everything else
 * is one quoted argument.
 */
function bodyOf(entry: HttpEntry): { readonly text: string; readonly stdin: Uint8Array | null } | null {
  const body = entry.request.postData;
  if (body === null || body.text === '') return null;
  if (body.encoding === 'base64') return { text: body.text, stdin: Buffer.from(body.text, 'base64') };
  if (body.text.includes('\u0000') || body.text.startsWith('@') || Buffer.byteLength(body.text) > MAX_BODY_ARGUMENT) return { text: body.text, stdin: Buffer.from(body.text, 'utf8') };
  return { text: body.text, stdin: null };
}

function curlParts(entry: HttpEntry): CurlParts {
  const words: string[] = [];
  const flag = (name: string): void => void words.push(name);
  const value = (text: string, word = shellQuote(text)): void => void words.push(word);
  const { request } = entry;
  const body = bodyOf(entry);
  const headers = request.headers;
  const http2 = request.httpVersion === 'HTTP/2.0';
  const headerName = Object.keys(headers).find((name) => name.toLowerCase() === 'host');
  // HTTP/2 names the host and scheme in pseudo-header fields (RFC 9113 §8.3.1), not in Host.
  const authority = headerName ? headers[headerName] : http2 ? headers[':authority'] : undefined;
  const host = authority ?? `${entry.dst.ip.includes(':') ? `[${entry.dst.ip}]` : entry.dst.ip}:${entry.dst.port}`;
  const sentScheme = http2 ? headers[':scheme'] : undefined;
  const scheme = sentScheme === 'https' || sentScheme === 'http' ? sentScheme : entry.tls ? 'https' : 'http';
  words.push(...methodFlags(request.method, body !== null));
  // HTTP/2 as it was sent: over TLS curl negotiates it (ALPN); in clear text (h2c) it must be told.
  if (http2) flag(scheme === 'https' ? '--http2' : '--http2-prior-knowledge');
  // TLS traffic gets an https:// URL and nothing more: -k is the user's call, never implied.
  value(/^[a-z][a-z0-9+.-]*:\/\//i.test(request.url) ? request.url : `${scheme}://${host}${request.url}`);
  for (const [name, text] of Object.entries(headers)) {
    // HTTP/2's pseudo-header fields are curl's to write from the method and URL.
    if (SKIPPED_HEADERS.has(name.toLowerCase()) || (http2 && name.startsWith(':'))) continue;
    flag('-H');
    value(`${name}: ${text}`);
  }
  if (body === null) return { words, stdin: null };
  // With data, curl adds "Content-Type: application/x-www-form-urlencoded" unless told otherwise.
  if (!Object.keys(request.headers).some((name) => name.toLowerCase() === 'content-type')) {
    flag('-H');
    value('Content-Type:');
  }
  flag('--data-binary');
  if (body.stdin === null) value(body.text);
  else flag('@-');
  return { words, stdin: body.stdin };
}

export function curlCommand(entry: HttpEntry): string {
  const { words, stdin } = curlParts(entry);
  const command = ['curl', ...words].join(' ');
  if (stdin === null) return command;
  // Re-encoded from the decoded bytes: only [A-Za-z0-9+/=], whatever text the entry held.
  return `printf %s ${shellQuote(Buffer.from(stdin).toString('base64'))} | base64 -d | ${command}`;
}
