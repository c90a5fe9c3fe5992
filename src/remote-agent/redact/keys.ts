/** The redaction placeholder and the default lists of sensitive names (docs/redaction.md). */

export const REDACTED = '[REDACTED]';

/**
 * Compared against the words of a name and against runs of consecutive words joined, so the
 * entries are single lower-case tokens without separators ("clientsecret" catches
 * "client_secret", "clientSecret" and "X-Client-Secret").
 */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = Object.freeze([
  'token',
  'authorization',
  'authentication',
  'cookie',
  'userid',
  'password',
  'username',
  'user',
  'key',
  'passcode',
  'pass',
  'auth',
  'authtoken',
  'jwt',
  'bearer',
  'clientid',
  'clientsecret',
  'redirecturi',
  'phonenumber',
  'zip',
  'zipcode',
  'address',
  'country',
  'firstname',
  'lastname',
  'middlename',
  'fname',
  'lname',
  'birthdate',
  // Added after the Mizu list: names it missed that carry credentials in practice.
  'pwd',
  'passwd',
  'secret',
  'apikey',
  'credential',
  'credentials',
  'session',
  'sessionid',
  'signature',
  'csrf',
  'xsrf',
  'csrfmiddlewaretoken',
]);

/**
 * Sensitive only as URL query (and fragment) parameter names, where they are signed-URL
 * credentials (Azure SAS "sig"); elsewhere the word is too short and too common to hide.
 */
export const QUERY_ONLY_KEYS: readonly string[] = Object.freeze(['sig']);

/**
 * Keys as given on a command line: comma lists, possibly repeated ("a,b" "c" -> a, b, c), blanks
 * dropped. Shared by the agent, `read` and `tap` so all three accept the same spelling.
 */
export function splitKeyList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((k) => k.trim()).filter((k) => k !== '');
}

/**
 * A configured key as the matcher stores it: lower case, separators dropped. Every ASCII
 * character that is not a letter or digit is dropped, not only "-_. ", because names are split on
 * all of them: a key keeping one could never match.
 */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/g, '');
}
