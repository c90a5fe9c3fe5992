import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEntry } from '../../../test/helpers/entries.ts';
import type { Entry } from '../../model/entry.ts';
import type { HttpEntry } from '../dissect/http1/entry.ts';
import { HTTP1_1 } from '../dissect/http1/entry.ts';
import { EntryRedactor, REDACTED } from './index.ts';

const SECRETS = [
  'Bearer eyJhbGciOi.secret-jwt', 'cookie-secret-1', 'apikey-secret-2', 'proxy-secret-3', 'query-token-secret-4',
  'qs-secret-5', 'cookie-secret-6', 'set-cookie-secret-7', 'json-password-secret-8', 'json-nested-secret-9',
  'json-array-secret-10', 'resp-token-secret-11', 'userinfo-secret-12', 'form-secret-13', 'location-secret-14',
  'ann@example.com', '+44 20 7946 0000', 'SW1A 1AA',
];
const NEIGHBOURS = ['neighbour-a', 'neighbour-c', 'neighbour-d', 'neighbour-e', 'neighbour-f', 'Mozilla/5.0 (X11)'];

const RESPONSE_HEADERS = {
  'Set-Cookie': 'authToken=set-cookie-secret-7; Path=/\nlang=en',
  Location: '/home?tab=neighbour-a&client_secret=location-secret-14',
  'Content-Type': 'text/plain',
};

function sampleEntry(): HttpEntry {
  const reqBody = JSON.stringify({
    login: { password: 'json-password-secret-8', remember: 'neighbour-c' },
    profile: { contact: { phoneNumber: '+44 20 7946 0000', address: { line1: 'x', postcode: 'SW1A 1AA' } } },
    devices: [{ name: 'neighbour-d', authToken: 'json-array-secret-10' }, { name: 'e', apiKey: { v: 'json-nested-secret-9' } }],
    email: 'neighbour-e',
  });
  const resBody = `{"access_token": "resp-token-secret-11", "scope": "neighbour-f", "user": {"email": "ann@example.com"}}`;
  return buildEntry({
    id: '1-0',
    src: { name: 'client', namespace: 'ns' },
    dst: { name: 'server', namespace: 'ns' },
    elapsedMs: 1.5,
    requestSize: 1234,
    responseSize: 567,
    method: 'POST',
    url: 'http://bob:userinfo-secret-12@api.local/login?next=neighbour-a&access_token=query-token-secret-4',
    path: '/login',
    requestHeaders: {
      Host: 'api.local',
      'User-Agent': 'Mozilla/5.0 (X11)',
      Authorization: 'Bearer eyJhbGciOi.secret-jwt',
      Cookie: 'sess=cookie-secret-1; theme=neighbour-b',
      'X-Api-Key': 'apikey-secret-2',
      'Proxy-Authorization': 'Basic proxy-secret-3',
      'Content-Type': 'application/json',
      Referer: 'http://web.local/page?token=qs-secret-5&tab=neighbour-a',
    },
    requestCookies: { sess: 'cookie-secret-1', theme: 'neighbour-b', auth_token: 'cookie-secret-6' },
    queryString: { next: 'neighbour-a', access_token: 'query-token-secret-4', token: ['qs-secret-5', 'qs-secret-5'] },
    postData: { mimeType: 'application/json; charset=utf-8', text: reqBody },
    requestHeadersSize: 321,
    status: 302,
    statusText: 'Found',
    responseHeaders: { ...RESPONSE_HEADERS },
    responseCookies: { authToken: 'set-cookie-secret-7', lang: 'en' },
    content: { size: 999, mimeType: 'text/plain', text: resBody, truncated: true },
    responseHeadersSize: 100,
    responseBodySize: 200,
  });
}

