import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorLevelFor } from './terminal-control.ts';

const XTERM = { TERM: 'xterm-256color' };

test('colour level, auto: a terminal gets what TERM and COLORTERM say; no TTY, no TERM or a dumb one get none', () => {
  assert.equal(colorLevelFor('auto', XTERM, true), 2);
  assert.equal(colorLevelFor('auto', { TERM: 'xterm' }, true), 1);
  assert.equal(colorLevelFor('auto', { TERM: 'xterm-256color', COLORTERM: 'truecolor' }, true), 3);
  assert.equal(colorLevelFor('auto', { TERM: 'screen' }, true), 1);
  assert.equal(colorLevelFor('auto', { TERM: 'dumb', COLORTERM: 'truecolor' }, true), 0);
  assert.equal(colorLevelFor('auto', {}, true), 0);
  assert.equal(colorLevelFor('auto', XTERM, false), 0, 'a pipe or file');
});

test('colour level, auto: CI variables play no part', () => {
  for (const ci of ['true', '1', 'false', '']) {
    assert.equal(colorLevelFor('auto', { ...XTERM, CI: ci, CONTINUOUS_INTEGRATION: ci }, true), 2, `CI=${ci}`);
    assert.equal(colorLevelFor('auto', { ...XTERM, CI: ci }, false), 0, `CI=${ci}, no TTY`);
  }
});

test('colour level, auto: NO_COLOR (not empty) wins, then an explicit FORCE_COLOR', () => {
  assert.equal(colorLevelFor('auto', { ...XTERM, NO_COLOR: '1' }, true), 0);
  assert.equal(colorLevelFor('auto', { ...XTERM, NO_COLOR: '1', FORCE_COLOR: '3' }, true), 0);
  assert.equal(colorLevelFor('auto', { ...XTERM, NO_COLOR: '' }, true), 2, 'an empty NO_COLOR is no request');
  assert.equal(colorLevelFor('auto', { ...XTERM, FORCE_COLOR: '0' }, true), 0);
  assert.equal(colorLevelFor('auto', { ...XTERM, FORCE_COLOR: 'false' }, true), 0);
  assert.equal(colorLevelFor('auto', { FORCE_COLOR: '3' }, false), 3);
  assert.equal(colorLevelFor('auto', { FORCE_COLOR: '' }, false), 1);
  assert.equal(colorLevelFor('auto', { FORCE_COLOR: 'true' }, false), 1);
  assert.equal(colorLevelFor('auto', { FORCE_COLOR: '9' }, false), 3);
});

test('colour level: never is none, always is at least 16 colours', () => {
  assert.equal(colorLevelFor('never', { ...XTERM, FORCE_COLOR: '3' }, true), 0);
  assert.equal(colorLevelFor('always', { TERM: 'dumb' }, false), 1);
  assert.equal(colorLevelFor('always', { ...XTERM, NO_COLOR: '1' }, false), 2, 'the flag beats NO_COLOR');
  assert.equal(colorLevelFor('always', { FORCE_COLOR: '3' }, false), 3);
  assert.equal(colorLevelFor('always', { ...XTERM, FORCE_COLOR: '0' }, false), 2);
});
