/** The sandbox's label and field selector parsing, against apimachinery's grammar. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import { fieldMatcher, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

const labels = { app: 'web', tier: 'front', 'example.com/team': 'shop', n: '5' };

function m(selector: string): boolean {
  return matchesLabels(parseLabelSelector(selector), labels);
}

test('equality, inequality and existence requirements', () => {
  assert.equal(m(''), true);
  assert.equal(m('app=web'), true);
  assert.equal(m('app==web'), true);
  assert.equal(m('app = web , tier=front'), true);
  assert.equal(m('app=db'), false);
  assert.equal(m('app!=db'), true);
  assert.equal(m('missing!=x'), true, 'a missing key satisfies !=');
  assert.equal(m('app'), true);
  assert.equal(m('!app'), false);
  assert.equal(m('!missing'), true);
  assert.equal(m('example.com/team=shop'), true);
  assert.equal(m('app='), false, 'empty value');
});

test('set-based requirements and numeric comparisons', () => {
  assert.equal(m('app in (web,db)'), true);
  assert.equal(m('app in (db)'), false);
  assert.equal(m('app notin (db, cache)'), true);
  assert.equal(m('missing notin (x)'), true);
  assert.equal(m('missing in (x)'), false);
  assert.equal(m('tier in (front),app notin (db)'), true);
  assert.equal(m('n>3'), true);
  assert.equal(m('n<3'), false);
  assert.deepEqual(parseLabelSelector('a in (y,x,y)')[0], { key: 'a', op: 'in', values: ['x', 'y'] });
});

test('malformed selectors are 400 BadRequest', () => {
  for (const bad of ['app in web', 'app in (a', '=x', 'app=(x)', 'a b', 'bad key=1', 'n>x', 'app=a b']) {
    assert.throws(() => parseLabelSelector(bad), (err: unknown) => err instanceof StatusError && err.code === 400 && /unable to parse requirement/.test(err.message), bad);
  }
});

test('field selectors: =, ==, != with escapes; unknown fields are rejected', () => {
  assert.deepEqual(parseFieldSelector('metadata.name=web,status.phase!=Failed'), [
    { field: 'metadata.name', op: '=', value: 'web' },
    { field: 'status.phase', op: '!=', value: 'Failed' },
  ]);
  assert.deepEqual(parseFieldSelector('metadata.name==a\\,b'), [{ field: 'metadata.name', op: '=', value: 'a,b' }]);
  const fields = { 'metadata.name': (o: { name: string }) => o.name };
  const match = fieldMatcher(parseFieldSelector('metadata.name=web'), fields);
  assert.equal(match({ name: 'web' }), true);
  assert.equal(match({ name: 'db' }), false);
  assert.throws(() => fieldMatcher(parseFieldSelector('spec.foo=1'), fields), (err: unknown) => err instanceof StatusError && err.code === 400 && err.message === 'field label not supported: spec.foo');
  assert.throws(() => parseFieldSelector('nonsense'), (err: unknown) => err instanceof StatusError && err.code === 400);
});
