import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameMatcher } from './name-matcher.ts';
import { formDecode, redactParams } from './params-redact.ts';
import { redactUrl, redactUserinfo } from './url-redact.ts';

const { isSensitive, isSensitiveParam } = new NameMatcher();
const url = (u: string): string => redactUrl(u, { isSensitive: isSensitiveParam, codeIsSecret: false });
const params = (s: string): string => redactParams(s, { isSensitive, codeIsSecret: false });

test('sensitive query values are replaced, everything else is kept in order', () => {
  assert.equal(
    url('/api/v1/items?page=2&api_key=abc123&q=a%20b+c&token=t&limit=10'),
    '/api/v1/items?page=2&api_key=[REDACTED]&q=a%20b+c&token=[REDACTED]&limit=10',
  );
  assert.equal(url('/p?token=a&token=b&x'), '/p?token=[REDACTED]&token=[REDACTED]&x');
  assert.equal(url('/p?x=1&password=&y='), '/p?x=1&password=[REDACTED]&y=');
});

test('fragment parameters: OAuth implicit flow, hash routes; other fragments are kept', () => {
  assert.equal(url('https://app/cb#access_token=t1&token_type=Bearer&expires_in=3600&state=s'),
    'https://app/cb#access_token=[REDACTED]&token_type=[REDACTED]&expires_in=3600&state=s');
  assert.equal(url('/spa/#/reset-password?token=t2&lang=en'), '/spa/#/reset-password?token=[REDACTED]&lang=en', 'a hash route: parameters after its "?"');
  assert.equal(url('/cb?code=1&client_secret=s#frag?token=f'), '/cb?code=1&client_secret=[REDACTED]#frag?token=[REDACTED]');
  assert.equal(url('/p#id_token=a;access_token=b'), '/p#id_token=[REDACTED];access_token=[REDACTED]');
  assert.equal(url('/p#section-2'), '/p#section-2');
  assert.equal(url('/p#a?b'), '/p#a?b');
  assert.equal(url('/p?'), '/p?');
  assert.equal(url('/plain/path'), '/plain/path');
  const once = url('/cb?x=1#access_token=t&state=s');
  assert.equal(url(once), once, 'idempotent');
});

test('"sig" is a URL parameter secret; "code" is one in a redirect or next to OAuth parameters', () => {
  assert.equal(url('/blob?sv=2022-11-02&sp=r&sig=abc%2Bdef'), '/blob?sv=2022-11-02&sp=r&sig=[REDACTED]');
  assert.equal(params('sig=abc&x=1'), 'sig=abc&x=1', 'not in a form body');
  assert.equal(url('/cb?code=c1&state=xyz'), '/cb?code=[REDACTED]&state=xyz');
  assert.equal(url('/cb?iss=x&session_state=q&code=c1'), '/cb?iss=x&session_state=[REDACTED]&code=[REDACTED]', 'Keycloak: session_state is a session id too');
  assert.equal(url('/products?code=US&page=2'), '/products?code=US&page=2', 'a product or country code stays');
  assert.equal(redactUrl('/products?code=c1', { isSensitive: isSensitiveParam, codeIsSecret: true }), '/products?code=[REDACTED]', 'Location, callback paths');
  assert.equal(redactUrl('https://rp/cb#code=c2&id_token=t', { isSensitive: isSensitiveParam, codeIsSecret: true }), 'https://rp/cb#code=[REDACTED]&id_token=[REDACTED]');
  assert.equal(params('grant_type=authorization_code&code=c3&redirect_uri=x'), 'grant_type=authorization_code&code=[REDACTED]&redirect_uri=[REDACTED]');
  assert.equal(params('code=c4&state=s'), 'code=[REDACTED]&state=s', 'OIDC form_post response');
  assert.equal(params('code=A1&qty=2'), 'code=A1&qty=2');
  assert.equal(url('/dl?X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=abc&X-Amz-Date=1&X-Amz-SignedHeaders=host'),
    '/dl?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Date=1&X-Amz-SignedHeaders=host');
});

test('a GraphQL "query" parameter: sensitive arguments redacted, the value re-encoded', () => {
  const q = encodeURIComponent('{ viewer(token: "t9") { name } }');
  assert.equal(url(`/graphql?query=${q}&op=V`), `/graphql?query=${encodeURIComponent('{ viewer(token: "[REDACTED]") { name } }')}&op=V`);
  assert.equal(url('/graphql?query={ping}'), '/graphql?query={ping}');
  assert.equal(url('/search?query=shoes+size:42'), '/search?query=shoes+size:42', 'a search query is not touched');
});

test('names are form-decoded before matching: percent escapes and "+"', () => {
  assert.equal(url('/p?api%5Fkey=1&api+key=2&%70assword=3&bad%ZZ=4&%E2%82%AC=5'),
    '/p?api%5Fkey=[REDACTED]&api+key=[REDACTED]&%70assword=[REDACTED]&bad%ZZ=4&%E2%82%AC=5');
  assert.equal(formDecode('a%FF%5Fkey'), 'a\u00ff_key', 'invalid UTF-8 is decoded byte by byte');
  assert.equal(formDecode('plain'), 'plain');
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
