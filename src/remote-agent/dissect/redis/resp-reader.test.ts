import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineWords, MAX_DEPTH, MAX_NODES_KEPT, RespReader, type RespMessage } from './resp-reader.ts';
import { startsCommand, startsReply } from './sniff.ts';
import { render } from './text.ts';

function read(bytes: string, client = false, keep = 1024): { messages: RespMessage[]; violations: string[] } {
  const messages: RespMessage[] = [];
  const violations: string[] = [];
  const r = new RespReader({ client, maxKeepBytes: () => keep, startsMessage: client ? startsCommand : startsReply }, { message: (m) => messages.push(m), violation: (w) => violations.push(w) });
  r.data(Buffer.from(bytes, 'latin1'), 1);
  return { messages, violations };
}

test('every RESP3 type, nested, rendered compactly; sizes and wire bytes whole', () => {
  const wire = '*6\r\n%1\r\n+k\r\n~2\r\n:1\r\n,-1.5e3\r\n>1\r\n#f\r\n_\r\n(-12\r\n!5\r\nERR x\r\n=7\r\nmkd:*a*\r\n';
  const { messages, violations } = read(wire);
  assert.deepEqual(violations, []);
  assert.equal(messages.length, 1);
  assert.equal(render(messages[0]!.value, 1000), '[{k: (1, -1.5e3)}, [false], (nil), -12, ERR x, *a*]');
  assert.equal(messages[0]!.wireBytes, wire.length);
});

test('binary and control bytes are escaped like redis-cli does', () => {
  const { messages } = read('$6\r\na\r\n\x00\x1b\xff\r\n');
  assert.equal(render(messages[0]!.value, 100), 'a\\r\\n\\x00\\x1b\\ufffd');
});

test('bounds: nesting past MAX_DEPTH, a 64 KiB line, a bad length are violations; kept elements are capped', () => {
  assert.equal(read('*1\r\n'.repeat(MAX_DEPTH + 1) + ':1\r\n').violations.length, 1);
  assert.equal(read(`+${'a'.repeat(70 * 1024)}\r\n`).violations.length, 1);
  assert.equal(read('$-5\r\n').violations.length, 1);
  const many = read(`*5000\r\n${':1\r\n'.repeat(5000)}`);
  assert.equal(many.messages.length, 1);
  const v = many.messages[0]!.value;
  assert.ok(v.kind === 'array' && v.length === 5000 && v.items.length === MAX_NODES_KEPT);
});

test('after a violation the reader takes up the stream at the next reply line', () => {
  const { messages, violations } = read('?junk\r\nmore junk\r\n+OK\r\n');
  assert.equal(violations.length, 1);
  assert.deepEqual(messages.map((m) => render(m.value, 10)), ['OK']);
});

test('inline words: quotes, escapes, unbalanced quotes refused', () => {
  const words = (s: string) => inlineWords(Buffer.from(s, 'latin1'))?.map((w) => Buffer.from(w).toString('latin1'));
  assert.deepEqual(words('SET  "a b" \'c\\\'d\' "\\x41\\n"'), ['SET', 'a b', "c'd", 'A\n']);
  assert.equal(words('SET "a'), undefined);
});
