/**
 * The hand-off path end to end in the dissect stage: an HTTP/1 upgrade through the registry, the
 * 101, then WebSocket messages as entries. Every case runs whole, split at every offset and byte by
 * byte, and must give the same entries, metas and counters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../../../model/entry.ts';
import type { CaptureStats } from '../../stats.ts';
import type { Dissector, DissectOptions, EntryMeta } from '../dissector.ts';
import { isHttpEntry } from '../http1/entry.ts';
import { http1Dissector } from '../http1/index.ts';
import { SEQ_ORIGIN, fakeConn, longestData, play, recorder, c, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import { DissectorRegistry } from '../registry.ts';
import { isWebSocketEntry, type WebSocketEntry } from './entry.ts';
import { websocketDissector } from './index.ts';
import { BINARY, CLOSE, CONT, DeflateSender, KEY, PING, PONG, SWITCHING, TEXT, UPGRADE_REQUEST, closePayload, frame } from '../../../../test/helpers/websocket-frames.ts';

interface Run {
  readonly entries: Entry[];
  readonly metas: EntryMeta[];
  readonly stats: CaptureStats;
}

function run(steps: readonly Step[], how: Chunking, dissectors: readonly Dissector[] = [http1Dissector, websocketDissector], options: Partial<DissectOptions> = {}): Run {
  const rec = recorder(options);
  const registry = new DissectorRegistry(rec.ctx, dissectors);
  play(registry.open(fakeConn()), steps, how);
  return { entries: rec.all, metas: rec.metas, stats: rec.stats };
}

/** Runs whole, then every split and byte by byte; all must agree. Returns the whole run. */
function runEveryWay(steps: readonly Step[], dissectors?: readonly Dissector[], options?: Partial<DissectOptions>): Run {
  const whole = run(steps, { kind: 'whole' }, dissectors, options);
  const n = longestData(steps);
  for (let at = 1; at < n; at++) assert.deepEqual(run(steps, { kind: 'split', at }, dissectors, options), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }, dissectors, options), whole, 'byte by byte');
  return whole;
}

function ws(e: Entry): WebSocketEntry {
  assert.ok(isWebSocketEntry(e), `${e.id} is a WebSocket entry`);
  return e;
}

const REQ = UPGRADE_REQUEST();
const R101 = SWITCHING();
const serverHello = frame({ opcode: TEXT, payload: 'welcome' });
const clientText = frame({ opcode: TEXT, payload: '{"user":"ann","password":"hunter2"}', mask: KEY });

test('after a 101, both directions are WebSocket: messages linked to the upgrade entry, which is unchanged', () => {
  const steps: Step[] = [
    c(REQ),
    // The 101 and the server's first frame in one segment.
    s(Buffer.concat([Buffer.from(R101, 'latin1'), serverHello]), 1000),
    c(clientText, 2000),
    c(Buffer.concat([frame({ opcode: BINARY, payload: 'ab', fin: false, mask: KEY }), frame({ opcode: PING, payload: 'p', mask: KEY }), frame({ opcode: CONT, payload: 'cd', mask: KEY })]), 3000),
    s(frame({ opcode: PONG, payload: 'p' }), 3500),
    c(frame({ opcode: CLOSE, payload: closePayload(1000, 'done'), mask: KEY }), 4000),
    s(frame({ opcode: CLOSE, payload: closePayload(1000) }), 4100),
    { close: 'fin', us: 5000 },
  ];
  const r = runEveryWay(steps);
  const httpOnly = run(steps, { kind: 'whole' }, [http1Dissector]);
  assert.equal(httpOnly.entries.length, 1);
  assert.deepEqual(r.entries[0], httpOnly.entries[0], 'the upgrade entry is what HTTP/1 alone makes');
  assert.deepEqual(r.metas[0], httpOnly.metas[0]);
  const msgs = r.entries.slice(1).map(ws);
  assert.deepEqual(
    msgs.map((e) => [e.id, e.upgradeId, e.request !== null ? 'c' : 's', (e.request ?? e.response)!.opcode, (e.request ?? e.response)!.payload.text]),
    [
      ['7-1', '7-0', 's', 'text', 'welcome'],
      ['7-2', '7-0', 'c', 'text', '{"user":"ann","password":"hunter2"}'],
      ['7-3', '7-0', 'c', 'ping', 'p'],
      ['7-4', '7-0', 'c', 'binary', 'abcd'],
      ['7-5', '7-0', 's', 'pong', 'p'],
      ['7-6', '7-0', 'c', 'close', 'done'],
      ['7-7', '7-0', 's', 'close', ''],
    ],
  );
  const first = msgs[0];
  assert.equal(first.protocol.name, 'websocket');
  assert.equal(first.src.ip, '10.0.0.1');
  assert.equal(first.dst.port, 80);
  assert.equal(first.requestSize, 0);
  assert.equal(first.responseSize, serverHello.length);
  assert.equal(first.error, null);
  assert.equal(msgs[5].request!.closeCode, 1000);
  // Where each message starts in its sender's direction: right after the 101 / the upgrade request.
  const reqLen = Buffer.byteLength(REQ, 'latin1');
  const resLen = Buffer.byteLength(R101, 'latin1');
  assert.deepEqual(r.metas[1], { requestSeq: SEQ_ORIGIN[1] + resLen });
  assert.deepEqual(r.metas[2], { requestSeq: SEQ_ORIGIN[0] + reqLen });
  assert.deepEqual(r.metas[3], { requestSeq: SEQ_ORIGIN[0] + reqLen + clientText.length + 8 });
  assert.equal(r.stats.entries, 8);
  assert.equal(r.stats.dissectionErrors, 0);
});

