import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJsonString, looksLikeJson, redactJson } from './json-redact.ts';
import { NameMatcher } from './name-matcher.ts';

const { isSensitive } = new NameMatcher();
const R = '"[REDACTED]"';
const redact = (text: string): string => redactJson(text, isSensitive);

test('string, number, literal and null values of sensitive keys', () => {
  assert.equal(
    redact('{"user":"ann","pin":1,"password":"s3cret","zip":12345,"auth":true,"token":null,"page":2}'),
    `{"user":${R},"pin":1,"password":${R},"zip":${R},"auth":${R},"token":${R},"page":2}`,
  );
  assert.equal(redact('{"key": -1.5e+3 , "ok": false}'), `{"key": ${R} , "ok": false}`);
});

test('nested objects and arrays of objects, at any depth', () => {
  const text = '{"data":{"items":[{"id":1,"apiKey":"k1"},{"id":2,"nested":{"clientSecret":"cs"}}]},"n":[1,2]}';
  assert.equal(
    redact(text),
    `{"data":{"items":[{"id":1,"apiKey":${R}},{"id":2,"nested":{"clientSecret":${R}}}]},"n":[1,2]}`,
  );
});

test('an object or array value of a sensitive key is replaced whole', () => {
  assert.equal(redact('{"auth":{"user":"a","pass":"b"},"x":1}'), `{"auth":${R},"x":1}`);
  assert.equal(redact('{"tokens":1,"token":["a",{"b":"]"}],"x":[]}'), `{"tokens":1,"token":${R},"x":[]}`);
});

test('strings holding braces, quotes, colons and escapes do not confuse the scanner', () => {
  const text = '{"note":"a } ] { [ \\" \\\\","msg":"password: x","q":"\\"token\\":","password":"p\\"}w\\\\","after":"kept"}';
  assert.equal(redact(text), `{"note":"a } ] { [ \\" \\\\","msg":"password: x","q":"\\"token\\":","password":${R},"after":"kept"}`);
});

test('keys with escapes are decoded before matching', () => {
  assert.equal(redact('{"pass\\u0077ord":"x","\\u0074oken":"y","a\\"b":"z"}'), `{"pass\\u0077ord":${R},"\\u0074oken":${R},"a\\"b":"z"}`);
  assert.equal(decodeJsonString('a\\n\\u0041\\q\\'), 'a\nAq');
});

test('formatting is kept byte for byte outside redacted values', () => {
  const text = '{\n  "a" : 1,\n\t"password"  :\n   "x" ,\n  "list": [ {"token" : {\n "deep": 1 } } ]\r\n}\n';
  assert.equal(redact(text), `{\n  "a" : 1,\n\t"password"  :\n   ${R} ,\n  "list": [ {"token" : ${R} } ]\r\n}\n`);
  const clean = '{ "a": [1, 2, {"b": "c"}],\n "d": null }';
  assert.equal(redact(clean), clean, 'nothing sensitive: the same string comes back');
});

test('a text cut inside a sensitive value hides the partial secret', () => {
  assert.equal(redact('{"a":1,"password":"hunter'), `{"a":1,"password":${R}`);
  assert.equal(redact('{"a":1,"password":"hunter\\'), `{"a":1,"password":${R}`);
  assert.equal(redact('{"a":1,"pin":123,"token":98765'), `{"a":1,"pin":123,"token":${R}`);
  assert.equal(redact('{"auth":{"user":"ann","secret":"s3'), `{"auth":${R}`);
  assert.equal(redact('[{"jwt":["aaa.bbb", "cc'), `[{"jwt":${R}`);
  assert.equal(redact('{"password":'), '{"password":');
  assert.equal(redact('{"password":  '), '{"password":  ');
});

test('a text cut inside a key or a plain value is left as is', () => {
  assert.equal(redact('{"a":"b","passw'), '{"a":"b","passw');
  assert.equal(redact('{"a":"b","password'), '{"a":"b","password');
  assert.equal(redact('{"a":"some long val'), '{"a":"some long val');
});

