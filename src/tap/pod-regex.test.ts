import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podMatcher } from '../kube/targets.ts';
import { SharkError } from '../model/errors.ts';
import { compilePodRegex } from './pod-regex.ts';

test('the pod regex is RE2, unanchored; a bad one is a usage error', () => {
  const query = { namespaces: ['shop'], podRegex: 'front-?end' };
  const m = podMatcher(query, compilePodRegex(query.podRegex));
  assert.ok(m.matchesName('front-end-7d9f-abcde'));
  assert.ok(m.matchesName('my-frontend'));
  assert.ok(!m.matchesName('catalogue'));
  assert.equal(compilePodRegex(''), null);
  assert.equal(compilePodRegex(undefined), null);
  assert.throws(() => compilePodRegex('(a'), (e: unknown) => e instanceof SharkError && e.code === 'USAGE' && /not a valid RE2/.test(e.message));
  // Backreferences are not RE2: refused rather than run with exponential cost.
  assert.throws(() => compilePodRegex('(a)\\1'), (e: unknown) => e instanceof SharkError && e.code === 'USAGE');
});
