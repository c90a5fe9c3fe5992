import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { HttpEntry } from '../remote-agent/dissect/http1/entry.ts';
import { newCaptureStats } from '../remote-agent/stats.ts';
import { looksLikeNdjson, NdjsonEntryReader } from './ndjson-entries.ts';

const enc = new TextEncoder();
const entryLine = (id: string): string =>
  JSON.stringify({ id, protocol: { name: 'http', version: '1.1', abbr: 'HTTP' }, src: {}, dst: {}, request: { method: 'GET' }, response: null });

test('NDJSON is recognised by its first non-blank byte', () => {
  assert.equal(looksLikeNdjson(enc.encode('\n  {"id":"1"}')), true);
  assert.equal(looksLikeNdjson(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1])), false);
  assert.equal(looksLikeNdjson(new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a])), false);
});

test('entries split across chunks anywhere (even inside a UTF-8 character) are read whole; bad lines are counted', () => {
  const text = `${entryLine('0-0')}\nnot json\n${JSON.stringify({ id: 'x' })}\n${entryLine('0-1').replace('GET', 'GÉT')}\n${entryLine('1-0')}`;
  const bytes = enc.encode(text);
  for (const size of [1, 2, 7, bytes.length]) {
    const stats = newCaptureStats();
    const got: HttpEntry[] = [];
    const reader = new NdjsonEntryReader((e) => got.push(e as HttpEntry), stats);
    for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
    assert.deepEqual(reader.end(), { truncated: false, trailingBytes: 0 });
    assert.deepEqual(got.map((e) => e.id), ['0-0', '0-1', '1-0'], `chunks of ${size}`);
    assert.equal(got[1]!.request.method, 'GÉT');
    assert.equal(stats.malformed, 2);
    assert.equal(stats.entries, 3);
  }
});

test('a last line cut short is a truncation', () => {
  const reader = new NdjsonEntryReader(() => undefined, newCaptureStats());
  reader.push(enc.encode(`${entryLine('0-0')}\n{"id":"0-1","proto`));
  assert.equal(reader.end().truncated, true);
});

