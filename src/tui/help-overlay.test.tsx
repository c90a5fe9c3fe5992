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
  assert.match(map, /enter\s+filter on the selected node or edge/);
});
