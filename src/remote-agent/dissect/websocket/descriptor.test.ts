/** The WebSocket descriptor on entries the real dissector made: rows, detail, dedup, KFL variables, redaction. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryRedactor } from '../../redact/entry-redactor.ts';
import { fakeConn, play, recorder, c, s } from '../../../../test/helpers/http1-connection.ts';
import { DissectorRegistry } from '../registry.ts';
import { websocketDescriptor as d } from './descriptor.ts';
import { isWebSocketEntry, type WebSocketEntry } from './entry.ts';
import { BINARY, CLOSE, KEY, PING, SWITCHING, TEXT, UPGRADE_REQUEST, closePayload, frame } from '../../../../test/helpers/websocket-frames.ts';

/** Entries of one scripted WebSocket session, made by the registry, HTTP/1 and the WebSocket dissector. */
function session(): WebSocketEntry[] {
  const rec = recorder();
  play(new DissectorRegistry(rec.ctx).open(fakeConn()), [
    c(UPGRADE_REQUEST()),
    s(SWITCHING(), 1000),
    c(frame({ opcode: TEXT, payload: '{"item":"pen",\n "password":"hunter2","note":"a long note that goes past the preview width"}', mask: KEY }), 2000),
    s(frame({ opcode: BINARY, payload: Buffer.from([0xff, 0xfe, 0x00]) }), 3000),
    c(frame({ opcode: PING, mask: KEY }), 4000),
    c(frame({ opcode: CLOSE, payload: closePayload(1000, 'bye'), mask: KEY }), 5000),
    s(frame({ opcode: CLOSE, payload: closePayload(4003, 'forbidden') }), 6000),
    { close: 'fin', us: 7000 },
  ]);
  return rec.all.filter(isWebSocketEntry);
}

test('list rows: opcode, direction and a one-line preview or the size, close codes as outcome', () => {
  const rows = session().map((e) => d.summarize(e));
  assert.deepEqual(
    rows.map((r) => [r.verb, r.target, r.outcome, r.outcomeClass, r.isError, r.verbQuery]),
    [
      ['text', '→ "{"item":"pen", "password":"hunter2","no…" (91 B)', '', 'none', false, 'ws_opcode == "text"'],
      ['binary', '← 3 B', '', 'none', false, 'ws_opcode == "binary"'],
      ['ping', '→ 0 B', '', 'none', false, 'ws_opcode == "ping"'],
      ['close', '→ "bye"', '1000', 'success', false, 'ws_opcode == "close"'],
      ['close', '← "forbidden"', '4003', 'server-error', true, 'ws_opcode == "close"'],
    ],
  );
});

test('detail: a frame table and the payload as a body section', () => {
  const [text, bin] = session();
  const [heading, table, body] = d.represent(text);
  assert.deepEqual(heading, { kind: 'heading', title: 'Client → server', text: 'text message, 1 frame' });
  assert.equal(table.kind, 'table');
  if (table.kind !== 'table') return;
  assert.deepEqual(
    table.rows.map((r) => [r.label, r.value]),
    [
      ['Direction', 'client → server'],
      ['Opcode', 'text'],
      ['Frames', '1'],
      ['Payload on the wire', '91 B'],
      ['Payload size', '91 B'],
      ['Compressed', 'no'],
      ['Masked', 'yes'],
      ['Upgrade entry', '7-0'],
    ],
  );
  assert.deepEqual(body, { kind: 'body', title: 'Payload', mimeType: 'text/plain; charset=utf-8', text: text.request!.payload.text, sizeBytes: 91 });
  const binBody = d.represent(bin)[2];
  assert.equal(binBody.kind === 'body' && binBody.encoding, 'base64');
});

test('dedup key: direction, opcode and length, not the capture-local ids; edge label WS', () => {
  const [text, bin] = session();
  assert.equal(d.dedupKey(text), 'ws|c|text|91');
  assert.equal(d.dedupKey(bin), 'ws|s|binary|3');
  assert.equal(d.edgeLabel(text), 'WS');
});

test("KFL: the word ws and Kubeshark's ws_* variables", () => {
  const [text, bin] = session();
  const v = (name: string): ((e: unknown) => unknown) => {
    const variable = d.kfl.variables.find((x) => x.name === name)!;
    if (variable.kind === 'computed') return variable.get;
    return (e) => variable.path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), e);
  };
  assert.equal(d.kfl.words[0].word, 'ws');
  assert.equal(d.kfl.words[0].matches(text.protocol), true);
  assert.equal(d.kfl.words[0].matches({ name: 'http', version: '1.1', abbr: 'HTTP' }), false);
  assert.deepEqual(
    [text, bin].map((e) => ['ws_opcode', 'ws_request', 'ws_response', 'ws_request_payload_length', 'ws_response_payload_length'].map((n) => v(n)(e))),
    [
      ['text', true, false, 91, undefined],
      ['binary', false, true, undefined, 3],
    ],
  );
  assert.match(String(v('ws_request_payload_data')(text)), /hunter2/);
  // Not a WebSocket entry, or not an entry at all: no opcode, not a request.
  assert.equal(v('ws_opcode')({ protocol: { name: 'http' }, request: { opcode: 'text' } }), undefined);
  assert.equal(v('ws_request')(null), false);
});

test('redaction: a message body is a body (JSON keys masked), through the agent\'s redactor', () => {
  const [text, bin] = session();
  const red = new EntryRedactor().redact(text);
  assert.ok(isWebSocketEntry(red) && red.request !== null);
  assert.match(red.request.payload.text, /"password":"\[REDACTED\]"/);
  assert.match(red.request.payload.text, /"item":"pen"/);
  assert.equal(red.request.payload.size, 91, 'sizes describe the wire');
  assert.deepEqual(new EntryRedactor().redact(bin), bin, 'nothing secret, nothing changed');
});
