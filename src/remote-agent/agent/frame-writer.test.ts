import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { Entry } from '../../model/entry.ts';
import { FrameWriter } from './frame-writer.ts';

/** A writable whose consumer can be paused: chunks wait in the stream's queue meanwhile. */
class SlowReader extends Writable {
  paused = false;
  lines: string[] = [];
  #pending: (() => void) | null = null;
  constructor() {
    super({ highWaterMark: 1024, decodeStrings: false });
  }
  override _write(chunk: string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    if (this.paused) this.#pending = cb;
    else cb();
  }
  resume(): void {
    this.paused = false;
    const cb = this.#pending;
    this.#pending = null;
    cb?.();
  }
}

const entry = { id: '1-0', request: { path: '/x'.repeat(100) } } as unknown as Entry;

test('entries are written while the reader keeps up', async () => {
  const out = new SlowReader();
  const w = new FrameWriter(out, 100_000, { closed: () => {} });
  for (let i = 0; i < 50; i++) assert.equal(w.entry(entry), true);
  assert.equal(await w.flush(1000), true);
  assert.equal(w.sent, 50);
  assert.equal(w.dropped, 0);
  assert.equal(out.lines.length, 50);
  assert.deepEqual(JSON.parse(out.lines[0]), { type: 'entry', entry });
});

test('past the budget entries are dropped and counted, small frames still go out, output resumes', async () => {
  const out = new SlowReader();
  out.paused = true;
  const w = new FrameWriter(out, 5_000, { closed: () => {} });
  let kept = 0;
  for (let i = 0; i < 200; i++) if (w.entry(entry)) kept++;
  assert.ok(kept > 0 && kept < 200, `kept ${kept}`);
  assert.equal(w.dropped, 200 - kept);
  assert.ok(w.queuedBytes <= 5_000 + 300, `queue ${w.queuedBytes} stays near the budget`);
  assert.equal(w.frame({ type: 'bye', reason: 'stop' }), true, 'a small frame goes out over budget');
  out.resume();
  await w.flush(1000);
  assert.equal(w.entry(entry), true, 'entries flow again once the reader is back');
});

test('stalledForMs grows only while output waits and nothing is taken', () => {
  let now = 0;
  const out = new SlowReader();
  out.paused = true;
  const w = new FrameWriter(out, 1_000_000, { closed: () => {} }, () => now);
  assert.equal(w.stalledForMs(), 0);
  for (let i = 0; i < 20; i++) w.entry(entry);
  w.stalledForMs(); // first look after the writes records the taken count
  now = 5_000;
  assert.equal(w.stalledForMs(), 5_000);
  out.resume();
  now = 6_000;
  assert.equal(w.stalledForMs(), 0, 'progress resets the clock');
});

test('a write error closes the writer once and later writes are no-ops', () => {
  const out = new Writable({
    write(_c, _e, cb) {
      cb(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
    },
  });
  out.on('error', () => {});
  let closed = 0;
  const w = new FrameWriter(out, 1000, { closed: () => closed++ });
  w.entry(entry);
  return new Promise<void>((resolve) => {
    setImmediate(() => {
      assert.equal(closed, 1);
      assert.equal(w.closed, true);
      assert.equal(w.entry(entry), false);
      assert.equal(w.frame({ type: 'bye', reason: 'stop' }), false);
      resolve();
    });
  });
});

test('frames are terminal-safe JSON: DEL and C1 escaped too, the same data parsed back', async () => {
  const out = new SlowReader();
  const w = new FrameWriter(out, 100_000, { closed: () => {} });
  const hostile = { id: '2-0', request: { path: '/\u009b2J\u007f\u001b]0;x\u0007', headers: { 'X-\u0085': '\u2028' } } } as unknown as Entry;
  w.entry(hostile);
  w.frame({ type: 'warning', code: 'FILTER_WARNING', message: 'agent said \u009d52;c;aWQ=\u009c' });
  assert.equal(await w.flush(1000), true);
  for (const line of out.lines) assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, line);
  assert.deepEqual(JSON.parse(out.lines[0]), { type: 'entry', entry: hostile });
  assert.deepEqual(JSON.parse(out.lines[1]), { type: 'warning', code: 'FILTER_WARNING', message: 'agent said \u009d52;c;aWQ=\u009c' });
});

test('an entry frame carries the request\'s sequence number when there is one, beside the entry', async () => {
  const out = new SlowReader();
  const w = new FrameWriter(out, 100_000, { closed: () => {} });
  w.entry(entry, 4_294_967_295);
  w.entry(entry, 0);
  w.entry(entry);
  assert.equal(await w.flush(1000), true);
  assert.deepEqual(out.lines.map((l) => JSON.parse(l)), [
    { type: 'entry', entry, requestSeq: 4_294_967_295 },
    { type: 'entry', entry, requestSeq: 0 },
    { type: 'entry', entry },
  ]);
});
