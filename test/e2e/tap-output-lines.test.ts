/**
 * How `tap -o json` and `-o text` write an entry (cmd/tap.ts writeTapEntry): the merger's JSON when
 * nothing was redacted, else the entry serialised straight into the output chunk; the bytes are
 * stringifyJson's either way, and past the output budget entries are dropped and counted.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { OUTPUT_BUDGET_CHARS, writeTapEntry } from '../../cmd/tap.ts';
import { compileKfl } from '../../src/kfl/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import { stringifyJson } from '../../src/model/terminal-text.ts';
import { LineWriter } from '../../src/pipeline/sinks/line-writer.ts';
import { formatEntryLine } from '../../src/pipeline/sinks/text-line.ts';
import { buildEntry } from '../helpers/entries.ts';

function collector(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Values JSON.stringify leaves raw that a terminal acts on: stringifyJson escapes them. */
const hostile = (): Entry => buildEntry({ url: '/a\u007fb\u2028c\u0085d', method: 'GET' });

test('json: stringifyJson bytes for an entry without the merger\'s JSON, hostile text escaped', async () => {
  const { out, text } = collector();
  const writer = new LineWriter(out);
  const e = hostile();
  assert.equal(writeTapEntry(writer, true, e, e, undefined), true);
  await writer.end();
  assert.equal(text(), `${stringifyJson(e)}\n`);
  assert.ok(text().includes('\\u007f') && text().includes('\\u2028'), text());
});

test('json: the merger\'s JSON as it came when nothing was redacted, even under a filter', async () => {
  const { out, text } = collector();
  const writer = new LineWriter(out);
  const e = buildEntry({ url: '/items' });
  const merged = stringifyJson(e);
  const compiled = compileKfl('http');
  assert.ok(compiled.ok);
  const shown = compiled.filter.redact(e);
  assert.equal(writeTapEntry(writer, true, shown, e, merged), true);
  await writer.end();
  assert.equal(text(), `${merged}\n`);
});

test('json: a redacted copy is serialised, never the merger\'s JSON of the original', async () => {
  const { out, text } = collector();
  const writer = new LineWriter(out);
  const e = buildEntry({ url: '/secret-path' });
  const compiled = compileKfl('http and redact("request.path")');
  assert.ok(compiled.ok);
  const shown = compiled.filter.redact(e);
  assert.notEqual(shown, e);
  assert.equal(writeTapEntry(writer, true, shown, e, stringifyJson(e)), true);
  await writer.end();
  assert.equal(text(), `${stringifyJson(shown)}\n`);
  assert.ok(!text().includes('"path":"/secret-path"'), text());
});

test('text: the text line of what is shown', async () => {
  const { out, text } = collector();
  const writer = new LineWriter(out);
  const e = hostile();
  assert.equal(writeTapEntry(writer, false, e, e, stringifyJson(e)), true);
  await writer.end();
  assert.equal(text(), `${formatEntryLine(e)}\n`);
});

test('past the output budget an entry is dropped and counted, in every form', () => {
  // A reader that never takes anything: the stream's queue fills to the budget.
  const out = new Writable({ highWaterMark: 1, write: () => undefined });
  const writer = new LineWriter(out);
  const e = buildEntry({ url: `/${'x'.repeat(4000)}` });
  const json = stringifyJson(e);
  let written = 0;
  for (let i = 0; written < 2 * OUTPUT_BUDGET_CHARS / json.length && i < 100_000; i++) {
    const kept = [writeTapEntry(writer, true, e, e, json), writeTapEntry(writer, true, e, e, undefined), writeTapEntry(writer, false, e, e, undefined)];
    if (kept.every((k) => !k)) break;
    written++;
  }
  const before = writer.dropped;
  assert.equal(writeTapEntry(writer, true, e, e, json), false);
  assert.equal(writeTapEntry(writer, true, e, e, undefined), false);
  assert.equal(writeTapEntry(writer, false, e, e, undefined), false);
  assert.equal(writer.dropped, before + 3);
  assert.ok(out.writableLength <= OUTPUT_BUDGET_CHARS + 2 * 64 * 1024, `queued ${out.writableLength}`);
});