test('the capture agent output reads as entries: entry frames unwrapped, other frames skipped', () => {
  const stats = newCaptureStats();
  const got: HttpEntry[] = [];
  const reader = new NdjsonEntryReader((e) => got.push(e as HttpEntry), stats);
  const entry = JSON.parse(entryLine('7-0')) as HttpEntry;
  const lines = [
    { type: 'hello', version: 1 },
    { type: 'entry', entry },
    { type: 'stats', packets: 3 },
    { type: 'warning', code: 'BACKPRESSURE', message: 'x' },
    { type: 'entry', entry: { id: 'no-shape' } },
    { type: 'bye', reason: 'stop' },
  ];
  reader.push(new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  reader.end();
  assert.deepEqual(got, [entry]);
  assert.equal(stats.malformed, 1, 'only the entry frame without an entry shape is malformed');
});

test('agent output captured with --no-redact is reported once (hello or its REDACTION_OFF warning), also by readCaptures', async () => {
  const stats = newCaptureStats();
  let calls = 0;
  const reader = new NdjsonEntryReader(() => {}, stats, { onRedactionOff: () => calls++ });
  const frames = [
    { type: 'hello', version: 1, redaction: { enabled: false, keys: [] } },
    { type: 'warning', code: 'REDACTION_OFF', message: 'redaction is off' },
    { type: 'entry', entry: JSON.parse(entryLine('1-0')) },
  ];
  reader.push(enc.encode(frames.map((f) => JSON.stringify(f)).join('\n') + '\n'));
  assert.equal(calls, 1);

  const quiet = new NdjsonEntryReader(() => {}, newCaptureStats(), { onRedactionOff: () => calls++ });
  quiet.push(enc.encode(`${JSON.stringify({ type: 'hello', version: 1, redaction: { enabled: true, keys: ['token'] } })}\n${entryLine('2-0')}\n`));
  assert.equal(calls, 1, 'redaction on: nothing to report');

  const { readCaptures } = await import('./read-capture.ts');
  let flagged = 0;
  const result = await readCaptures(
    [{ label: 'agent.ndjson', chunks: Readable.from([enc.encode(frames.map((f) => JSON.stringify(f)).join('\n') + '\n')]) }],
    () => {},
    { onRedactionOff: () => flagged++ },
  );
  assert.equal(flagged, 1);
  assert.deepEqual(result.warnings.map((w) => w.code), ['REDACTION_OFF']);
  assert.match(result.warnings[0]!.message, /^agent\.ndjson: captured by an agent with redaction off/);
});

test('with a redactor, readCaptures redacts NDJSON from a --no-redact agent again and says the file holds secrets', async () => {
  const { readCaptures } = await import('./read-capture.ts');
  const { EntryRedactor } = await import('../remote-agent/redact/index.ts');
  const entry = JSON.parse(entryLine('3-0')) as HttpEntry;
  entry.request = { ...entry.request, url: '/p?token=t1&page=2', headers: { Authorization: 'Bearer t2', Accept: '*/*' }, cookies: { sid: 't3' }, queryString: { token: 't1', page: '2' } };
  const frames = [{ type: 'hello', version: 1, redaction: { enabled: false, keys: [] } }, { type: 'entry', entry }];
  const got: HttpEntry[] = [];
  let flagged = 0;
  const result = await readCaptures(
    [{ label: 'plain.ndjson', chunks: Readable.from([enc.encode(frames.map((f) => JSON.stringify(f)).join('\n') + '\n')]) }],
    (e) => got.push(e as HttpEntry),
    { redactor: new EntryRedactor(), onRedactionOff: () => flagged++ },
  );
  assert.equal(flagged, 0, 'the output is redacted: no REDACTION OFF mark');
  assert.deepEqual(result.warnings.map((w) => w.code), ['UNREDACTED_INPUT']);
  assert.match(result.warnings[0]!.message, /^plain\.ndjson: written with redaction off \(--no-redact\), so the file holds secrets as captured; they are redacted in this output/);
  const json = JSON.stringify(got);
  for (const s of ['t1', 't2', 't3']) assert.ok(!json.includes(`${s}"`) && !json.includes(`${s}&`) && !json.includes(` ${s}`), `leaked ${s}: ${json}`);
  assert.equal(got[0]!.request.url, '/p?token=[REDACTED]&page=2');
  assert.equal(got[0]!.request.headers.Accept, '*/*');
});

test('a line longer than maxLineBytes is skipped and counted with its line number; the lines after it are read', () => {
  const stats = newCaptureStats();
  const got: HttpEntry[] = [];
  const skipped: Array<[number, number]> = [];
  const reader = new NdjsonEntryReader((e) => got.push(e as HttpEntry), stats, { maxLineBytes: 200, onOversizedLine: (n, bytes) => skipped.push([n, bytes]) });
  const long = `{"id":"${'x'.repeat(5000)}"}`;
  const bytes = enc.encode(`${entryLine('0-0')}\n\n${long}\n${entryLine('0-1')}\n${long}`);
  for (let i = 0; i < bytes.length; i += 64) reader.push(bytes.subarray(i, i + 64));
  assert.deepEqual(reader.end(), { truncated: false, trailingBytes: 0 }, 'a skipped last line is counted, not a truncation');
  assert.deepEqual(got.map((e) => e.id), ['0-0', '0-1']);
  assert.deepEqual(skipped, [[3, long.length], [5, long.length]]);
  assert.equal(stats.oversizedLines, 2);
  assert.equal(stats.malformed, 0);
});

test('lines that cannot be an entry are malformed without being parsed: a flood of garbage lines is read at line speed', () => {
  const stats = newCaptureStats();
  const reader = new NdjsonEntryReader(() => {}, stats);
  const garbage = enc.encode('x\n'.repeat(1_000_000));
  const started = performance.now();
  reader.push(garbage);
  reader.end();
  const ms = performance.now() - started;
  assert.equal(stats.malformed, 1_000_000);
  // JSON.parse throwing on each would take seconds (about 4 µs a line).
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms for a million garbage lines`);
});

test('entry frames with fields this reader does not know (requestSeq) read as their entry, unchanged', () => {
  const stats = newCaptureStats();
  const got: HttpEntry[] = [];
  const reader = new NdjsonEntryReader((e) => got.push(e as HttpEntry), stats);
  const entry = JSON.parse(entryLine('3-1')) as HttpEntry;
  reader.push(enc.encode(`${JSON.stringify({ type: 'entry', entry, requestSeq: 4_294_967_000, futureField: { x: 1 } })}\n`));
  assert.deepEqual(reader.end(), { truncated: false, trailingBytes: 0 });
  assert.deepEqual(got, [entry], 'the entry as sent, without the frame fields');
  assert.equal(stats.malformed, 0);
});

test('a line without both endpoints as objects is not an entry: counted as malformed, never a crash', async () => {
  const { readCaptures } = await import('./read-capture.ts');
  const lines = [
    '{"id":"no-dst","protocol":{"name":"http"},"request":{},"src":{"ip":"1.2.3.4","name":""}}',
    '{"id":"null-src","protocol":{"name":"http"},"request":{},"src":null,"dst":{}}',
    entryLine('kept'),
  ];
  const got: string[] = [];
  const result = await readCaptures([{ label: 'odd.ndjson', chunks: Readable.from([enc.encode(lines.join('\n'))]) }], (e) => got.push(e.id));
  assert.deepEqual(got, ['kept']);
  assert.equal(result.stats.malformed, 2);
  assert.equal(result.stats.entries, 1);
});
