import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentLine, parseControlLine } from './protocol.ts';

test('control frames: filter, stop, and bad lines as values', () => {
  assert.deepEqual(parseControlLine('{"type":"filter","query":"http"}'), { ok: true, frame: { type: 'filter', query: 'http' } });
  assert.deepEqual(parseControlLine('{"type":"stop"}'), { ok: true, frame: { type: 'stop' } });
  const bad = ['nope', '[1]', 'null', '{"type":"filter"}', '{"type":"filter","query":3}', '{"type":"reboot"}'];
  for (const line of bad) {
    const r = parseControlLine(line);
    assert.equal(r.ok, false, line);
    if (!r.ok) assert.match(r.message, /control|filter/);
  }
});

test('agent lines: known frame types parse, others are null', () => {
  assert.equal(parseAgentLine('{"type":"stats","packets":1}')?.type, 'stats');
  assert.equal(parseAgentLine('{"type":"entry","entry":{"id":"1-0"}}')?.type, 'entry');
  assert.equal(parseAgentLine('{"type":"entry"}'), null);
  assert.equal(parseAgentLine('{"type":"gossip"}'), null);
  assert.equal(parseAgentLine('not json'), null);
  assert.equal(parseAgentLine('7'), null);
});
