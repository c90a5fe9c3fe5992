/**
 * The guard of the chunked NDJSON writer (issue 17): whatever path a line takes through
 * LineWriter (the one-pass ASCII path, the measured slow path, a line longer than a chunk, a flush
 * on the next turn), the bytes on the stream are exactly `stringifyJson(entry) + "\n"` per entry:
 * JSON.stringify's text, with only DEL, C1 and U+2028/U+2029 spelled as \u escapes (the same JSON
 * value). Checked on every entry of every corpus capture and the demo, and on hostile values.
 */
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Entry } from '../../model/entry.ts';
import { stringifyJson } from '../../model/terminal-text.ts';
import { EntryRedactor } from '../../remote-agent/redact/index.ts';
import { buildEntry } from '../../../test/helpers/entries.ts';
import { readIndex, REPO_ROOT, sharedPcapsDir } from '../../../test/helpers/shared-pcaps.ts';
import { readEntriesOf } from '../read-capture.ts';
import { CHUNK_BYTES, LineWriter } from './line-writer.ts';

/** Every corpus capture and the demo recording, as `read` names them. */
function corpusFiles(): string[] {
  const dir = sharedPcapsDir();
  return [...readIndex(dir).map((r) => join(dir, r.file)), join(REPO_ROOT, 'assets', 'demo', 'microservices.pcapng')];
}

/** What the writer must produce: the old sink's line per value. */
function expectedBytes(values: readonly object[]): Buffer {
  return Buffer.from(values.map((v) => `${stringifyJson(v)}\n`).join(''), 'utf8');
}

/** The entries through a LineWriter into a real file, read back. */
async function throughFile(entries: readonly Entry[]): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'shark-json-lines-'));
  try {
    const path = join(dir, 'out.ndjson');
    const out = createWriteStream(path);
    const writer = new LineWriter(out);
    for (const entry of entries) {
      writer.writeJson(entry);
      const wait = writer.drained();
      if (wait !== undefined) await wait;
    }
    await writer.end();
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A reader that takes its chunks on later turns, so lines queue, the stream fills and drains. */
function slowCollector(highWaterMark: number): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return `lengths ${a.length} and ${b.length}, first difference at byte ${i}: ${JSON.stringify(a.subarray(Math.max(0, i - 40), i + 40).toString('latin1'))} vs ${JSON.stringify(b.subarray(Math.max(0, i - 40), i + 40).toString('latin1'))}`;
}

for (const redacted of [true, false]) {
  test(`every entry of every corpus capture and the demo (${redacted ? 'redacted' : '--no-redact'}): the bytes are stringifyJson(entry) + newline`, async () => {
    let total = 0;
    for (const file of corpusFiles()) {
      const entries = await readEntriesOf(file, redacted ? { redactor: new EntryRedactor() } : {});
      const got = await throughFile(entries);
      const want = expectedBytes(entries);
      assert.ok(got.equals(want), `${file}: ${firstDifference(got, want)}`);
      // The same JSON value as JSON.stringify: only the spelling of terminal controls differs.
      const lines = got.toString('utf8').split('\n').slice(0, -1);
      lines.forEach((line, i) => assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(entries[i])), `${file} entry ${i}`));
      total += entries.length;
    }
    assert.ok(total > 300, `the corpus gave only ${total} entries`);
  });
}

/** Characters that take every path: JSON escapes, terminal controls, non-ASCII, lone surrogates. */
const hostileChar = fc.oneof(
  fc.constantFrom('"', '\\', '/', '\u0000', '\u0008', '\n', '\r', '\t', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009b', '\u009f', '\u00a0', '\u2028', '\u2029', '\ud800', '\udbff', '\udc00', '\udfff', 'é', '界', '😀', '\ufeff', '\uffff'),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: hostileChar, maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }) },
  // Lines near and past a chunk: the flush-before and written-alone paths.
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: hostileChar, minLength: 1, maxLength: 8 }), fc.integer({ min: 1_000, max: CHUNK_BYTES + 2_000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length))) },
);
const hostileNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(-0, 0, Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 2, 1e21, 5e-324, -1.7976931348623157e308),
  fc.integer(),
);
const headerMap = fc.dictionary(hostileString, hostileString, { maxKeys: 6 });
const endpoint = fc.record({ ip: hostileString, port: hostileNumber, name: hostileString, namespace: hostileString, pod: hostileString, service: hostileString }, { requiredKeys: ['ip', 'port', 'name', 'namespace'] });
const body = fc.record({ size: hostileNumber, mimeType: hostileString, text: hostileString, encoding: fc.constant('base64'), truncated: fc.constantFrom(true, undefined) }, { requiredKeys: ['mimeType', 'text'] });

