import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { DetailPane } from './detail-pane.tsx';
import { detailLines, rawJsonLines } from './detail-lines.ts';
import { makeEntry, plain } from './test-support.ts';

afterEach(cleanup);

const entry = makeEntry({ requestHeaders: { Host: 'catalogue', Accept: 'application/json' } });

test('detail: request line, headers, response and pretty JSON body', () => {
  const frame = plain(render(<DetailPane lines={detailLines(entry)} scroll={0} width={100} height={30} curl={undefined} />).lastFrame());
  assert.match(frame, /^GET \/catalogue\?size=5 HTTP\/1\.1/);
  assert.match(frame, /Headers \(2\)\n {2}Host: catalogue\n {2}Accept: application\/json/);
  assert.match(frame, /Response 200 OK/);
  assert.match(frame, / {4}"name": "sock"/);
  assert.match(frame, /Connection\n {2}client {4}10\.0\.0\.1:40000/);
});

test('detail: scrolling shows a window of the lines', () => {
  const frame = plain(render(<DetailPane lines={detailLines(entry)} scroll={3} width={100} height={4} curl={undefined} />).lastFrame());
  const lines = frame.split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[0], 'Request');
  assert.doesNotMatch(frame, /GET \/catalogue/);
});

test('detail: raw JSON view and the curl box', () => {
  const raw = plain(render(<DetailPane lines={rawJsonLines(entry)} scroll={0} width={100} height={12} curl={undefined} />).lastFrame());
  assert.match(raw, /^\{\n {2}"id": "0-0",/);
  const curl = plain(render(<DetailPane lines={detailLines(entry)} scroll={0} width={100} height={20} curl="curl -X GET 'http://catalogue/catalogue?size=5'" />).lastFrame());
  assert.match(curl, /curl \(sent to the clipboard with OSC 52/);
  assert.match(curl, /curl -X GET 'http:\/\/catalogue\/catalogue\?size=5'/);
});
