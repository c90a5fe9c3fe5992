/**
 * Redaction of a whole entry, in place, before it leaves the agent. The entry's protocol descriptor
 * (src/remote-agent/dissect/descriptors.ts) says which of its fields are headers, cookies, query
 * maps, URLs and bodies; how each kind is redacted is defined once, here (PayloadRedactor).
 */
import type { Entry } from '../../model/entry.ts';
import type { PayloadFieldKind, PayloadRedactor } from '../../model/protocol-descriptor.ts';
import { descriptorOf } from '../dissect/descriptors.ts';
import { redactBase64BodyText, redactBodyText } from './body-redact.ts';
import { REDACTED } from './keys.ts';
import { redactMapField, type MapKind, type MapRules } from './map-redact.ts';
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
  readonly #payload: PayloadRules;

  constructor(config?: RedactionConfig) {
    const extra = config !== null && typeof config === 'object' ? config.extraKeys : undefined;
    const matcher = new NameMatcher(Array.isArray(extra) ? extra : []);
    this.keys = matcher.keys;
    this.#isSensitive = matcher.isSensitive;
    const rules: MapRules = { isSensitive: matcher.isSensitive, isSensitiveParam: matcher.isSensitiveParam, codeIsSecret: false };
    this.#payload = new PayloadRules(rules, new PayloadRules({ ...rules, codeIsSecret: true }, null));
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
      const descriptor = descriptorOf(entry);
      if (descriptor === undefined) {
        // A protocol we do not dissect (NDJSON input): its payloads cannot be checked field by
        // field, and what cannot be checked does not leave unredacted.
        replaceWhole(entry, 'request');
        replaceWhole(entry, 'response');
        return entry;
      }
      return descriptor.redact(entry, this.#payload);
    } catch {
      // Only reachable through hostile getters on the entry itself; each field guards itself.
      return entry;
    }
  }
}

/**
 * The redaction primitives a descriptor applies to its fields. `callback` holds the rules of a
 * request to an OAuth redirect endpoint (null when these are they).
 */
class PayloadRules implements PayloadRedactor {
  readonly redacted = REDACTED;
  readonly #rules: MapRules;
  readonly #callback: PayloadRules | null;

  constructor(rules: MapRules, callback: PayloadRules | null) {
    this.#rules = rules;
    this.#callback = callback;
  }

  forRequestTarget(url: unknown, path: unknown): PayloadRedactor {
    // A request to a redirect endpoint (".../callback?code=..."): "code" is an authorization
    // code. The path is only looked at when the target holds "code" at all.
    if (this.#callback !== null && typeof url === 'string' && url.indexOf('code') >= 0 && isRedirectPath(path)) return this.#callback;
    return this;
  }

  redactField(owner: object, field: string, kind: PayloadFieldKind): void {
    if (kind === 'url') this.#redactUrlField(owner as Record<string, unknown>, field);
    else if (kind === 'body') this.#redactBodyField(owner as Record<string, unknown>, field);
    else redactMapField(owner, field, kind, this.#rules);
  }

  headers(headers: Readonly<Record<string, string>>): Record<string, string> {
    return this.#copyRedacted(headers, 'headers');
  }

  params<V extends string | string[]>(params: Readonly<Record<string, V>>): Record<string, V> {
    return this.#copyRedacted(params, 'query');
  }

  url(url: string): string {
    return redactUrl(url, { isSensitive: this.#rules.isSensitiveParam, codeIsSecret: this.#rules.codeIsSecret });
  }

  body(mimeType: string, text: string, encoding?: 'base64'): string {
    try {
      return encoding === 'base64' ? redactBase64BodyText(text, mimeType, this.#rules.isSensitive) : redactBodyText(text, mimeType, this.#rules.isSensitive);
    } catch {
      return REDACTED;
    }
  }

  #copyRedacted<M extends Readonly<Record<string, unknown>>>(map: M, kind: MapKind): M {
    const holder: Record<string, unknown> = { map: { ...map } };
    redactMapField(holder, 'map', kind, this.#rules);
    return holder.map as M;
  }

  #redactUrlField(owner: Record<string, unknown>, field: string): void {
    guard(owner, field, () => {
      const url = owner[field];
      if (typeof url === 'string') {
        const redacted = this.url(url);
        if (redacted !== url) owner[field] = redacted;
      } else if (url !== null && url !== undefined) {
        owner[field] = REDACTED;
      }
    });
  }

  #redactBodyField(owner: Record<string, unknown>, field: string): void {
    guard(owner, field, () => {
      const body = owner[field];
      if (body === null || body === undefined) return;
      if (typeof body !== 'object') owner[field] = { mimeType: '', text: REDACTED };
      else redactBody(body as Record<string, unknown>, this.#rules.isSensitive);
    });
  }
}

/** A part that cannot be checked is replaced whole (a frozen owner is left alone). */
function replaceWhole(owner: object, field: string): void {
  const rec = owner as Record<string, unknown>;
  try {
    if (rec[field] !== null && rec[field] !== undefined) rec[field] = REDACTED;
  } catch {
    // Frozen owner or a throwing getter: nothing can be changed in place.
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
