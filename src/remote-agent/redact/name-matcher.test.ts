import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SENSITIVE_KEYS, EntryRedactor, REDACTED } from './index.ts';
import { normaliseKey, QUERY_ONLY_KEYS, splitKeyList } from './keys.ts';
import { NameMatcher } from './name-matcher.ts';
import { nameWords } from './name-words.ts';

test('the public constants', () => {
  assert.equal(REDACTED, '[REDACTED]');
  assert.equal(DEFAULT_SENSITIVE_KEYS.length, 41);
  assert.equal(DEFAULT_SENSITIVE_KEYS[0], 'token');
  assert.equal(DEFAULT_SENSITIVE_KEYS[28], 'birthdate', 'the Mizu list first, in its order');
  assert.equal(DEFAULT_SENSITIVE_KEYS.at(-1), 'csrfmiddlewaretoken');
  assert.ok(Object.isFrozen(DEFAULT_SENSITIVE_KEYS));
  assert.deepEqual(QUERY_ONLY_KEYS, ['sig']);
});

test('names are split on separators, case changes, acronyms and digits', () => {
  assert.deepEqual(nameWords('XMLHttpRequest'), ['xml', 'http', 'request']);
  assert.deepEqual(nameWords('userID'), ['user', 'id']);
  assert.deepEqual(nameWords('X-Api-Key'), ['x', 'api', 'key']);
  assert.deepEqual(nameWords('my_client.secret value'), ['my', 'client', 'secret', 'value']);
  assert.deepEqual(nameWords('password2'), ['password', '2']);
  assert.deepEqual(nameWords('oauth2Token'), ['oauth', '2', 'token']);
  assert.deepEqual(nameWords('APIKey'), ['api', 'key']);
  assert.deepEqual(nameWords('user[password]'), ['user', 'password']);
  assert.deepEqual(nameWords('__--..'), []);
  assert.deepEqual(nameWords('ÉtéKey'), ['été', 'key']);
});

const SENSITIVE = [
  'X-Api-Key', 'x-api-key', 'X-API-KEY', 'authToken', 'AUTH_TOKEN', 'auth-token', 'client_secret', 'clientSecret',
  'client_id', 'redirect_uri', 'redirectUri', 'phone-number', 'phoneNumber', 'ZipCode', 'zip', 'first.name',
  'firstName', 'last_name', 'Set-Cookie', 'Cookie', 'Authorization', 'Proxy-Authorization', 'X-Auth-Token',
  'access_token', 'refresh-token', 'userID', 'userId', 'user_id', 'password', 'password2', 'Password', 'passcode',
  'jwt', 'Bearer', 'birth_date', 'birthDate', 'my_client_secret_value', 'X-Amz-Security-Token', 'private_key',
  'billing address', 'Country', 'user[password]', 'api+key', 'Sec-WebSocket-Key', 'Authentication', 'authorizationCode',
];
/** Names the Mizu list missed (issue 10, item 4). */
const ADDED = [
  'pwd', 'PWD', 'passwd', 'X-Passwd', 'secret', 'X-Secret', 'X-Api-Secret', 'apiSecret', 'apikey', 'X-APIKEY', 'X-Apikey',
  'credential', 'credentials', 'X-Amz-Credential', 'X-Goog-Credential', 'session', 'X-Session', 'sessionid', 'SESSIONID',
  'signature', 'X-Amz-Signature', 'X-Hub-Signature', 'X-Hub-Signature-256', 'X-Goog-Signature', 'Signature', 'csrf', '_csrf',
  'X-CSRF', 'xsrf', 'X-XSRF-TOKEN', 'csrfmiddlewaretoken',
];
const NOT_SENSITIVE = [
  'monkey', 'keyboard', 'authority', ':authority', 'content-type', 'Content-Length', 'accept', 'host',
  'x-request-id', 'tokenizer', 'User-Agent', 'user-agent', 'userAgent', 'theme', 'page', 'limit', 'q', 'passthrough',
  'bypass', 'gzip', 'WWW-Authenticate', 'authorities', 'keys', 'tokens', '', 'X-Forwarded-For',
  // Near misses of the added names: other words, or short words kept out of the general list.
  'secretary', 'sessions', 'signal', 'design', 'signed', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Algorithm', 'sig',
  'code', 'codec', 'promo_code', 'pwdx', 'credentialing', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Accept',
];

