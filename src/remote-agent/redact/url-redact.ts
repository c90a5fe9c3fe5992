/** The request target: userinfo of absolute-form URLs and sensitive query parameters. */
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';
import { redactParams } from './params-redact.ts';

/**
 * Works on origin-form ("/p?q#f"), absolute-form ("http://u:p@h/p?q") and anything else (the
 * query is whatever follows the first "?" before any "#"). The fragment and the path are kept:
 * path segments are not redacted (see README).
 */
export function redactUrl(url: string, isSensitive: IsSensitive): string {
  const withoutUserinfo = redactUserinfo(url);
  const q = withoutUserinfo.indexOf('?');
  if (q < 0) return withoutUserinfo;
  const hash = withoutUserinfo.indexOf('#');
  if (hash >= 0 && hash < q) return withoutUserinfo;
  const end = hash < 0 ? withoutUserinfo.length : hash;
  const query = withoutUserinfo.slice(q + 1, end);
  const redacted = redactParams(query, isSensitive);
  if (redacted === query) return withoutUserinfo;
  return withoutUserinfo.slice(0, q + 1) + redacted + withoutUserinfo.slice(end);
}

/**
 * "scheme://user:secret@host" -> "scheme://user:[REDACTED]@host". Userinfo without ":" is
 * replaced whole: a lone user part is usually a token ("https://ghp_x@github.com").
 */
export function redactUserinfo(url: string): string {
  const sep = url.indexOf('://');
  if (sep <= 0 || !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(url.slice(0, sep))) return url;
  const authStart = sep + 3;
  let authEnd = authStart;
  for (; authEnd < url.length; authEnd++) {
    const c = url.charCodeAt(authEnd);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
  }
  const at = url.lastIndexOf('@', authEnd - 1);
  if (at < authStart) return url;
  const colon = url.indexOf(':', authStart);
  const keepEnd = colon >= 0 && colon < at ? colon + 1 : authStart;
  if (url.slice(keepEnd, at) === REDACTED) return url;
  return url.slice(0, keepEnd) + REDACTED + url.slice(at);
}
