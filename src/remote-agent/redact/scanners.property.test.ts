/**
 * Properties of every text scanner on hostile input (fast-check): it never throws, and redacting
 * its own output changes nothing (the agent and `read` may both redact the same entry).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { redactBodyText } from './body-redact.ts';
import { redactGraphql } from './graphql-redact.ts';
import { redactJson } from './json-redact.ts';
import { redactPrivateKeyBlocks } from './key-block-redact.ts';
import { redactMarkup } from './markup-redact.ts';
import { NameMatcher } from './name-matcher.ts';
import { redactWebSocketProtocols } from './websocket-protocol.ts';

const { isSensitive } = new NameMatcher();

/** Pieces that steer the scanners into their states: tags, quotes, brackets, names, armor lines. */
const PIECES = [
  '<', '>', '/', '</', '/>', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>', '=', '"', "'", ' ', '\n', '\\', '\\"', '"""',
  '(', ')', '{', '}', '[', ']', ':', ',', '$', '#', '@', 'password', 'token', 'name', 'value', 'content', 'key', 'type',
  'input', 'script', 'secret', 'query', 'x', '1', '-----BEGIN ', 'PRIVATE KEY', '-----', '-----END ', 'bearer.', 'access_token',
  '[REDACTED]', '"[REDACTED]"', 'é', '\u0000',
];
const hostile = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((parts) => parts.join(''));

const SCANNERS: readonly [string, (text: string) => string][] = [
  ['markup', (t) => redactMarkup(t, isSensitive)],
  ['graphql', (t) => redactGraphql(t, isSensitive)],
  ['json', (t) => redactJson(t, isSensitive)],
  ['key blocks', (t) => redactPrivateKeyBlocks(t)],
  ['websocket protocols', (t) => redactWebSocketProtocols(t, isSensitive)],
  ['html body', (t) => redactBodyText(t, 'text/html', isSensitive)],
  ['graphql body', (t) => redactBodyText(t, 'application/graphql', isSensitive)],
  ['untyped body', (t) => redactBodyText(t, '', isSensitive)],
];

for (const [name, scan] of SCANNERS) {
  test(`${name}: never throws, idempotent`, () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const once = scan(text);
        assert.equal(typeof once, 'string');
        assert.equal(scan(once), once);
      }),
      { numRuns: 3000, seed: 20261206 },
    );
  });
}