test('sensitive names', () => {
  const r = new EntryRedactor();
  for (const name of SENSITIVE) assert.equal(r.isSensitive(name), true, name);
});

test('the added names are sensitive (they were not before)', () => {
  const r = new EntryRedactor();
  assert.deepEqual(ADDED.filter((name) => !r.isSensitive(name)), []);
});

test('query-only keys: "sig" is sensitive as a URL parameter only', () => {
  const m = new NameMatcher();
  for (const name of ['sig', 'x-sig', 'Sig']) {
    assert.equal(m.isSensitiveParam(name), true, name);
    assert.equal(m.isSensitive(name), false, name);
  }
  for (const name of ['signal', 'sigma', 'page']) assert.equal(m.isSensitiveParam(name), false, name);
  for (const name of [...SENSITIVE, ...ADDED]) assert.equal(m.isSensitiveParam(name), true, name);
});

test('--redact-keys lists: commas and repeats, blanks dropped', () => {
  assert.deepEqual(splitKeyList(['a,b', ' c ', '', ',d,,']), ['a', 'b', 'c', 'd']);
  assert.deepEqual(splitKeyList([]), []);
});

test('names that are not sensitive', () => {
  const r = new EntryRedactor();
  for (const name of NOT_SENSITIVE) assert.equal(r.isSensitive(name), false, name);
});

test('cached answers stay right, also after the cache is cleared', () => {
  const r = new EntryRedactor();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 25_000; i++) {
      assert.equal(r.isSensitive(`field${i}`), false);
      if (i % 1000 === 0) assert.equal(r.isSensitive(`token${i}`), true);
    }
    assert.equal(r.isSensitive('X-Api-Key'), true);
    assert.equal(r.isSensitive('monkey'), false);
  }
  assert.equal(r.isSensitive(`${'a'.repeat(100_000)}_password`), true, 'long names are decided, not cached');
});

test('extra keys are normalised and matched like the defaults', () => {
  const r = new EntryRedactor({ extraKeys: ['tenant-id', 'X_Tenant.Region', ' ', 'TOKEN'] });
  assert.equal(r.isSensitive('X-Tenant-Id'), true);
  assert.equal(r.isSensitive('tenantId'), true);
  assert.equal(r.isSensitive('tenant_id'), true);
  assert.equal(r.isSensitive('tenant'), false);
  assert.equal(r.isSensitive('tenantRegion'), false, 'the key is the whole run x+tenant+region');
  assert.equal(r.isSensitive('x-tenant-region'), true);
  assert.deepEqual(r.keys, [...DEFAULT_SENSITIVE_KEYS, 'tenantid', 'xtenantregion']);
  assert.deepEqual(new EntryRedactor().keys, DEFAULT_SENSITIVE_KEYS);
  assert.equal(normaliseKey('Redirect_URI'), 'redirecturi');
});

test('an extra key equal to an exemption lifts it', () => {
  assert.equal(new EntryRedactor({ extraKeys: ['authority'] }).isSensitive(':authority'), true);
  assert.equal(new EntryRedactor({ extraKeys: ['user-agent'] }).isSensitive('User-Agent'), true);
});

test('odd configuration and names do not throw', () => {
  const odd = [undefined, null, {}, { extraKeys: null }, { extraKeys: 'token' }, { extraKeys: [1, null, 'pin'] }];
  for (const config of odd) {
    const r = new EntryRedactor(config as never);
    assert.equal(r.isSensitive(42 as never), false);
    assert.equal(r.isSensitive('password'), true);
  }
  assert.equal(new EntryRedactor({ extraKeys: [1, null, 'pin'] as never }).isSensitive('PIN'), true);
});
