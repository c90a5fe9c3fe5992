import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Key } from 'ink';
import { bindingsFor, commandFor, hintsFor, KEY_BINDINGS } from './keys.ts';

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};
const key = (overrides: Partial<Key>): Key => ({ ...NO_KEY, ...overrides });

test('keys map to commands per mode, as k9s users expect', () => {
  assert.equal(commandFor('list', 'j', NO_KEY), 'nav.down');
  assert.equal(commandFor('list', '', key({ downArrow: true })), 'nav.down');
  assert.equal(commandFor('list', 'G', key({ shift: true })), 'nav.bottom');
  assert.equal(commandFor('list', 'g', NO_KEY), 'nav.top');
  assert.equal(commandFor('list', '', key({ end: true })), 'nav.bottom');
  assert.equal(commandFor('list', '', key({ return: true })), 'list.open');
  assert.equal(commandFor('map', '', key({ return: true })), 'map.select');
  assert.equal(commandFor('list', '', key({ tab: true })), 'view.next');
  assert.equal(commandFor('list', 'c', key({ ctrl: true })), 'app.quit');
  assert.equal(commandFor('detail', 'y', NO_KEY), 'detail.raw');
  assert.equal(commandFor('list', 'y', NO_KEY), undefined);
});

test('in the filter bar letters are text, but enter, esc, arrows and ctrl-c are commands', () => {
  assert.equal(commandFor('filter', 'q', NO_KEY), undefined);
  assert.equal(commandFor('filter', 'j', NO_KEY), undefined);
  assert.equal(commandFor('filter', '', key({ return: true })), 'filter.apply');
  assert.equal(commandFor('filter', '', key({ escape: true, meta: true })), 'filter.cancel');
  assert.equal(commandFor('filter', '', key({ upArrow: true })), 'filter.previous');
  assert.equal(commandFor('filter', 'c', key({ ctrl: true })), 'app.quit');
});

test('help and hints come from the same table', () => {
  const listHelp = bindingsFor('list').map((binding) => binding.command);
  for (const hint of hintsFor('list')) assert.ok(KEY_BINDINGS.some((binding) => binding.label === hint.label && listHelp.includes(binding.command)), hint.label);
  assert.ok(listHelp.includes('list.follow'));
  assert.ok(!listHelp.includes('detail.curl'));
  assert.deepEqual(hintsFor('filter').map((hint) => hint.help), ['apply', 'cancel', 'history', 'clear']);
});

test('no key means two commands in one mode', () => {
  for (const mode of ['list', 'detail', 'map', 'filter', 'help'] as const) {
    const seen = new Map<string, string>();
    for (const binding of bindingsFor(mode)) {
      for (const spec of binding.keys) {
        const id = JSON.stringify(spec);
        assert.ok(!seen.has(id) || seen.get(id) === binding.command, `${mode}: ${id} is ${seen.get(id)} and ${binding.command}`);
        seen.set(id, binding.command);
      }
    }
  }
});
