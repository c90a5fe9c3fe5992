import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { LineWriter } from './line-writer.ts';
import { stringifyJson } from '../../model/terminal-text.ts';

/** A reader that takes nothing until released: what `tap -o json | slow-consumer` looks like. */
function stalledReader(): { out: Writable; release: () => void; lines: string[] } {
  const lines: string[] = [];
  let pending: Array<() => void> = [];
  let stalled = true;
  const out = new Writable({
    highWaterMark: 1024,
    decodeStrings: false,
    write(chunk: string, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
      if (stalled) pending.push(() => cb());
      else cb();
    },
  });
  return {
    out,
    lines,
    release() {
      stalled = false;
      const p = pending;
      pending = [];
      for (const cb of p) cb();
    },
  };
}

test('writeOrDrop: past the budget lines are dropped and counted, memory stays near the budget; writes resume when the reader does', async () => {
  const { out, release, lines } = stalledReader();
  const w = new LineWriter(out);
  const line = 'x'.repeat(100);
  let kept = 0;
  for (let i = 0; i < 10_000; i++) if (w.writeOrDrop(line, 10_000)) kept++;
  assert.ok(out.writableLength <= 10_000 + 200, `queued ${out.writableLength}`);
  assert.equal(w.dropped, 10_000 - kept);
  assert.ok(kept >= 90 && kept <= 110, `kept ${kept}`);
  release();
  await new Promise((r) => setImmediate(r));
  assert.equal(w.writeOrDrop(line, 10_000), true);
  await w.end();
  assert.equal(lines.length, kept + 1);
});

test('writeJsonOrDrop: stringifyJson bytes while within the budget, dropped and counted past it', async () => {
  const { out, release, lines } = stalledReader();
  const w = new LineWriter(out);
  const value = { text: 'x'.repeat(90), del: '\u007f', sep: '\u2028' };
  let kept = 0;
  for (let i = 0; i < 10_000; i++) if (w.writeJsonOrDrop(value, 10_000)) kept++;
  assert.ok(out.writableLength <= 10_000 + 200, `queued ${out.writableLength}`);
  assert.equal(w.dropped, 10_000 - kept);
  assert.ok(kept >= 50 && kept <= 110, `kept ${kept}`);
  release();
  await w.end();
  assert.equal(lines.length, kept);
  assert.ok(lines.every((l) => l === stringifyJson(value)), lines[0]);
});