test('an upgrade refused (no 101) keeps HTTP/1 on the connection', () => {
  const steps: Step[] = [
    c(REQ),
    s('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 2\r\n\r\nno', 1000),
    c('GET /next HTTP/1.1\r\nHost: ws.example\r\n\r\n', 2000),
    s('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 3000),
    { close: 'fin', us: 4000 },
  ];
  const r = runEveryWay(steps);
  assert.deepEqual(
    r.entries.filter(isHttpEntry).map((e) => [e.protocol.name, e.request.url, e.response?.status]),
    [
      ['http', '/chat', 426],
      ['http', '/next', 200],
    ],
  );
});

test('without a WebSocket dissector registered, a 101 ends dissection as before', () => {
  const r = runEveryWay([c(REQ), s(Buffer.concat([Buffer.from(R101, 'latin1'), serverHello]), 1000), c(clientText, 2000), { close: 'fin', us: 3000 }], [http1Dissector]);
  assert.equal(r.entries.length, 1);
  assert.equal(r.stats.dissectionErrors, 0);
});

test('permessage-deflate as the 101 accepted it: client with, server without context takeover', () => {
  const ext = 'permessage-deflate; server_no_context_takeover';
  const client = new DeflateSender(true);
  const server = new DeflateSender(false);
  const steps: Step[] = [c(UPGRADE_REQUEST('permessage-deflate; client_max_window_bits')), s(SWITCHING(ext), 1000)];
  for (let i = 0; i < 3; i++) {
    steps.push(c(frame({ opcode: TEXT, rsv: 4, payload: client.compress(`{"n":${i},"text":"same text every time"}`), mask: KEY }), 2000 + i));
    steps.push(s(frame({ opcode: TEXT, rsv: 4, payload: server.compress(`echo ${i}: same text every time`) }), 3000 + i));
  }
  const r = runEveryWay(steps);
  assert.deepEqual(
    r.entries.slice(1).map((e) => ws(e)).map((e) => [(e.request ?? e.response)!.payload.text, (e.request ?? e.response)!.compressed, e.error]),
    [0, 1, 2].flatMap((i) => [
      [`{"n":${i},"text":"same text every time"}`, true, null],
      [`echo ${i}: same text every time`, true, null],
    ]),
  );
});

test('a gap inside a payload marks that message; a gap that may hold a header stops the direction', () => {
  const big = frame({ opcode: BINARY, payload: 'x'.repeat(100) });
  const steps: Step[] = [
    c(REQ),
    s(R101, 1000),
    s(big.subarray(0, 20), 2000),
    { gap: 50, dir: 1, us: 2100 },
    s(big.subarray(70), 2200),
    s(serverHello, 2300),
    { gap: 3, dir: 1, us: 2400 },
    s(serverHello, 2500),
    c(clientText, 2600),
    { close: 'fin', us: 3000 },
  ];
  const r = runEveryWay(steps);
  const msgs = r.entries.slice(1).map(ws);
  assert.deepEqual(
    msgs.map((e) => [(e.request ?? e.response)!.opcode, (e.request ?? e.response)!.payload.size, e.error?.msg ?? '']),
    [
      ['binary', 100, '50 payload bytes lost in capture'],
      ['text', 7, ''],
      ['text', 35, ''],
    ],
  );
  assert.equal(msgs[0].response!.payload.truncated, true);
  assert.equal(r.stats.dissectionErrors, 1);
});

test('a message cut by the end of the capture is emitted, marked', () => {
  const r = runEveryWay([c(REQ), s(R101, 1000), c(frame({ opcode: TEXT, payload: 'part', fin: false, mask: KEY }), 2000), { close: 'end-of-capture', us: 3000 }]);
  const last = ws(r.entries[1]);
  assert.equal(last.request!.payload.text, 'part');
  assert.equal(last.error?.msg, 'capture ended inside the message');
});

test('a framing violation after the hand-off drops the connection as bad input (ProtocolViolation), after the upgrade entry', () => {
  const rec = recorder();
  const registry = new DissectorRegistry(rec.ctx);
  const h = registry.open(fakeConn());
  play(h, [c(REQ), s(R101, 1000)]);
  assert.throws(() => play(h, [s(frame({ opcode: 0x3 }), 2000)]), { name: 'ProtocolViolation' });
  assert.equal(rec.all.length, 1);
  // Counted as WebSocket's violation, not as one of HTTP/1 (whose stream handed the connection off).
  assert.equal(rec.stats.protocols['websocket']?.violations, 1);
  assert.equal(rec.stats.protocols['http']?.violations ?? 0, 0);
});

test("a gap that loses WebSocket framing is WebSocket's violation, once", () => {
  const rec = recorder();
  const h = new DissectorRegistry(rec.ctx).open(fakeConn());
  play(h, [c(REQ), s(R101, 1000), s(serverHello, 2000), { gap: 3, dir: 1, us: 2100 }, { close: 'fin', us: 3000 }]);
  assert.equal(rec.stats.dissectionErrors, 1);
  assert.equal(rec.stats.protocols['websocket']?.violations, 1);
  assert.equal(rec.stats.protocols['http']?.violations ?? 0, 0);
});