test('invalid JSON is scanned as far as it makes sense', () => {
  assert.equal(redact('{"password": hunter2, "a": 1}'), `{"password": ${R}, "a": 1}`);
  assert.equal(redact('{"password": hunter2 }'), `{"password": ${R} }`);
  assert.equal(redact('{"password":,"a":1}'), '{"password":,"a":1}');
  assert.equal(redact('{"token": "x" "y", "a": [}}]'), `{"token": ${R} "y", "a": [}}]`);
  assert.equal(redact('not json at all "token": 5'), `not json at all "token": ${R}`);
  assert.equal(redact(''), '');
  assert.equal(redact('"'), '"');
});

test('NDJSON: one document per line', () => {
  const text = '{"id":1,"token":"a"}\n{"id":2,"user":{"name":"b"}}\n{"id":3,"ok":true}\n';
  assert.equal(redact(text), `{"id":1,"token":${R}}\n{"id":2,"user":${R}}\n{"id":3,"ok":true}\n`);
});

test('JSON serialised inside a string value is redacted and re-encoded', () => {
  const text = JSON.stringify({ body: JSON.stringify({ password: 'hunter2', a: 1 }), n: 1 });
  const out = redact(text);
  assert.ok(!out.includes('hunter2'));
  assert.deepEqual(JSON.parse(JSON.parse(out).body), { password: '[REDACTED]', a: 1 });
  const cut = text.slice(0, text.indexOf('hunter2') + 3);
  assert.ok(!redact(cut).includes('hun'), 'cut serialised JSON');
  const inert = '{"msg":"he said \\"hi\\""}';
  assert.equal(redact(inert), inert);
});

test('looksLikeJson', () => {
  assert.equal(looksLikeJson(' \n\t{'), true);
  assert.equal(looksLikeJson('\ufeff['), true);
  assert.equal(looksLikeJson('<html>'), false);
  assert.equal(looksLikeJson('   '), false);
});

test('redacting twice gives the same text', () => {
  const once = redact('{"password":{"a":[1]},"token":"x"}');
  assert.equal(redact(once), once);
});

test('differential: 1,000 random documents, whole and cut at random points', () => {
  let seed = 7;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const SENSITIVE_KEYS = ['password', 'apiKey', 'client_secret', 'X-Auth-Token', 'user', 'my"token', 'birth\ndate', 'Zip'];
  const PLAIN_KEYS = ['a', 'name', 'items', 'monkey', 'keyboard', 'x"y', 'we{ird]', 'tokenizer', ''];
  const plainString = (): string => pick(['keep', 'ke"ep', 'k{e}e[p]', 'keep\\', 'keep\n', 'password', '"token":']);
  const value = (depth: number, secret: boolean, stringified: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.35) return secret ? pick(['SECRETMARK', 'SECRET"MARK', 987654321, true, null]) : pick([plainString(), 1.5, false, null]);
    if (r < 0.45 && stringified < 2) return JSON.stringify(value(depth + 1, secret, stringified + 1));
    if (r < 0.7) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1, secret, stringified));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 4); i > 0; i--) {
      if (rand() < 0.4) o[pick(SENSITIVE_KEYS)] = value(depth + 1, true, stringified);
      else o[pick(PLAIN_KEYS)] = value(depth + 1, secret, stringified);
    }
    return o;
  };
  const reference = (v: unknown): unknown => {
    if (typeof v === 'string' && /^\s*[{["]/.test(v)) {
      let inner: unknown;
      try {
        inner = JSON.parse(v);
      } catch {
        return v;
      }
      const redacted = JSON.stringify(reference(inner));
      return redacted === JSON.stringify(inner) ? v : redacted;
    }
    if (Array.isArray(v)) return v.map(reference);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isSensitive(k) ? '[REDACTED]' : reference(x);
    return out;
  };
  const leaks = (s: string): boolean => /SECR|MARK|98765|4321/.test(s);
  let cuts = 0;
  for (let i = 0; i < 1000; i++) {
    const doc = { top: value(0, false, 0), password: 'SECRETMARK' };
    const text = JSON.stringify(doc, null, pick([0, 2, '\t']));
    const out = redact(text);
    assert.deepEqual(JSON.parse(out), reference(doc), text);
    assert.ok(!leaks(out), text);
    for (let k = 0; k < 5; k++) {
      const cut = text.slice(0, Math.floor(rand() * text.length));
      const partial = redact(cut);
      assert.ok(!leaks(partial), `${cut}\n=> ${partial}`);
      cuts++;
    }
  }
  assert.equal(cuts, 5000);
});
