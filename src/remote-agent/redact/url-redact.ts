/** URLs: userinfo of absolute-form URLs, sensitive query parameters and fragment parameters. */
import { REDACTED } from './keys.ts';
import { redactParams, type ParamRules } from './params-redact.ts';

/**
 * Works on origin-form ("/p?q#f"), absolute-form ("http://u:p@h/p?q#f") and anything else: the
 * query is whatever follows the first "?" before the first "#". The fragment is treated as
 * parameters too when it holds "=": OAuth's implicit flow returns "#access_token=...", and hash
 * routers put a query inside it ("#/reset?token=..."; only the part after its "?" is parameters).
 * Path segments are not redacted (see docs/redaction.md).
 */
export function redactUrl(url: string, rules: ParamRules): string {
  const u = redactUserinfo(url);
  const hash = u.indexOf('#');
  const end = hash < 0 ? u.length : hash;
  const q = u.indexOf('?');
  let head = u.slice(0, end);
  if (q >= 0 && q < end) {
    const query = u.slice(q + 1, end);
    const redacted = redactParams(query, rules);
    if (redacted !== query) head = u.slice(0, q + 1) + redacted;
  }
  if (hash < 0) return head;
  return `${head}#${redactFragment(u.slice(hash + 1), rules)}`;
}

function redactFragment(fragment: string, rules: ParamRules): string {
  if (fragment.indexOf('=') < 0) return fragment;
  const q = fragment.indexOf('?');
  return q < 0 ? redactParams(fragment, rules) : fragment.slice(0, q + 1) + redactParams(fragment.slice(q + 1), rules);
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
