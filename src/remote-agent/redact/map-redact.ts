/** Header, cookie and query maps: values of sensitive names become REDACTED. */
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';
import { decodeParamName, redactParams } from './params-redact.ts';
import { redactUrl } from './url-redact.ts';

/** Headers whose value is a URL that may carry credentials in its query or userinfo. */
const URL_HEADERS = new Set(['referer', 'location', 'content-location']);

/**
 * Redacts `owner[field]` in place. A map that is not a plain record (array, string, Map...)
 * cannot be checked name by name, so it is replaced whole; null and undefined hold nothing.
 */
export function redactMapField(owner: object, field: string, kind: MapKind, isSensitive: IsSensitive): void {
  const rec = owner as Record<string, unknown>;
  try {
    const map = rec[field];
    if (map === null || map === undefined) return;
    if (typeof map !== 'object' || Array.isArray(map) || map instanceof Map || map instanceof Set) {
      rec[field] = REDACTED;
      return;
    }
    redactRecord(map as Record<string, unknown>, kind, isSensitive);
  } catch {
    try {
      rec[field] = REDACTED;
    } catch {
      // A frozen owner cannot be redacted in place; nothing more can be done without throwing.
    }
  }
}

export type MapKind = 'headers' | 'cookies' | 'query';

function redactRecord(map: Record<string, unknown>, kind: MapKind, isSensitive: IsSensitive): void {
  for (const name of Object.keys(map)) {
    const value = map[name];
    const sensitive = isSensitive(name) || (kind !== 'headers' && name.indexOf('%') >= 0 && isSensitive(decodeParamName(name)));
    let next: unknown = value;
    if (sensitive) {
      next = Array.isArray(value) && kind === 'query' ? value.map(() => REDACTED) : REDACTED;
    } else if (typeof value === 'string') {
      next = redactPlainValue(value, name, kind, isSensitive);
    } else if (Array.isArray(value) && kind === 'query') {
      next = value.map((v) => (typeof v === 'string' ? redactPlainValue(v, name, kind, isSensitive) : REDACTED));
    } else if (typeof value === 'object' && value !== null) {
      next = REDACTED; // not a string: a shape no dissector produces, possibly hiding anything
    }
    if (next !== value && !sameStrings(next, value)) put(map, name, next);
  }
}

/** Values of names that are not sensitive may still carry credentials in a few known shapes. */
function redactPlainValue(value: string, name: string, kind: MapKind, isSensitive: IsSensitive): string {
  if (kind === 'headers') {
    const l = name.length;
    return (l === 7 || l === 8 || l === 16) && URL_HEADERS.has(name.toLowerCase()) ? redactUrl(value, isSensitive) : value;
  }
  if (kind === 'query') {
    // The URL rewrite also splits pairs on ";"; the map (URLSearchParams) does not, so
    // "a=1;token=x" arrives here as a -> "1;token=x".
    const semi = value.indexOf(';');
    if (semi >= 0) return value.slice(0, semi + 1) + redactParams(value.slice(semi + 1), isSensitive);
  }
  return value;
}

function sameStrings(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Assignment that stays an own data property even for "__proto__". */
function put(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}
