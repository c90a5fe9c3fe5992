import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noticeParts } from './narrowing-notice.tsx';

const narrowed = { previous: 'response.status >= 400 and request.path.startsWith("/catalogue")', term: 'dst.name == "catalogue"', query: '(response.status >= 400 and request.path.startsWith("/catalogue")) and dst.name == "catalogue"' };

test('notice: the whole query and the esc hint when they fit', () => {
  assert.deepEqual(noticeParts(narrowed, 200), { label: 'filter narrowed: ', query: narrowed.query, undo: ' · esc undoes' });
  assert.equal(noticeParts({ previous: '', term: 'dst.name == "x"', query: 'dst.name == "x"' }, 80).label, 'filter set from the map: ');
});

test('notice at 80 columns: the earlier filter is cut, the term the map added stays whole', () => {
  const parts = noticeParts(narrowed, 80);
  const line = parts.label + parts.query + parts.undo;
  assert.ok(line.length <= 80, line);
  assert.match(parts.query, /^\(response\.status >= 400 and .*…\) and dst\.name == "catalogue"$/);
});

test('notice: names from traffic are shown escaped', () => {
  const hostile = { previous: '', term: 'dst.name == "\u001b[2J"', query: 'dst.name == "\u001b[2J"' };
  assert.doesNotMatch(noticeParts(hostile, 80).query, /\u001b/);
});