test('a whole entry: no secret survives, neighbours and sizes do', () => {
  const entry = sampleEntry();
  const sizes = [entry.requestSize, entry.responseSize, entry.request.headersSize, entry.request.bodySize,
    entry.response!.headersSize, entry.response!.bodySize, entry.response!.content.size];
  const r = new EntryRedactor();
  assert.equal(r.redact(entry), entry, 'in place, same object');
  const json = JSON.stringify(entry);
  for (const s of SECRETS) assert.ok(!json.includes(s), `leaked ${s}`);
  for (const s of NEIGHBOURS) assert.ok(json.includes(s), `lost ${s}`);
  assert.deepEqual(sizes, [entry.requestSize, entry.responseSize, entry.request.headersSize, entry.request.bodySize,
    entry.response!.headersSize, entry.response!.bodySize, entry.response!.content.size]);
  const h = entry.request.headers;
  assert.equal(h.Authorization, REDACTED);
  assert.equal(h.Cookie, REDACTED);
  assert.equal(h['X-Api-Key'], REDACTED);
  assert.equal(h['Proxy-Authorization'], REDACTED);
  assert.equal(h['User-Agent'], 'Mozilla/5.0 (X11)', 'User-Agent is exempt');
  assert.equal(h.Host, 'api.local');
  assert.equal(h.Referer, 'http://web.local/page?token=[REDACTED]&tab=neighbour-a');
  assert.equal(entry.response!.headers['Set-Cookie'], REDACTED);
  assert.equal(entry.response!.headers.Location, '/home?tab=neighbour-a&client_secret=[REDACTED]');
  // Every cookie value, listed name or not; the names stay.
  assert.deepEqual(entry.request.cookies, { sess: REDACTED, theme: REDACTED, auth_token: REDACTED });
  assert.deepEqual(entry.response!.cookies, { authToken: REDACTED, lang: REDACTED });
  assert.deepEqual(entry.request.queryString, { next: 'neighbour-a', access_token: REDACTED, token: [REDACTED, REDACTED] });
  assert.equal(entry.request.url, 'http://bob:[REDACTED]@api.local/login?next=neighbour-a&access_token=[REDACTED]');
  const body = JSON.parse(entry.request.postData!.text);
  assert.deepEqual(body.login, { password: REDACTED, remember: 'neighbour-c' });
  assert.deepEqual(body.devices, [{ name: 'neighbour-d', authToken: REDACTED }, { name: 'e', apiKey: REDACTED }]);
  assert.equal(body.profile.contact.phoneNumber, REDACTED);
  assert.equal(body.profile.contact.address, REDACTED);
  assert.equal(JSON.parse(entry.response!.content.text).user, REDACTED, 'JSON recognised by its first character');
  const again = JSON.stringify(r.redact(entry));
  assert.equal(again, JSON.stringify(entry), 'idempotent');
});

function minimalEntry(): HttpEntry {
  const e = sampleEntry();
  e.request.headers = {};
  e.request.cookies = {};
  e.request.queryString = {};
  e.request.url = '/';
  e.request.postData = null;
  e.response!.headers = {};
  e.response!.cookies = {};
  e.response!.content = { size: 0, mimeType: '', text: '' };
  return e;
}

