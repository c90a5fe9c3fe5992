import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { DetailPane } from './detail-pane.tsx';
import { detailLines, rawJsonLines } from './detail-lines.ts';
import { makeEntry, plain } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const entry = makeEntry({ requestHeaders: { Host: 'catalogue', Accept: 'application/json' } });

test('detail: timing and endpoints first, then request line, headers, response and pretty JSON body', () => {
  const frame = plain(render(<DetailPane lines={detailLines(entry)} scroll={0} width={100} height={30} curl={undefined} />).lastFrame());
  assert.match(frame, /^ {2}started {3}\d{4}-\d\d-\d\dT[\d:.]+Z\n {2}elapsed {3}13ms to the response\n {2}client {4}front-end \(ns sock-shop\) 10\.0\.0\.1:40000\n/);
  assert.match(frame, /^Request\nGET \/catalogue\?size=5 HTTP\/1\.1\nHeaders \(2\)\n {2}Host: catalogue\n {2}Accept: application\/json/m);
  assert.match(frame, /^Response\nHTTP\/1\.1 200 OK/m);
  assert.match(frame, / {4}"name": "sock"/);
});

test('detail: scrolling shows a window of the lines', () => {
  const frame = plain(render(<DetailPane lines={detailLines(entry)} scroll={6} width={100} height={4} curl={undefined} />).lastFrame());
  const lines = frame.split('\n');
  assert.equal(lines.length, 4);
  assert.deepEqual(lines.slice(0, 2), ['Request', 'GET /catalogue?size=5 HTTP/1.1']);
  assert.doesNotMatch(frame, /started/);
});

test('detail: raw JSON view and the curl box', () => {
  const raw = plain(render(<DetailPane lines={rawJsonLines(entry)} scroll={0} width={100} height={12} curl={undefined} />).lastFrame());
  assert.match(raw, /^\{\n {2}"id": "0-0",/);
  const curl = plain(render(<DetailPane lines={detailLines(entry)} scroll={0} width={100} height={20} curl="curl 'http://catalogue/catalogue?size=5'" />).lastFrame());
  assert.match(curl, /curl \(sent to the clipboard with OSC 52/);
  assert.match(curl, /curl 'http:\/\/catalogue\/catalogue\?size=5'/);
});
