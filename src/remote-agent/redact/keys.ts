/** The redaction placeholder and the default list of sensitive names. */

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
]);

/**
 * A configured key as the matcher stores it: lower case, separators dropped. Every ASCII
 * character that is not a letter or digit is dropped, not only "-_. ", because names are split on
 * all of them: a key keeping one could never match.
 */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/g, '');
}
