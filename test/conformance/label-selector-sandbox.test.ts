/**
 * tap's client-side -l check (src/kube/label-selector.ts) and the sandbox API server's selector
 * parser (test/sandbox/selectors.ts, written separately to apimachinery's grammar) accept and refuse
 * the same selectors, over random strings built from selector pieces. One known difference is left
 * out: `key in ()`, which a real API server refuses ("values set can't be empty") and the sandbox takes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkLabelSelector } from '../../src/kube/label-selector.ts';
import { parseLabelSelector } from '../sandbox/selectors.ts';

const PIECES = ['app', 'tier', 'a.b/c', 'A_b-1', '-x', 'x-', 'Ex.com/k', '=', '==', '!=', '!', ',', ' ', 'in', 'notin', '(', ')', '<', '>', '3', '-2', 'web', '_', '.', 'v'.repeat(64)];

function sandboxTakes(selector: string): boolean {
  try {
    parseLabelSelector(selector);
    return true;
  } catch {
    return false;
  }
}

test('the -l check agrees with the sandbox API server on what a selector is', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 9 }), (pieces) => {
      const selector = pieces.join('');
      fc.pre(!/\b(not)?in\s*\(\s*\)/.test(selector));
      assert.equal(checkLabelSelector(selector).ok, sandboxTakes(selector), JSON.stringify(selector));
    }),
    { numRuns: 20_000 },
  );
});
