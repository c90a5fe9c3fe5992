import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sanitizeBlock, sanitizeLine, stringifyJson } from './terminal-text.ts';

/** Any UTF-16 text, weighted towards what terminals act on. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)), fc.constantFrom('\u2028', '\u2029', 'é', '界', '\\', '😀')) }),
  fc.constantFrom('\u001b]52;c;aWQ=\u0007', '\u001b]0;pwned\u0007', '\u009b31m', '\u001b[2J', '\r\nX\tY\u007f'),
);

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

test('sanitizeLine: no control character survives, printable text is unchanged, idempotent', () => {
  fc.assert(
    fc.property(hostileText, (text) => {
      const shown = sanitizeLine(text);
      assert.doesNotMatch(shown, CONTROL);
      assert.equal(sanitizeLine(shown), shown);
      // Every printable character stays, in order: removing the escapes gives the printable text back.
      assert.equal(shown.replace(/\\u00[0-9a-f]{2}/g, ''), text.replace(/\\u00[0-9a-f]{2}/g, '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ''));
    }),
    { numRuns: 2000 },
  );
  assert.equal(sanitizeLine('GET /\u001b]0;pwned\u0007 \u009b2J\u007f\tx\ny'), 'GET /\\u001b]0;pwned\\u0007 \\u009b2J\\u007f\\u0009x\\u000ay');
  assert.equal(sanitizeLine('plain café 界'), 'plain café 界');
});

test('sanitizeBlock: LF stays, CRLF is a line break, TAB goes to the next tab stop, the rest is escaped', () => {
  assert.equal(sanitizeBlock('a\r\nb\tc\n\tx\u001b[31m\ry'), 'a\nb       c\n        x\\u001b[31m\\u000dy');
  assert.equal(sanitizeBlock('abcdefg\th'), 'abcdefg h');
  fc.assert(
    fc.property(hostileText, (text) => {
      const shown = sanitizeBlock(text);
      assert.doesNotMatch(shown, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      assert.equal(sanitizeBlock(shown), shown);
      assert.equal(shown.split('\n').length, text.replace(/\r\n/g, '\n').split('\n').length);
    }),
    { numRuns: 2000 },
  );
});

test('stringifyJson: the same JSON value as JSON.stringify, with DEL, C1, U+2028/2029 escaped', () => {
  fc.assert(
    fc.property(fc.jsonValue(), hostileText, (value, text) => {
      const doc = { value, text, [text]: text };
      const json = stringifyJson(doc);
      assert.doesNotMatch(json, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(doc)));
    }),
    { numRuns: 2000 },
  );
  assert.equal(stringifyJson({ a: '\u009b\u007f\u2028x' }), '{"a":"\\u009b\\u007f\\u2028x"}');
  assert.equal(stringifyJson({ a: 'plain' }), '{"a":"plain"}');
  // ASCII with DEL (the fast path's own check), and non-ASCII without anything to escape.
  assert.equal(stringifyJson({ a: 'x\u007fy' }), '{"a":"x\\u007fy"}');
  assert.equal(stringifyJson({ a: 'café 界 😀' }), '{"a":"café 界 😀"}');
});
