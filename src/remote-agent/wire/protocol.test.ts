import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_FRAME_TYPES, parseAgentLine, parseControlLine } from './protocol.ts';

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

test('the one frame-type list: each type parses, and docs/agent-protocol.md has a row for each and no other', () => {
  for (const type of AGENT_FRAME_TYPES) {
    const line = type === 'entry' ? '{"type":"entry","entry":{}}' : JSON.stringify({ type });
    assert.equal(parseAgentLine(line)?.type, type, line);
  }
  const doc = readFileSync(new URL('../../../docs/agent-protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Frames on stdout'), doc.indexOf('Stats counters'));
  const documented = [...section.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), [...AGENT_FRAME_TYPES].sort());
});
