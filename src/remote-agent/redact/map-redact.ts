/** Header, cookie and query maps: values of sensitive names become REDACTED. */
import { redactGraphql } from './graphql-redact.ts';
import { REDACTED } from './keys.ts';
import type { NameRules } from './name-matcher.ts';
import { hasOAuthCompanionName, isCodeName } from './oauth-code.ts';
import { formDecode, redactParams, type ParamRules } from './params-redact.ts';
import { redactUrl } from './url-redact.ts';
import { redactWebSocketProtocols } from './websocket-protocol.ts';

export type MapKind = 'headers' | 'cookies' | 'query';

export interface MapRules extends NameRules {
  /** Query maps: "code" is an OAuth authorization code whatever the other names (a callback path). */
  readonly codeIsSecret: boolean;
}

/**
 * Redacts `owner[field]` in place. A map that is not a plain record (array, string, Map...)
 * cannot be checked name by name, so it is replaced whole; null and undefined hold nothing.
 */
export function redactMapField(owner: object, field: string, kind: MapKind, rules: MapRules): void {
  const rec = owner as Record<string, unknown>;
  try {
    const map = rec[field];
    if (map === null || map === undefined) return;
    if (typeof map !== 'object' || Array.isArray(map) || map instanceof Map || map instanceof Set) {
      rec[field] = REDACTED;
      return;
    }
    if (kind === 'cookies') redactEveryValue(map as Record<string, unknown>);
    else if (kind === 'headers') redactHeaders(map as Record<string, unknown>, rules);
    else redactQuery(map as Record<string, unknown>, rules);
  } catch {
    try {
      rec[field] = REDACTED;
    } catch {
      // A frozen owner cannot be redacted in place; nothing more can be done without throwing.
    }
  }
}

/**
 * Cookies: every value, whatever its name. Session cookies have any name (sid, JSESSIONID,
 * SESSION, connect.sid...), and the Cookie and Set-Cookie headers holding them are hidden too.
 */
function redactEveryValue(map: Record<string, unknown>): void {
  for (const name of Object.keys(map)) if (map[name] !== REDACTED) put(map, name, REDACTED);
}

/** Headers whose value is a URL that may carry credentials in its query, fragment or userinfo. */
const URL_HEADERS = new Set(['referer', 'location', 'content-location']);
const WEBSOCKET_PROTOCOL = 'sec-websocket-protocol';

function redactHeaders(map: Record<string, unknown>, rules: MapRules): void {
  for (const name of Object.keys(map)) {
    const value = map[name];
    let next: unknown = value;
    if (rules.isSensitive(name)) next = REDACTED;
    else if (typeof value === 'string') next = redactHeaderValue(name, value, rules);
    else if (typeof value === 'object' && value !== null) next = REDACTED; // a shape no dissector produces
    if (next !== value) put(map, name, next);
  }
}

/** Values of headers that are not sensitive may still carry credentials in a few known shapes. */
function redactHeaderValue(name: string, value: string, rules: NameRules): string {
  const l = name.length;
  if (l === 7 || l === 8 || l === 16) {
    const lower = name.toLowerCase();
    // Location is a redirect: an OAuth "code" in it is an authorization code.
    if (URL_HEADERS.has(lower)) return redactUrl(value, { isSensitive: rules.isSensitiveParam, codeIsSecret: lower === 'location' });
  } else if (l === WEBSOCKET_PROTOCOL.length && name.toLowerCase() === WEBSOCKET_PROTOCOL) {
    return redactWebSocketProtocols(value, rules.isSensitive);
  }
  return value;
}

function redactQuery(map: Record<string, unknown>, rules: MapRules): void {
  const names = Object.keys(map);
  const isSensitive = rules.isSensitiveParam;
  let codeIsSecret: boolean | undefined = rules.codeIsSecret || undefined;
  for (const name of names) {
    const value = map[name];
    const decoded = name.indexOf('%') >= 0 ? formDecode(name) : name;
    const sensitive =
      isSensitive(name) || (decoded !== name && isSensitive(decoded)) || (isCodeName(decoded) && (codeIsSecret ??= hasOAuthCompanionName(names)));
    let next: unknown = value;
    if (sensitive) {
      next = Array.isArray(value) ? value.map(() => REDACTED) : REDACTED;
    } else if (typeof value === 'string') {
      next = redactQueryValue(value, decoded, rules);
    } else if (Array.isArray(value)) {
      next = value.map((v) => (typeof v === 'string' ? redactQueryValue(v, decoded, rules) : REDACTED));
    } else if (typeof value === 'object' && value !== null) {
      next = REDACTED; // not a string: a shape no dissector produces, possibly hiding anything
    }
    if (next !== value && !sameStrings(next, value)) put(map, name, next);
  }
}

/** A decoded query value: a GraphQL "query", or pairs after ";" (the map splits on "&" only). */
function redactQueryValue(value: string, name: string, rules: MapRules): string {
  if (name === 'query') return redactGraphql(value, rules.isSensitive);
  // The URL rewrite also splits pairs on ";"; the map (URLSearchParams) does not, so
  // "a=1;token=x" arrives here as a -> "1;token=x".
  const semi = value.indexOf(';');
  if (semi < 0) return value;
  const params: ParamRules = { isSensitive: rules.isSensitiveParam, codeIsSecret: rules.codeIsSecret };
  return value.slice(0, semi + 1) + redactParams(value.slice(semi + 1), params);
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

