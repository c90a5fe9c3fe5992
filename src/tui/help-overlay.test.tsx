import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { Footer, hintsThatFit } from './footer.tsx';
import { HelpOverlay } from './help-overlay.tsx';
import { bindingsFor, hintsFor } from './keys.ts';
import { plain } from '../../test/helpers/tui-store.ts';

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

test('help: the map explains its figures (CERR%, SERR%, NO RSP) and what enter and esc do, within 80x24', () => {
  const map = plain(render(<HelpOverlay mode="map" width={80} height={20} />).lastFrame());
  assert.match(map, /Keys: service map/);
  assert.match(map, /CERR% SERR% shares answered with a client-side,/);
  assert.match(map, /server-side error \(HTTP 4xx, 5xx; DNS NXDOMAIN, SERVFAIL; gRPC by status\)/);
  assert.match(map, /NO RSP no answer \(in neither share\)/);
  assert.match(map, /enter: \(active filter\) and dst\.name == "x"/);
  assert.match(map, /esc in the entry list then brings back the filter before enter/);
  for (const binding of bindingsFor('map')) assert.ok(map.includes(binding.help), `still listed with the notes: ${binding.help}`);
});

test('help: the frame is as wide and as tall as its lines, not the screen; a short screen clips it whole', () => {
  const lines = plain(render(<HelpOverlay mode="list" width={200} height={47} />).lastFrame()).split('\n');
  const frame = lines.filter((line) => /[╭│╰]/.test(line));
  const inside = bindingsFor('list').length + 1;
  assert.equal(frame.length, inside + 2, 'title, one line per key, two borders');
  const longest = Math.max(...bindingsFor('list').map((b) => b.help.length));
  assert.ok(frame[0]!.trimEnd().length < longest + 20, `frame width ${frame[0]!.trimEnd().length}`);
  assert.ok(frame.every((line) => line.trimEnd().length === frame[0]!.trimEnd().length), 'a closed rectangle');
  const short = plain(render(<HelpOverlay mode="list" width={80} height={8} />).lastFrame()).split('\n').filter((line) => line !== '');
  assert.equal(short.length, 8);
  assert.match(short[0]!, /^╭─+╮$/);
  assert.match(short[1]!, /Keys: entries/);
  assert.match(short[2]!, /^│ q\s+quit\s+│$/);
  assert.match(short[7]!, /^╰─+╯$/);
});

test('footer: only whole hints, as many as fit the width, in key-table order', () => {
  const all = hintsFor('list');
  const line = (width: number): string => plain(render(<Footer mode="list" width={width} />).lastFrame());
  const wide = line(200);
  for (const hint of all) assert.ok(wide.includes(`${hint.label} ${hint.help}`), hint.help);
  const narrow = line(40);
  assert.ok(narrow.length <= 40, narrow);
  assert.match(narrow, /^q quit {2}\? help/);
  assert.doesNotMatch(narrow, /…/);
  for (const hint of hintsThatFit('list', 40)) assert.ok(narrow.includes(`${hint.label} ${hint.help}`));
  assert.ok(hintsThatFit('list', 40).length < all.length);
});