test('headers: every sensitive name, whatever its spelling; others untouched', () => {
  const e = minimalEntry();
  e.request.headers = {
    authorization: 'a', 'X-AUTH-TOKEN': 'b', 'x-api-key': 'c', 'X-Client-Id': 'd', 'X-Request-Id': 'keep-1',
    Accept: 'keep-2', ':authority': 'keep-3', __proto__: 'keep-4',
  } as never;
  Object.defineProperty(e.request.headers, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
  new EntryRedactor().redact(e);
  assert.deepEqual({ ...e.request.headers }, {
    authorization: REDACTED, 'X-AUTH-TOKEN': REDACTED, 'x-api-key': REDACTED, 'X-Client-Id': REDACTED,
    'X-Request-Id': 'keep-1', Accept: 'keep-2', ':authority': 'keep-3', ['__proto__']: 'x',
  });
  assert.equal(Object.getPrototypeOf(e.request.headers), Object.prototype);
});

test('extra keys reach every part of the entry', () => {
  const e = minimalEntry();
  e.request.headers = { 'X-Tenant-Id': 's1' };
  e.request.url = '/?tenant_id=s2';
  e.request.queryString = { tenant_id: 's2' };
  e.request.postData = { mimeType: 'application/json', text: '{"tenantId":"s3"}' };
  new EntryRedactor({ extraKeys: ['tenant-id'] }).redact(e);
  const json = JSON.stringify(e);
  for (const s of ['s1', 's2', 's3']) assert.ok(!json.includes(`"${s}"`) && !json.includes(`=${s}`), s);
});

test('every cookie value is hidden, listed name or not; the names stay', () => {
  const e = minimalEntry();
  e.request.cookies = { sid: 'v1', JSESSIONID: 'v2', SESSION: 'v3', csrftoken: 'v4', theme: 'dark', empty: '' };
  e.response!.cookies = { sessionid: 'v5', 'connect.sid': 's%3Av6', lang: 'en' };
  new EntryRedactor().redact(e);
  assert.deepEqual(e.request.cookies, { sid: REDACTED, JSESSIONID: REDACTED, SESSION: REDACTED, csrftoken: REDACTED, theme: REDACTED, empty: REDACTED });
  assert.deepEqual(e.response!.cookies, { sessionid: REDACTED, 'connect.sid': REDACTED, lang: REDACTED });
});

test('the added names reach headers, URL, query map and bodies; "sig" and "code" only where they are secrets', () => {
  const e = minimalEntry();
  e.request.headers = { 'X-Secret': 'a1', 'X-Api-Secret': 'a2', 'X-Hub-Signature-256': 'sha256=a3', 'X-Amz-Security-Token': 'a4', 'X-Amz-Date': 'keep-1' };
  e.request.path = '/oauth2/callback';
  e.request.url = '/oauth2/callback?code=a5&sig=a6&X-Amz-Credential=a7&X-Amz-Signature=a8&apikey=a9&view=keep-2';
  e.request.queryString = { code: 'a5', sig: 'a6', 'X-Amz-Credential': 'a7', 'X-Amz-Signature': 'a8', apikey: 'a9', view: 'keep-2' };
  e.request.postData = { mimeType: 'application/x-www-form-urlencoded', text: 'passwd=b1&pwd=b2&credentials=b3&sig=keep-3&code=keep-4' };
  e.response!.headers = { 'X-Session-Id': 'b4', Location: '/next?code=b5' };
  e.response!.content = { size: 9, mimeType: 'application/json', text: '{"secret":"b6","sessionId":"b7","signature":"b8","code":"keep-5"}' };
  new EntryRedactor().redact(e);
  const json = JSON.stringify(e);
  for (const s of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8']) assert.ok(!json.includes(s), `leaked ${s}`);
  for (const k of ['keep-1', 'keep-2', 'keep-3', 'keep-4', 'keep-5']) assert.ok(json.includes(k), `lost ${k}`);
  assert.equal(e.request.url, '/oauth2/callback?code=[REDACTED]&sig=[REDACTED]&X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&apikey=[REDACTED]&view=keep-2');

  const shop = minimalEntry();
  shop.request.path = '/products';
  shop.request.url = '/products?code=SKU1&sig=x';
  shop.request.queryString = { code: 'SKU1', sig: 'x' };
  new EntryRedactor().redact(shop);
  assert.deepEqual(shop.request.queryString, { code: 'SKU1', sig: REDACTED }, 'a product code is not an authorization code');
  assert.equal(shop.request.url, '/products?code=SKU1&sig=[REDACTED]');
});

test('fragments of the URL and of Location, Referer, Content-Location; WebSocket subprotocols', () => {
  const e = minimalEntry();
  e.request.url = '/p?x=1#access_token=c1&state=keep-1';
  e.request.headers = { Referer: 'https://app/home#access_token=c2', 'Sec-WebSocket-Protocol': 'base64url.bearer.authorization.k8s.io.c3, v4.channel.k8s.io' };
  e.response!.status = 302;
  e.response!.headers = {
    Location: 'https://app/cb#access_token=c4&token_type=Bearer&expires_in=3600&state=keep-2',
    'Content-Location': '/spa/#/reset?token=c5&lang=keep-3',
    'sec-websocket-protocol': 'access_token, c6',
  };
  new EntryRedactor().redact(e);
  const json = JSON.stringify(e);
  for (const s of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) assert.ok(!json.includes(s), `leaked ${s}`);
  assert.equal(e.request.url, '/p?x=1#access_token=[REDACTED]&state=keep-1');
  assert.equal(e.request.headers['Sec-WebSocket-Protocol'], 'base64url.bearer.authorization.k8s.io.[REDACTED], v4.channel.k8s.io');
  assert.equal(e.response!.headers.Location, 'https://app/cb#access_token=[REDACTED]&token_type=[REDACTED]&expires_in=3600&state=keep-2');
  assert.equal(e.response!.headers['Content-Location'], '/spa/#/reset?token=[REDACTED]&lang=keep-3');
  assert.equal(e.response!.headers['sec-websocket-protocol'], 'access_token, [REDACTED]');
});

test('XML, HTML and GraphQL bodies, also without a telling media type', () => {
  const r = new EntryRedactor();
  const e = minimalEntry();
  e.request.postData = { mimeType: 'text/xml; charset=utf-8', text: '<login><password>d1</password><remember>keep-1</remember></login>' };
  e.response!.content = { size: 1, mimeType: 'text/html', text: '<form><input type="hidden" name="csrf_token" value="d2"><input name="q" value="keep-2"></form>' };
  r.redact(e);
  assert.equal(e.request.postData.text, '<login><password>[REDACTED]</password><remember>keep-1</remember></login>');
  assert.equal(e.response!.content.text, '<form><input type="hidden" name="csrf_token" value="[REDACTED]"><input name="q" value="keep-2"></form>');
  e.request.postData = { mimeType: '', text: '  <Account token="d3"/>' };
  e.response!.content = { size: 1, mimeType: 'application/graphql', text: 'mutation { login(password: "d4") { ok } }' };
  r.redact(e);
  assert.equal(e.request.postData.text, '  <Account token="[REDACTED]"/>');
  assert.equal(e.response!.content.text, 'mutation { login(password: "[REDACTED]") { ok } }');
  e.request.postData = { mimeType: 'application/soap+xml', text: '<a><credential>d5', truncated: true };
  r.redact(e);
  assert.equal(e.request.postData.text, '<a><credential>[REDACTED]', 'a cut body');
});

test('form, multipart and base64 bodies', () => {
  const r = new EntryRedactor();
  const e = minimalEntry();
  e.request.postData = { mimeType: 'application/x-www-form-urlencoded', text: 'user=ann&password=pw&remember=1' };
  r.redact(e);
  assert.equal(e.request.postData.text, 'user=[REDACTED]&password=[REDACTED]&remember=1');

  const mp = '--b1\r\nContent-Disposition: form-data; name="password"\r\n\r\npw\r\n--b1\r\nContent-Disposition: form-data; name="x"\r\n\r\nkeep\r\n--b1--\r\n';
  e.request.postData = { mimeType: 'multipart/form-data; boundary=b1', text: mp, truncated: true };
  r.redact(e);
  assert.equal(e.request.postData.text, mp.replace('\r\npw\r\n', '\r\n[REDACTED]\r\n'));

  // A binary file made the whole body base64; the password part is still found.
  const bin = Buffer.concat([Buffer.from('--b1\r\nContent-Disposition: form-data; name="file"\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x00, 0x80]),
    Buffer.from('\r\n--b1\r\nContent-Disposition: form-data; name="password"\r\n\r\npw-secret\r\n--b1--\r\n')]);
  e.request.postData = { mimeType: 'multipart/form-data; boundary=b1', text: bin.toString('base64'), encoding: 'base64' };
  r.redact(e);
  const out = Buffer.from(e.request.postData.text, 'base64');
  assert.ok(!out.includes('pw-secret'));
  assert.ok(out.subarray(0, bin.indexOf('\r\n--b1\r\n')).equals(bin.subarray(0, bin.indexOf('\r\n--b1\r\n'))), 'binary bytes kept');

  const png = Buffer.from('{"token":"t"}').toString('base64');
  e.response!.content = { size: 13, mimeType: 'image/png', text: png, encoding: 'base64' };
  r.redact(e);
  assert.equal(e.response!.content.text, png, 'other base64 bodies are left alone');

  e.response!.content = { size: 20, mimeType: 'application/problem+json', text: '  {"jwt": "x"}' };
  r.redact(e);
  assert.equal(e.response!.content.text, '  {"jwt": "[REDACTED]"}');
  e.response!.content = { size: 20, mimeType: 'text/html', text: '<p>"token": 1</p>' };
  r.redact(e);
  assert.equal(e.response!.content.text, '<p>"token": 1</p>', 'text outside tags is kept');
  e.request.postData = { mimeType: 'text/plain;charset=UTF-8', text: 'user=ann&password=pw\n' };
  r.redact(e);
  assert.equal(e.request.postData.text, 'user=[REDACTED]&password=[REDACTED]', 'fetch() sends string bodies as text/plain');
  e.request.postData = { mimeType: '', text: 'token=t' };
  r.redact(e);
  assert.equal(e.request.postData.text, 'token=[REDACTED]', 'no media type');
  e.request.postData = { mimeType: 'text/plain', text: 'Dear user, password=x is in a sentence' };
  r.redact(e);
  assert.equal(e.request.postData.text, 'Dear user, password=x is in a sentence', 'prose is not a form');
  e.response!.content = { size: 20, mimeType: 'application/x-ndjson', text: '"a"\n{"pass": 1}' };
  r.redact(e);
  assert.equal(e.response!.content.text, '"a"\n{"pass": "[REDACTED]"}');
});

test('maps that are not records are replaced whole; null bodies stay null', () => {
  const e = minimalEntry() as unknown as { request: Record<string, unknown>; response: Record<string, unknown> };
  e.request.headers = ['Authorization', 'secret'];
  e.request.cookies = 'sid=secret';
  e.request.queryString = new Map([['token', 'secret']]);
  e.request.url = { href: 'secret' };
  e.request.postData = null;
  e.response.headers = null;
  e.response.cookies = { sid: { nested: 'secret' }, n: 5 };
  e.response.content = { size: 1, mimeType: 'application/json', text: { token: 'secret' } };
  new EntryRedactor().redact(e as unknown as HttpEntry);
  assert.equal(e.request.headers, REDACTED);
  assert.equal(e.request.cookies, REDACTED);
  assert.equal(e.request.queryString, REDACTED);
  assert.equal(e.request.url, REDACTED);
  assert.equal(e.request.postData, null);
  assert.equal(e.response.headers, null);
  assert.deepEqual(e.response.cookies, { sid: REDACTED, n: REDACTED });
  assert.equal((e.response.content as { text: unknown }).text, REDACTED);
  assert.ok(!JSON.stringify(e).includes('secret'));
});

test('a body whose scan throws is replaced whole; a failing map is replaced or left', () => {
  const hostile = minimalEntry();
  Object.defineProperty(hostile.request, 'headers', { get: () => { throw new Error('boom'); }, set: () => { throw new Error('no'); } });
  hostile.request.postData = { mimeType: 'application/json', text: '{"password":"x"}' };
  Object.defineProperty(hostile.request.postData, 'mimeType', { get: () => { throw new Error('boom'); } });
  assert.doesNotThrow(() => new EntryRedactor().redact(hostile));
  assert.equal(hostile.request.postData!.text, REDACTED);
});

test('frozen or garbage entries do not throw', () => {
  const r = new EntryRedactor();
  const frozen = sampleEntry();
  Object.freeze(frozen.request.headers);
  Object.freeze(frozen.request);
  assert.doesNotThrow(() => r.redact(frozen));
  for (const g of [null, undefined, 0, 'x', [], {}, { request: 5 }, { request: {}, response: 'x' }]) {
    assert.equal(r.redact(g as never), g);
  }
});

test('an entry of a protocol no descriptor describes: request and response are replaced whole', () => {
  const e = { ...minimalEntry(), protocol: { name: 'ldap', version: '3', abbr: 'LDAP' }, request: { bind: 'cn=admin secret' }, response: { value: 'token' } } as unknown as HttpEntry;
  const out = new EntryRedactor().redact(e);
  assert.equal(out, e, 'in place');
  assert.equal(out.request, REDACTED);
  assert.equal(out.response, REDACTED);
  const unanswered = { ...minimalEntry(), protocol: { name: 'ldap' }, request: { bind: 'x' }, response: null } as unknown as HttpEntry;
  assert.equal(new EntryRedactor().redact(unanswered).response, null, 'nothing to hide stays nothing');
});

test('a Redis entry of Kubeshark\'s shape (read back, no argument list): a command that may carry a credential keeps only its name', () => {
  const e = { ...minimalEntry(), protocol: { name: 'redis', version: '3', abbr: 'REDIS' }, request: { type: 'request', command: 'AUTH secret', key: 'secret', value: '' }, response: { type: 'response', value: 'OK' } } as unknown as HttpEntry;
  const out = new EntryRedactor().redact(e) as unknown as { request: Record<string, unknown> };
  assert.ok(!JSON.stringify(out).includes('secret'));
  assert.deepEqual(out.request, { type: 'request', command: 'AUTH', key: REDACTED, value: REDACTED });
});

/** Deterministic generator so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('2,000 random entries with garbage in every field never throw', () => {
  const rand = rng(42);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const ALPHABET = 'aZ09_-. ="\'{}[]:,\\/?&;%+#@\r\n\t\u0000\u00e9\u{1f600}';
  const WORDS = ['token', 'password', 'key', 'user', 'auth', 'x', '{', '}', '[', ']', '"', ':', ',', '\\"', '\\u00', '--b', '\r\n', '=', '&', '%5F', 'null', '1e5'];
  const str = (): string => {
    const mode = rand();
    if (mode < 0.004) return 'x'.repeat(Math.floor(rand() * 1_000_000));
    let s = '';
    const len = Math.floor(rand() * 60);
    for (let i = 0; i < len; i++) s += rand() < 0.5 ? pick(WORDS) : ALPHABET[Math.floor(rand() * ALPHABET.length)];
    return s;
  };
  const json = (depth: number): string => {
    if (depth > 3 || rand() < 0.3) return pick(['1', 'true', 'null', JSON.stringify(str()), '"' + str()]);
    const keys = Math.floor(rand() * 4);
    const parts: string[] = [];
    for (let i = 0; i < keys; i++) parts.push(`${JSON.stringify(pick([...WORDS, str()]))}: ${json(depth + 1)}`);
    return rand() < 0.5 ? `{${parts.join(', ')}}` : `[${parts.join(',')}]`;
  };
  const garbage = (): unknown => pick<() => unknown>([
    () => null, () => undefined, () => 42, () => str(), () => [str(), 1], () => ({ [str()]: str() }), () => ({ token: [str(), null] }),
    () => new Map(), () => Symbol('s'), () => ({ [pick(WORDS)]: { deep: str() } }),
  ])();
  const map = (): unknown => {
    if (rand() < 0.2) return garbage();
    const m: Record<string, unknown> = {};
    const n = Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) m[rand() < 0.5 ? pick(WORDS) + str() : str()] = rand() < 0.8 ? str() : garbage();
    return m;
  };
  const body = (): unknown => {
    if (rand() < 0.15) return garbage();
    const mime = pick([
      'application/json', 'multipart/form-data; boundary=b', 'multipart/form-data', 'application/x-www-form-urlencoded',
      'text/plain', '', str(), 7,
    ]);
    const multipart = `--b\r\nContent-Disposition: form-data; name="${pick(WORDS)}"\r\n\r\n${str()}\r\n--b--`;
    const roll = rand();
    const text =
      roll < 0.5 ? json(0).slice(0, Math.floor(rand() * 200))
      : roll < 0.75 ? multipart.slice(0, Math.floor(rand() * 80))
      : roll < 0.95 ? str()
      : garbage();
    return { mimeType: mime, text, encoding: pick([undefined, 'base64', str()]), truncated: rand() < 0.5, size: 3 };
  };
  const r = new EntryRedactor({ extraKeys: [str(), 'tenant-id'] });
  for (let i = 0; i < 2000; i++) {
    const entry = {
      id: str(),
      // Mostly HTTP (its descriptor redacts field by field), sometimes a protocol without one.
      protocol: rand() < 0.9 ? HTTP1_1 : pick([garbage(), { name: str() }]),
      request: rand() < 0.05
        ? garbage()
        : { url: rand() < 0.8 ? str() : garbage(), headers: map(), cookies: map(), queryString: map(), postData: body() },
      response: rand() < 0.1 ? garbage() : { headers: map(), cookies: map(), content: body() },
    };
    assert.doesNotThrow(() => r.redact(entry as unknown as HttpEntry), `entry ${i}`);
  }
});
