import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
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

test('line numbers count every line, blank and over-long ones included, wherever the chunks are cut', () => {
  const text = 'a\n\nbbbbbbbbbbbb\n\r\nc\r\nddddddddddddddd';
  const expected = { lines: [['a', 1], ['c', 5]], overlong: [[12, 3], [15, 6]] };
  for (let cut = 1; cut <= text.length; cut++) {
    const lines: Array<[string, number]> = [];
    const overlong: Array<[number, number]> = [];
    const s = new LineSplitter(10, { line: (l, n) => lines.push([l, n]), overlong: (b, n) => overlong.push([b, n]) });
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += cut) s.push(bytes.subarray(i, i + cut));
    s.end();
    assert.deepEqual({ lines, overlong }, expected, `chunks of ${cut}`);
    assert.equal(s.lines, 6);
  }
});

test('a chunk reused by its producer after push does not change a line already begun', () => {
  const lines: string[] = [];
  const s = new LineSplitter(100, { line: (l) => lines.push(l), overlong: () => {} });
  const buffer = new TextEncoder().encode('abc');
  s.push(buffer);
  buffer.set(new TextEncoder().encode('xyz'));
  s.push(new TextEncoder().encode('def\n'));
  assert.deepEqual(lines, ['abcdef']);
});

test('a Buffer reused by its producer after push does not change a line already begun (Buffer#slice is a view)', () => {
  const lines: string[] = [];
  const s = new LineSplitter(100, { line: (l) => lines.push(l), overlong: () => {} });
  const buffer = Buffer.from('{"a":1}\n{"b":');
  s.push(buffer);
  buffer.write('XXXXXXXXXXXXXX');
  s.push(Buffer.from('2}\n'));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
});

/** What splitting must yield, computed the slow, obvious way on the whole input. */
function reference(bytes: Uint8Array, max: number): { lines: Array<[string, number]>; overlong: Array<[number, number]> } {
  const lines: Array<[string, number]> = [];
  const overlong: Array<[number, number]> = [];
  const parts: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      if (i < bytes.length || i > from) parts.push(bytes.subarray(from, i));
      from = i + 1;
    }
  }
  parts.forEach((part, index) => {
    if (part.length > max) {
      overlong.push([part.length, index + 1]);
      return;
    }
    const text = new TextDecoder().decode(part).replace(/\r$/, '');
    if (text.trim() !== '') lines.push([text, index + 1]);
  });
  return { lines, overlong };
}

test('property: any bytes, any chunking, any limit give the lines and over-long reports of splitting the whole', () => {
  const piece = fc.oneof(
    fc.constantFrom('\n', '\r\n', '\r', ' ', 'é', '€', '{"a":1}', '\u{1F600}'),
    fc.string({ maxLength: 12 }),
    fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString('latin1')),
  );
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 24 }),
      fc.boolean(),
      (pieces, cuts, max, rawBytes) => {
        const bytes = rawBytes ? Uint8Array.from(Buffer.from(pieces.join(''), 'latin1')) : new TextEncoder().encode(pieces.join(''));
        const lines: Array<[string, number]> = [];
        const overlong: Array<[number, number]> = [];
        const s = new LineSplitter(max, { line: (l, n) => lines.push([l, n]), overlong: (b, n) => overlong.push([b, n]) });
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          s.push(bytes.slice(at, at + n));
          at += n;
        }
        s.end();
        assert.deepEqual({ lines, overlong }, reference(bytes, max));
      },
    ),
    { numRuns: 3000 },
  );
});

test('a line beginning with a byte order mark reads the same however the input is cut', () => {
  const bytes = new TextEncoder().encode('{"a":1}\n\ufeff{"b":2}\nend\n');
  for (let cut = 1; cut < bytes.length; cut++) {
    const lines: string[] = [];
    const splitter = new LineSplitter(1024, { line: (text) => lines.push(text), overlong: () => undefined });
    splitter.push(bytes.subarray(0, cut));
    splitter.push(bytes.subarray(cut));
    splitter.end();
    assert.deepEqual(lines, ['{"a":1}', '\ufeff{"b":2}', 'end'], `cut at ${cut}`);
  }
});
