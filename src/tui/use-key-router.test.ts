import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Key } from 'ink';
import { modeAfter, splitInput } from './use-key-router.ts';

const NO_KEY = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false } satisfies Key;

test('a chunk of keys splits into characters, control characters into their keys', () => {
  const tokens = splitInput('/a\u0015\r\u007f', NO_KEY);
  assert.deepEqual(tokens.map((t) => t.input), ['/', 'a', 'u', '', '']);
  assert.equal(tokens[2].key.ctrl, true);
  assert.equal(tokens[3].key.return, true);
  assert.equal(tokens[4].key.backspace, true);
  assert.deepEqual(splitInput('j', NO_KEY), [{ input: 'j', key: NO_KEY }]);
});

test('the router knows which mode a command leads to before React re-renders', () => {
  assert.equal(modeAfter('list', 'filter.open'), 'filter');
  assert.equal(modeAfter('list', 'list.open'), 'detail');
  assert.equal(modeAfter('list', 'view.map'), 'map');
  assert.equal(modeAfter('map', 'nav.down'), 'map');
});