/**
 * HTTP entries of the tests' one builder, every field hostile (a spec field absent takes the
 * builder's default), with the fields it derives overridden and optional ones present, absent or undefined.
 */
const httpEntry = fc
  .record({
    spec: fc.record(
      {
        id: hostileString,
        protocol: fc.record({ name: fc.constant('http' as const), version: fc.constantFrom('1.1', '2.0'), abbr: hostileString }),
        src: endpoint,
        dst: endpoint,
        elapsedMs: hostileNumber,
        requestSize: hostileNumber,
        responseSize: hostileNumber,
        tls: fc.boolean(),
        httpVersion: hostileString,
        method: hostileString,
        url: hostileString,
        path: hostileString,
        queryString: fc.dictionary(hostileString, fc.oneof(hostileString, fc.array(hostileString, { maxLength: 3 }))),
        requestHeaders: headerMap,
        requestCookies: headerMap,
        postData: fc.option(body),
        requestHeadersSize: hostileNumber,
        requestBodySize: hostileNumber,
        status: fc.option(hostileNumber),
        statusText: hostileString,
        responseHeaders: headerMap,
        responseCookies: headerMap,
        content: body.map((b) => ({ size: 0, ...b })),
        responseHeadersSize: hostileNumber,
        responseBodySize: hostileNumber,
        error: fc.option(fc.record({ type: fc.constantFrom('timeout' as const, 'connection' as const, 'dissection' as const, 'pair-not-found' as const), msg: hostileString })),
      },
      { requiredKeys: [] },
    ),
    startTime: hostileString,
    timestamp: hostileNumber,
    http2: fc.option(fc.record({ streamId: hostileNumber }), { nil: undefined }),
  })
  .map(({ spec, startTime, timestamp, http2 }) => Object.assign(buildEntry(spec), { startTime, timestamp, http2 }));
/** ASCII with its controls and DEL: lines that take the one-pass path, where only DEL needs escaping. */
const asciiString = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 30 });
const asciiObject = fc.dictionary(asciiString, fc.oneof(asciiString, fc.integer(), fc.constant(null)), { maxKeys: 6 });
/** Whatever NDJSON input can hold (any protocol, any key order): objects of any JSON values. */
const anyObject = fc.dictionary(hostileString, fc.jsonValue(), { maxKeys: 8 });

type Op = { readonly json: object } | { readonly text: string };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: httpEntry.map((json): Op => ({ json })) },
  { weight: 2, arbitrary: anyObject.map((json): Op => ({ json })) },
  { weight: 2, arbitrary: asciiObject.map((json): Op => ({ json })) },
  { weight: 1, arbitrary: hostileString.map((text): Op => ({ text })) },
);

test('hostile values through writeJson and write, any mix, any reader speed: the bytes are the old sink\'s, one line per value', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 24 }), fc.integer({ min: 1, max: 200_000 }), async (ops, highWaterMark) => {
      const { out, bytes } = slowCollector(highWaterMark);
      const writer = new LineWriter(out);
      for (const o of ops) {
        if ('json' in o) writer.writeJson(o.json);
        else writer.write(o.text);
        if (ops.length % 2 === 0) {
          const wait = writer.drained();
          if (wait !== undefined) await wait;
        }
      }
      await writer.end();
      const want = Buffer.from(ops.map((o) => ('json' in o ? `${stringifyJson(o.json)}\n` : `${o.text}\n`)).join(''), 'utf8');
      const got = bytes();
      assert.ok(got.equals(want), firstDifference(got, want));
    }),
    { numRuns: 120 },
  );
});

test('a line written and then nothing: it reaches the stream on the next turn, without end()', async () => {
  const { out, bytes } = slowCollector(16_384);
  const writer = new LineWriter(out);
  writer.writeJson({ live: 'entry\u007f' });
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(bytes().toString('utf8'), '{"live":"entry\\u007f"}\n');
});
