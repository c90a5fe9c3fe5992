/**
 * The OAuth 2.0 authorization code (RFC 6749 §4.1.2): a parameter named just "code", which is
 * a one-time credential in a redirect but an ordinary value elsewhere (a product or country code).
 * It is treated as secret only where a redirect or a token request is recognisable.
 */
import { nameWords } from './name-words.ts';

/** Parameters that travel with an authorization code: the redirect's state, a token request's grant. */
const OAUTH_COMPANIONS = /(?:^|[&;?#])(?:state|session_state|grant_type|redirect_uri|code_verifier)=/;

/** Path words of redirect endpoints ("/oauth2/callback", "/login/sso", "/auth/redirect"). */
const REDIRECT_PATH_WORDS = new Set(['callback', 'oauth', 'oauth2', 'oidc', 'redirect', 'signin', 'sso', 'login']);

/** OAuth parameter names are lower case (RFC 6749 §4.1.2); "Code" is someone else's. */
export function isCodeName(name: string): boolean {
  return name === 'code';
}

/** True when a parameter list ("a=1&b=2") also carries a parameter that only OAuth sends with a code. */
export function hasOAuthCompanion(params: string): boolean {
  return OAUTH_COMPANIONS.test(params);
}

export function hasOAuthCompanionName(names: readonly string[]): boolean {
  for (const n of names) if (OAUTH_COMPANIONS.test(`${n}=`)) return true;
  return false;
}

/** True when a request path names a redirect endpoint, where "code" is an authorization code. */
export function isRedirectPath(path: unknown): boolean {
  if (typeof path !== 'string') return false;
  // The words that matter come first; a huge path is not worth splitting whole.
  for (const w of nameWords(path.length > 2048 ? path.slice(0, 2048) : path)) if (REDIRECT_PATH_WORDS.has(w)) return true;
  return false;
}
