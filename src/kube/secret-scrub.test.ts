import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SCRUBBED, SecretScrubber, scrubCredentials, secretForms } from './secret-scrub.ts';

test('Authorization values are scrubbed wherever a message quotes them', () => {
  assert.equal(
    scrubCredentials('listing pods failed: Bearer abc.def-ghi\n is not a legal HTTP header value'),
    `listing pods failed: Bearer ${SCRUBBED}\n is not a legal HTTP header value`,
  );
  assert.equal(scrubCredentials('sent Basic YWxpY2U6c2VjcmV0 to the proxy'), `sent Basic ${SCRUBBED} to the proxy`);
  assert.equal(scrubCredentials('> GET /api\n> authorization: Bearer x y z\n> accept: */*'), `> GET /api\n> authorization: ${SCRUBBED}\n> accept: */*`);
  assert.equal(scrubCredentials('Proxy-Authorization = Basic Zm9vOmJhcg=='), `Proxy-Authorization = ${SCRUBBED}`);
  // Control bytes inside the value (what made it illegal) are scrubbed with it.
  assert.equal(scrubCredentials('Bearer tok\x01en\x7fmore is bad'), `Bearer ${SCRUBBED} is bad`);
  // Idempotent: a scrubbed message stays as it is.
  const once = scrubCredentials('Bearer abc');
  assert.equal(scrubCredentials(once), once);
});

test('known secrets go whole and as the runs between control characters and spaces', () => {
  assert.deepEqual(secretForms('abcd\x01efgh ijklm\n').sort(), ['abcd', 'abcd\x01efgh ijklm', 'abcd\x01efgh ijklm\n', 'efgh', 'ijklm'].sort());
  const s = new SecretScrubber();
  s.remember('s3cret-token\x01tail-part\n');
  s.remember('');
  s.remember(undefined);
  assert.equal(s.scrub('token s3cret-tokentail-part seen'), `token ${SCRUBBED}${SCRUBBED} seen`);
  assert.equal(s.scrub('"s3cret-token\\u0001tail-part"'), `"${SCRUBBED}\\u0001${SCRUBBED}"`);
  assert.equal(s.scrub('nothing secret here'), 'nothing secret here');
});

test('property: no run of 4+ bytes of a remembered token survives in any message quoting it', () => {
  const tokenChar = fc.oneof(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/='.split('')),
    fc.constantFrom('\x00', '\x01', '\x1f', '\x7f', '\n', '\r', '\t', ' '),
  );
  const token = fc.array(tokenChar, { minLength: 8, maxLength: 60 }).map((cs) => cs.join(''));
  const wrap = fc.constantFrom(
    (t: string) => `listing pods in namespace shop failed: Bearer ${t} is not a legal HTTP header value`,
    (t: string) => `Authorization: Bearer ${t}`,
    (t: string) => `token file says ${t}.`,
    (t: string) => JSON.stringify({ message: t }),
  );
  fc.assert(
    fc.property(token, wrap, (t, format) => {
      const s = new SecretScrubber();
      s.remember(t);
      const out = s.scrub(format(t));
      for (const run of t.split(/[\s\x00-\x1f\x7f]+/)) {
        if (run.length >= 4) assert.ok(!out.includes(run), `${JSON.stringify(run)} left in ${JSON.stringify(out)}`);
      }
    }),
    { numRuns: 500 },
  );
});
