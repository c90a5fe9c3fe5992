import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from './line-splitter.ts';

function collect(max: number, chunks: string[], end = true): { lines: string[]; overlong: number[] } {
  const lines: string[] = [];
  const overlong: number[] = [];
  const s = new LineSplitter(max, { line: (l) => lines.push(l), overlong: (n) => overlong.push(n) });
  for (const c of chunks) s.push(new TextEncoder().encode(c));
  if (end) s.end();
  return { lines, overlong };
}

test('lines split across chunks, CRLF and blank lines', () => {
  assert.deepEqual(collect(100, ['{"a":', '1}\n{"b"', ':2}\r\n\n\n{"c":3}']).lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a last line without a newline is kept only at end()', () => {
  assert.deepEqual(collect(100, ['x\ny'], false).lines, ['x']);
  assert.deepEqual(collect(100, ['x\ny'], true).lines, ['x', 'y']);
});

test('an over-long line is skipped and reported, the next one is read', () => {
  const r = collect(8, ['123456', '789012\nok\n']);
  assert.deepEqual(r.lines, ['ok']);
  assert.deepEqual(r.overlong, [12]);
});

test('multi-byte characters split across chunks decode whole', () => {
  const bytes = new TextEncoder().encode('{"q":"é€"}\n');
  const lines: string[] = [];
  const s = new LineSplitter(100, { line: (l) => lines.push(l), overlong: () => {} });
  for (const b of bytes) s.push(Uint8Array.of(b));
  assert.deepEqual(lines, ['{"q":"é€"}']);
});
