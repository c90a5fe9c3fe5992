/** Message assembly and permessage-deflate, fed by the real frame parser: fragments, controls, limits, bombs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { ProtocolViolation } from '../../thrown-errors.ts';
import { bodyLimits } from '../body/body-collector.ts';
import { FrameParser } from './frame-parser.ts';
import { MessageAssembler, type AssembledMessage } from './message-assembler.ts';
import { MessageInflater, negotiatedDeflate } from './permessage-deflate.ts';
import { BINARY, CLOSE, CONT, DeflateSender, KEY, PING, PONG, TEXT, closePayload, frame } from '../../../../test/helpers/websocket-frames.ts';

function assemble(bytes: Buffer, opts: { keep?: number; inflater?: MessageInflater | null } = {}): AssembledMessage[] {
  const out: AssembledMessage[] = [];
  const asm = new MessageAssembler(bodyLimits(opts.keep ?? 64 * 1024), opts.inflater ?? null, (m) => out.push(m));
  new FrameParser(asm).push(bytes, 5);
  return out;
}

test('fragments are joined; a ping between fragments is its own message and comes first', () => {
  const bytes = Buffer.concat([
    frame({ opcode: TEXT, payload: 'Hel', fin: false, mask: KEY }),
    frame({ opcode: PING, payload: 'are you there', mask: KEY }),
    frame({ opcode: CONT, payload: 'lo, ', fin: false, mask: KEY }),
    frame({ opcode: CONT, payload: 'world', mask: KEY }),
    frame({ opcode: PONG, payload: '' }),
  ]);
  const msgs = assemble(bytes);
  assert.deepEqual(
    msgs.map((m) => [m.message.opcode, m.message.frames, m.message.payloadLength, m.message.payload.text, m.message.masked, m.startOffset]),
    [
      ['ping', 1, 13, 'are you there', true, 9],
      ['text', 3, 12, 'Hello, world', true, 0],
      ['pong', 1, 0, '', false, 49],
    ],
  );
  assert.equal(msgs[1].wireBytes, 9 + 10 + 11);
  assert.equal(msgs[0].startOffset + msgs[0].wireBytes + 10 + 11, 49);
  assert.equal(msgs[1].problem, '');
});

test('close frames: code and reason; an empty close has code 0', () => {
  const msgs = assemble(Buffer.concat([frame({ opcode: CLOSE, payload: closePayload(4001, 'going away: bye') }), frame({ opcode: CLOSE })]));
  assert.deepEqual(
    msgs.map((m) => [m.message.closeCode, m.message.closeReason, m.message.payload.text]),
    [
      [4001, 'going away: bye', 'going away: bye'],
      [0, '', ''],
    ],
  );
});

test('binary payloads that are not UTF-8 are base64; text is cut at --max-body, sizes stay whole', () => {
  const bin = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
  const big = 'é'.repeat(100); // 200 bytes
  const msgs = assemble(Buffer.concat([frame({ opcode: BINARY, payload: bin }), frame({ opcode: TEXT, payload: big, mask: KEY })]), { keep: 51 });
  assert.deepEqual(msgs[0].message.payload, { size: 4, mimeType: 'application/octet-stream', text: bin.toString('base64'), encoding: 'base64' });
  const t = msgs[1].message.payload;
  assert.equal(t.size, 200);
  assert.equal(t.truncated, true);
  assert.equal(t.text, 'é'.repeat(25)); // the character cut by the limit is dropped, not turned into base64
  assert.equal(msgs[1].message.payloadLength, 200);
});

test('message-level violations throw ProtocolViolation', () => {
  const bad: [string, Buffer][] = [
    ['continuation without a message', frame({ opcode: CONT, payload: 'x' })],
    ['new message inside a fragmented one', Buffer.concat([frame({ opcode: TEXT, fin: false }), frame({ opcode: BINARY })])],
    ['RSV1 without permessage-deflate', frame({ opcode: TEXT, rsv: 4, payload: 'x' })],
    ['RSV1 on a control frame', frame({ opcode: PING, rsv: 4 })],
  ];
  for (const [name, bytes] of bad) assert.throws(() => assemble(bytes), ProtocolViolation, name);
  const withDeflate = Buffer.concat([frame({ opcode: TEXT, rsv: 4, fin: false, payload: 'x' }), frame({ opcode: CONT, rsv: 4 })]);
  assert.throws(() => assemble(withDeflate, { inflater: new MessageInflater(true) }), ProtocolViolation, 'RSV1 on a continuation');
});

test('negotiated permessage-deflate parameters come from the 101 response', () => {
  assert.equal(negotiatedDeflate(undefined), null);
  assert.equal(negotiatedDeflate('x-webkit-deflate-frame'), null);
  assert.deepEqual(negotiatedDeflate('permessage-deflate'), { clientNoContextTakeover: false, serverNoContextTakeover: false });
  assert.deepEqual(negotiatedDeflate('foo, Permessage-Deflate; Server_No_Context_Takeover; client_max_window_bits=10'), {
    clientNoContextTakeover: false,
    serverNoContextTakeover: true,
  });
  assert.deepEqual(negotiatedDeflate('permessage-deflate; client_no_context_takeover, permessage-deflate; server_no_context_takeover'), {
    clientNoContextTakeover: true,
    serverNoContextTakeover: false,
  });
});

for (const takeover of [true, false]) {
  test(`permessage-deflate ${takeover ? 'with' : 'without'} context takeover: every message inflates, fragmented too`, () => {
    const sender = new DeflateSender(takeover);
    const texts = ['{"hello":"world","n":1}', '{"hello":"world","n":2}', 'again {"hello":"world"} again', ''];
    const frames: Buffer[] = [];
    for (const t of texts) {
      const z = sender.compress(t);
      // The third message comes in two fragments: RSV1 only on the first.
      if (t.startsWith('again')) frames.push(frame({ opcode: TEXT, rsv: 4, fin: false, payload: z.subarray(0, 3) }), frame({ opcode: CONT, payload: z.subarray(3) }));
      else frames.push(frame({ opcode: TEXT, rsv: 4, payload: z, mask: KEY }));
    }
    frames.push(frame({ opcode: TEXT, payload: 'not compressed' }));
    const msgs = assemble(Buffer.concat(frames), { inflater: new MessageInflater(takeover) });
    assert.deepEqual(
      msgs.map((m) => [m.message.payload.text, m.message.compressed, m.problem]),
      [...texts.map((t) => [t, true, '']), ['not compressed', false, '']],
    );
    assert.equal(msgs[0].message.payload.size, texts[0].length);
    assert.ok(msgs[1].message.payloadLength < texts[1].length || !takeover, 'takeover shortens the repeated message');
  });
}

test('context takeover: a message that could not be inflated makes the later ones undecodable, marked and shown raw', () => {
  const sender = new DeflateSender(true);
  const a = sender.compress('first message');
  const b = sender.compress('first message again');
  const corrupt = Buffer.from([0xff, 0xff, 0xff]);
  const msgs = assemble(Buffer.concat([frame({ opcode: TEXT, rsv: 4, payload: corrupt }), frame({ opcode: TEXT, rsv: 4, payload: a }), frame({ opcode: TEXT, rsv: 4, payload: b })]), {
    inflater: new MessageInflater(true),
  });
  assert.equal(msgs.length, 3);
  for (const m of msgs) assert.match(m.problem, /permessage-deflate/);
  assert.equal(msgs[1].message.payload.text, a.toString('base64'));
});

test('a decompression bomb stops at the output bound: a prefix is kept, memory and time stay bounded', () => {
  // 200 MiB of zeros deflates to about 200 KiB; inflated whole it would not fit the bound (64 MiB).
  const bomb = zlib.deflateRawSync(Buffer.alloc(200 * 1024 * 1024), { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = bomb.subarray(0, bomb.length - 4);
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const msgs = assemble(frame({ opcode: BINARY, rsv: 4, payload }), { keep: 1000, inflater: new MessageInflater(true) });
  const ms = performance.now() - started;
  const m = msgs[0];
  assert.equal(m.message.payload.truncated, true);
  assert.ok(m.message.payload.text.length > 500 && m.message.payload.text.length <= 1000, `a prefix up to --max-body is kept (${m.message.payload.text.length})`);
  assert.equal(m.message.payload.size, 64 * 1024 * 1024, 'the size is the bound, a lower bound');
  assert.match(m.problem, /more than 67108864 bytes/);
  assert.ok(process.memoryUsage().rss - before < 400 * 1024 * 1024, 'memory stays bounded');
  assert.ok(ms < 20_000, `took ${ms} ms`);
});
