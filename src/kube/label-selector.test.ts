import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkLabelSelector } from './label-selector.ts';

test('selectors the API server takes pass', () => {
  for (const ok of [
    '',
    'app',
    'app=web',
    'app==web',
    'app!=web',
    'app=',
    'app=web,tier!=db',
    ' app = web , tier != db ',
    '!canary',
    'env in (prod,qa)',
    'env notin (prod, qa)',
    'env in (,prod)',
    'gen>3',
    'gen < -1',
    'example.com/app=web',
    'app.kubernetes.io/name=shop_front-1',
    `a=${'v'.repeat(63)}`,
  ]) {
    assert.deepEqual(checkLabelSelector(ok), { ok: true }, ok);
  }
});

test('a mistake is named with its column', () => {
  const cases: Array<[string, RegExp]> = [
    ['app in (web', /^expected ',' or '\)' in the values of 'app in', found the end \(column 12\)$/],
    ['app in ()', /'in \(\)' needs at least one value, like app in \(a,b\) \(column 9\)$/],
    ['app in web', /^expected '\(' after 'in', found "web" \(column 8\)$/],
    ['app=web,', /^expected a label key, found the end \(column 9\)$/],
    [',app', /^expected a label key, found "," \(column 1\)$/],
    ['app web', /^expected an operator .* after label key "app", found "web" \(column 5\)$/],
    ['app=web=x', /^expected ',' between requirements, found "=" \(column 8\)$/],
    ['!app=web', /^'!app' takes no operator or value, found "=" \(column 5\)$/],
    ['!', /^expected a label key after '!', found the end \(column 2\)$/],
    ['-app=web', /"-app" is not a label key/],
    ['app=-web', /"-web" is not a label value/],
    [`app=${'v'.repeat(64)}`, /is not a label value: at most 63/],
    [`${'k'.repeat(64)}=v`, /is not a label key/],
    ['Example.com/app=x', /the prefix "Example.com" of label key "Example.com\/app" is not a DNS subdomain/],
    ['/app=x', /the prefix "" of label key/],
    ['gen>x', /'gen >' compares with a whole number, found "x" \(column 5\)$/],
    ['gen>', /'gen >' compares with a whole number, found the end/],
    ['app=(web)', /^expected ',' between requirements, found "\(" \(column 5\)$/],
  ];
  for (const [input, pattern] of cases) {
    const result = checkLabelSelector(input);
    assert.equal(result.ok, false, input);
    assert.match((result as { message: string }).message, pattern, input);
  }
});

test('any text gets an answer, quickly: never a throw, a message with a column when refused', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (input) => {
      const result = checkLabelSelector(input);
      if (!result.ok) assert.match(result.message, /\(column \d+\)$/);
    }),
    { numRuns: 5000 },
  );
  const started = performance.now();
  for (const long of ['a'.repeat(100_000) + '-', `app in (${'v,'.repeat(50_000)}`, 'a=b,'.repeat(25_000)]) checkLabelSelector(long);
  assert.ok(performance.now() - started < 1000, 'long selectors are checked in linear time');
});
