/**
 * Credentials must never reach the terminal, a CI log or `-o json`: errors quote what they choke on,
 * and node-fetch quotes a whole header value it refuses ("Bearer <token>\n is not a legal HTTP
 * header value"). Every message tap prints passes through one SecretScrubber, which removes
 *
 * - what follows `Bearer` / `Basic` (an Authorization value, wherever it is quoted),
 * - `Authorization:` header echoes up to the end of the line,
 * - every credential the kubeconfig holds or a plugin handed out (tokens, passwords, token files'
 *   contents), whole and as the runs left between control characters or spaces, since a message
 *   may have dropped, escaped or split at the very byte that made the value illegal.
 */

export const SCRUBBED = '[redacted]';

/** Shorter runs of a secret are not scrubbed on their own: they would eat ordinary words. */
const MIN_FRAGMENT = 4;

const AUTH_HEADER = /\b((?:proxy-)?authorization)(\s*[:=]\s*)[^\r\n]*/gi;
// A token68 or anything else up to whitespace (control bytes included: they made the value illegal).
const BEARER = /\b(bearer)(\s+)(?!\[redacted\])\S+/gi;
const BASIC = /\b(basic)(\s+)(?!\[redacted\])[A-Za-z0-9+/]{4,}=*/gi;

/** Removes Authorization values and the given secrets from a message. */
export function scrubCredentials(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(AUTH_HEADER, `$1$2${SCRUBBED}`).replace(BEARER, `$1$2${SCRUBBED}`).replace(BASIC, `$1$2${SCRUBBED}`);
  // Longest first, so a fragment never leaves the rest of a longer match behind.
  const sorted = [...new Set(secrets)].filter((s) => s.length >= MIN_FRAGMENT).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join(SCRUBBED);
  return out;
}

/** The pieces of a secret that may show up in a message on their own. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret, secret.trim()]);
  // C0 controls, DEL and whitespace: where a value turns illegal or a message breaks it.
  for (const run of secret.split(/[\s\x00-\x1f\x7f]+/)) forms.add(run);
  return [...forms].filter((f) => f.length >= MIN_FRAGMENT);
}

/** The credentials of one loaded kubeconfig, growing as plugins hand out tokens. */
export class SecretScrubber {
  readonly #secrets = new Set<string>();

  /** Remembers a credential (and its fragments); empty and very short values are ignored. */
  remember(secret: string | undefined | null): void {
    if (!secret) return;
    for (const form of secretForms(secret)) this.#secrets.add(form);
  }

  scrub(text: string): string {
    return scrubCredentials(text, this.#secrets);
  }
}
