import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { HelpOverlay } from './help-overlay.tsx';
import { bindingsFor } from './keys.ts';
import { plain } from './test-support.ts';

afterEach(cleanup);

test('help: lists every key of the current view from the key table', () => {
  const frame = plain(render(<HelpOverlay mode="list" width={80} height={24} />).lastFrame());
  assert.match(frame, /Keys: entries/);
  for (const binding of bindingsFor('list')) assert.ok(frame.includes(binding.help), binding.help);
  assert.match(frame, /f\s+follow the newest entries/);
  assert.doesNotMatch(frame, /copy the request as curl/);
});

test('help: the detail view lists y and c; the map lists enter as filter', () => {
  const detail = plain(render(<HelpOverlay mode="detail" width={80} height={24} />).lastFrame());
  assert.match(detail, /y\s+raw entry JSON on\/off/);
  assert.match(detail, /c\s+copy the request as curl/);
  const map = plain(render(<HelpOverlay mode="map" width={80} height={24} />).lastFrame());
  assert.match(map, /enter\s+narrow the filter to the selection: \(active filter\) and its query/);
});

test('help: the map explains its figures (4xx%, 5xx%, NO RSP) and what enter and esc do, within 80x24', () => {
  const map = plain(render(<HelpOverlay mode="map" width={80} height={20} />).lastFrame());
  assert.match(map, /Keys: service map/);
  assert.match(map, /4xx% 5xx% shares answered 400-499, 500-599/);
  assert.match(map, /NO RSP no answer \(in neither share\)/);
  assert.match(map, /enter: \(active filter\) and dst\.name == "x"/);
  assert.match(map, /esc in the entry list then brings back the filter before enter/);
  for (const binding of bindingsFor('map')) assert.ok(map.includes(binding.help), `still listed with the notes: ${binding.help}`);
});
