import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameMatcher } from './name-matcher.ts';
import { decodeParamName, redactParams } from './params-redact.ts';
import { redactUrl, redactUserinfo } from './url-redact.ts';

const { isSensitive } = new NameMatcher();
const url = (u: string): string => redactUrl(u, isSensitive);
const params = (s: string): string => redactParams(s, isSensitive);

test('sensitive query values are replaced, everything else is kept in order', () => {
  assert.equal(
    url('/api/v1/items?page=2&api_key=abc123&q=a%20b+c&token=t&limit=10'),
    '/api/v1/items?page=2&api_key=[REDACTED]&q=a%20b+c&token=[REDACTED]&limit=10',
  );
  assert.equal(url('/p?token=a&token=b&x'), '/p?token=[REDACTED]&token=[REDACTED]&x');
  assert.equal(url('/p?x=1&password=&y='), '/p?x=1&password=[REDACTED]&y=');
});

test('the fragment is kept and a "?" inside it is not a query', () => {
  assert.equal(url('/cb?code=1&client_secret=s#frag?token=f'), '/cb?code=1&client_secret=[REDACTED]#frag?token=f');
  assert.equal(url('/p#a?token=1'), '/p#a?token=1');
  assert.equal(url('/p?'), '/p?');
  assert.equal(url('/plain/path'), '/plain/path');
});

test('names are form-decoded before matching: percent escapes and "+"', () => {
  assert.equal(url('/p?api%5Fkey=1&api+key=2&%70assword=3&bad%ZZ=4&%E2%82%AC=5'),
    '/p?api%5Fkey=[REDACTED]&api+key=[REDACTED]&%70assword=[REDACTED]&bad%ZZ=4&%E2%82%AC=5');
  assert.equal(decodeParamName('a%FF%5Fkey'), 'a\u00ff_key', 'invalid UTF-8 is decoded byte by byte');
  assert.equal(decodeParamName('plain'), 'plain');
});

test('a parameter without "=" is left alone; ";" also separates pairs', () => {
  assert.equal(url('/p?token&password'), '/p?token&password');
  assert.equal(url('/p?a=1;token=x;b=2'), '/p?a=1;token=[REDACTED];b=2');
  assert.equal(url('/p?a==token=x'), '/p?a==token=x', 'the name ends at the first "="');
});

test('absolute-form: userinfo password and query', () => {
  assert.equal(url('http://alice:s3cret@example.com:8080/a?token=1#f'), 'http://alice:[REDACTED]@example.com:8080/a?token=[REDACTED]#f');
  assert.equal(url('https://ghp_abc@github.com/o/r.git'), 'https://[REDACTED]@github.com/o/r.git');
  assert.equal(url('http://example.com/a@b?x=1'), 'http://example.com/a@b?x=1', '"@" in the path is not userinfo');
  assert.equal(url('http://a:b:c@h@i/'), 'http://a:[REDACTED]@i/', 'the last "@" of the authority ends the userinfo');
  assert.equal(redactUserinfo('/relative?x=http://u:p@h/'), '/relative?x=http://u:p@h/');
  assert.equal(redactUserinfo('example.com:443'), 'example.com:443');
  const once = url('http://u:p@h/?token=1');
  assert.equal(url(once), once, 'idempotent');
});

test('form-encoded bodies, including a body cut in the middle', () => {
  assert.equal(
    params('grant_type=password&username=ann&password=p%40ss&scope=read+write'),
    'grant_type=password&username=[REDACTED]&password=[REDACTED]&scope=read+write',
  );
  assert.equal(params('a=1&client_secret=abcdef'), 'a=1&client_secret=[REDACTED]');
  assert.equal(params('a=1&client_sec'), 'a=1&client_sec');
  assert.equal(params('a=1\r\n'), 'a=1\r\n');
  assert.equal(params(''), '');
  assert.equal(params('&&='), '&&=');
});
