/** Redaction of a whole entry, in place, before it leaves the agent. */
import type { Entry } from '../../model/entry.ts';
import { redactBase64BodyText, redactBodyText } from './body-redact.ts';
import { REDACTED } from './keys.ts';
import { redactMapField, type MapRules } from './map-redact.ts';
import { NameMatcher, type IsSensitive } from './name-matcher.ts';
import { isRedirectPath } from './oauth-code.ts';
import { redactUrl } from './url-redact.ts';

export interface RedactionConfig {
  /** Added to DEFAULT_SENSITIVE_KEYS (e.g. from `--redact-keys`); normalised like them. */
  readonly extraKeys?: readonly string[];
}

export class EntryRedactor {
  /** The keys in effect (defaults + extra), normalised, for the agent's hello frame. */
  readonly keys: readonly string[];
  readonly #isSensitive: IsSensitive;
  /** For maps and headers; `codeIsSecret` is decided per request (its path). */
  readonly #rules: MapRules;
  readonly #callbackRules: MapRules;

  constructor(config?: RedactionConfig) {
    const extra = config !== null && typeof config === 'object' ? config.extraKeys : undefined;
    const matcher = new NameMatcher(Array.isArray(extra) ? extra : []);
    this.keys = matcher.keys;
    this.#isSensitive = matcher.isSensitive;
    this.#rules = { isSensitive: matcher.isSensitive, isSensitiveParam: matcher.isSensitiveParam, codeIsSecret: false };
    this.#callbackRules = { ...this.#rules, codeIsSecret: true };
  }

  /** True when a name (header, query param, cookie, form field, JSON key) is sensitive. */
  isSensitive(name: string): boolean {
    return this.#isSensitive(name);
  }

  /**
   * Redacts in place and returns the same object. Never throws. Sizes (headersSize, bodySize,
   * content.size, requestSize...) are left alone: they describe the message on the wire.
   */
  redact(entry: Entry): Entry {
    try {
      if (entry === null || typeof entry !== 'object') return entry;
      const req: unknown = entry.request;
      if (req !== null && typeof req === 'object') this.#redactRequest(req as Record<string, unknown>);
      const res: unknown = entry.response;
      if (res !== null && typeof res === 'object') this.#redactResponse(res as Record<string, unknown>);
    } catch {
      // Only reachable through hostile getters on the entry itself; each part guards itself.
    }
    return entry;
  }

  #redactRequest(req: Record<string, unknown>): void {
    const sensitive = this.#isSensitive;
    let rules = this.#rules;
    guard(req, 'path', () => {
      // A request to a redirect endpoint (".../callback?code=..."): "code" is an authorization
      // code. The path is only looked at when the target holds "code" at all.
      const url = req.url;
      if (typeof url === 'string' && url.indexOf('code') >= 0 && isRedirectPath(req.path)) rules = this.#callbackRules;
    });
    redactMapField(req, 'headers', 'headers', rules);
    redactMapField(req, 'cookies', 'cookies', rules);
    redactMapField(req, 'queryString', 'query', rules);
    guard(req, 'url', () => {
      const url = req.url;
      if (typeof url === 'string') {
        const redacted = redactUrl(url, { isSensitive: rules.isSensitiveParam, codeIsSecret: rules.codeIsSecret });
        if (redacted !== url) req.url = redacted;
      } else if (url !== null && url !== undefined) {
        req.url = REDACTED;
      }
    });
    guard(req, 'postData', () => {
      const body = req.postData;
      if (body === null || body === undefined) return;
      if (typeof body !== 'object') req.postData = { mimeType: '', text: REDACTED };
      else redactBody(body as Record<string, unknown>, sensitive);
    });
  }

  #redactResponse(res: Record<string, unknown>): void {
    const sensitive = this.#isSensitive;
    redactMapField(res, 'headers', 'headers', this.#rules);
    redactMapField(res, 'cookies', 'cookies', this.#rules);
    guard(res, 'content', () => {
      const body = res.content;
      if (body === null || body === undefined) return;
      if (typeof body !== 'object') res.content = { size: 0, mimeType: '', text: REDACTED };
      else redactBody(body as Record<string, unknown>, sensitive);
    });
  }
}

/**
 * Body text redaction. Anything unexpected while scanning replaces the whole text: a body that
 * could not be checked must not leave the agent.
 */
function redactBody(body: Record<string, unknown>, isSensitive: IsSensitive): void {
  try {
    const text = body.text;
    if (typeof text !== 'string') {
      if (text !== null && text !== undefined) body.text = REDACTED;
      return;
    }
    const redacted =
      body.encoding === 'base64'
        ? redactBase64BodyText(text, body.mimeType, isSensitive)
        : redactBodyText(text, body.mimeType, isSensitive);
    if (redacted !== text) body.text = redacted;
  } catch {
    try {
      body.text = REDACTED;
    } catch {
      // Frozen body: nothing can be changed in place.
    }
  }
}

/** Runs `work`; on any error the field is replaced whole (and a frozen owner is left alone). */
function guard(owner: Record<string, unknown>, field: string, work: () => void): void {
  try {
    work();
  } catch {
    try {
      owner[field] = REDACTED;
    } catch {
      // Frozen owner: nothing can be changed in place.
    }
  }
}
