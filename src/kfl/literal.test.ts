/**
 * kflString is the inverse of the lexer's string decoding: any text, hostile names included
 * (quotes, backslashes, escapes that JSON writes but KFL does not know such as \b and \f, control
 * characters, lone surrogates), comes back exactly, and the literal is one printable line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileKfl, kflString } from './index.ts';
import { lex } from './lexer.ts';
import { httpEntry } from '../../test/helpers/entries.ts';

const HOSTILE = ['a"b', 'a\\b', '\\', '"', '\\"', 'x\\u0041', '\b\f', '\n\r\t', '\u0000', '\u001b[31m', '\u007f\u0085', '\u2028', '\ud800', 'é😀', '', "'`"];

test('kflString: the lexer decodes it back to the text, for hostile names and random strings', () => {
  const decode = (text: string): string | number => {
    const tokens = lex(kflString(text));
    assert.equal(tokens.length, 2, 'one string token, then the end');
    assert.equal(tokens[0]!.kind, 'string');
    return tokens[0]!.value;
  };
  for (const text of HOSTILE) assert.equal(decode(text), text, JSON.stringify(text));
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => decode(text) === text), { numRuns: 2000, seed: 11 });
});

test('kflString: no control character, line separator or lone surrogate in the literal', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/.test(kflString(text))), { numRuns: 2000, seed: 12 });
});

test('kflString in a query: dst.name == literal matches that name and no other', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (name) => {
      const compiled = compileKfl(`dst.name == ${kflString(name)}`);
      assert.ok(compiled.ok);
      const base = httpEntry();
      const withName = (n: string) => ({ ...base, dst: { ...base.dst, name: n } });
      return compiled.filter.test(withName(name)) && !compiled.filter.test(withName(`${name}x`));
    }),
    { numRuns: 1000, seed: 13 },
  );
  // JSON.stringify, which the map used before, writes \b as an escape KFL keeps as two characters.
  const compiled = compileKfl(`dst.name == ${JSON.stringify('a\bc')}`);
  assert.ok(compiled.ok);
  const base = httpEntry();
  assert.equal(compiled.filter.test({ ...base, dst: { ...base.dst, name: 'a\bc' } }), false, 'the reason kflString exists');
});
