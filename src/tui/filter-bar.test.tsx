import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { compileKfl } from '../kfl/index.ts';
import { FilterBar } from './filter-bar.tsx';
import type { FilterValidation } from './use-filter-bar.ts';
import { plain } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

function validate(query: string): FilterValidation {
  const result = compileKfl(query);
  return result.ok ? { ok: true, warnings: result.warnings } : { ok: false, error: result.error };
}

test('filter bar: a valid query is green and says so', () => {
  const query = 'http and dst.name == "carts"';
  const frame = render(<FilterBar query={query} validation={validate(query)} width={80} />).lastFrame() ?? '';
  assert.match(plain(frame), /^\/ http and dst\.name == "carts"/);
  assert.match(plain(frame), /✓ valid$/);
  assert.match(frame, /\u001b\[32m/, 'green');
  assert.doesNotMatch(frame, /\u001b\[31m/);
});

test('filter bar: an invalid query is red, with a caret under the error and the message', () => {
  const query = 'response.status == ';
  const validation = validate(query);
  assert.equal(validation.ok, false);
  const frame = render(<FilterBar query={query} validation={validation} width={80} />).lastFrame() ?? '';
  const lines = plain(frame).split('\n');
  assert.equal(lines[0].trimEnd(), '/ response.status ==');
  if (validation.ok) return;
  const caretAt = lines[1].indexOf('^');
  assert.equal(caretAt, 2 + validation.error.column - 1, 'caret under the reported column');
  assert.equal(lines[2], `✗ ${validation.error.message}`);
  assert.match(frame, /\u001b\[31m/, 'red');
});

test('filter bar: unknown fields are valid with a warning; empty means no filter', () => {
  const warned = plain(render(<FilterBar query="request.pth == 1" validation={validate('request.pth == 1')} width={100} />).lastFrame());
  assert.match(warned, /✓ valid; unknown field request\.pth/);
  const empty = plain(render(<FilterBar query="" validation={{ ok: true, warnings: [] }} width={80} />).lastFrame());
  assert.match(empty, /empty: enter removes the filter/);
});

test('filter bar: a long query keeps its end visible and the caret follows', () => {
  const query = `${'request.path == "/a" and '.repeat(4)}response.status == `;
  const validation = validate(query);
  const lines = plain(render(<FilterBar query={query} validation={validation} width={40} />).lastFrame()).split('\n');
  assert.ok(lines[0].length <= 40);
  assert.match(lines[0], /response\.status ==/);
  assert.ok(lines[1].includes('^') && lines[1].length <= 40);
});
