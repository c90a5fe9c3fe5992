/**
 * The guard of `read F.ndjson --filter Q`'s fast path (NdjsonQuickReject): with it, readCaptures
 * hands out exactly the entries, counts and warnings it hands out when every line is parsed, on
 * real NDJSON (what `read -o json` writes from every corpus capture and the demo, redacted and
 * not) with hostile and malformed lines mixed in, for many queries, cut into chunks anywhere.
 */
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { compileKfl } from '../kfl/index.ts';
import type { Entry } from '../model/entry.ts';
import { stringifyJson } from '../model/terminal-text.ts';
import { EntryRedactor } from '../remote-agent/redact/index.ts';
import { NdjsonQuickReject } from './ndjson-quick-reject.ts';
import { readCaptures, readEntriesOf, type CaptureInput, type ReadResult } from './read-capture.ts';
import { BENCH_KFL_QUERIES } from '../../test/bench/kfl-queries.ts';
import { captureFilesUnder } from '../../test/helpers/shared-pcaps.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const enc = new TextEncoder();


/** NDJSON lines as `read -o json` writes them, from every corpus capture and the demo. */
async function corpusLines(redact: boolean): Promise<string[]> {
  const files = [...captureFilesUnder(join(ROOT, 'test', 'fixtures', 'pcaps')), join(ROOT, 'assets', 'demo', 'microservices.pcapng')];
  const lines: string[] = [];
  for (const file of files) {
    const entries = await readEntriesOf(file, redact ? { redactor: new EntryRedactor() } : {});
    for (const e of entries) lines.push(stringifyJson(e));
  }
  return lines;
}

const envelope = '"protocol":{"name":"http","version":"1.1","abbr":"HTTP"},"src":{"ip":"10.0.0.1","port":1234,"name":"","namespace":""},"dst":{"ip":"10.0.0.2","port":80,"name":"","namespace":""}';
const httpLine = (id: string, rest: string): string => `{"id":"${id}",${envelope},${rest}}`;

/** Lines a file may hold that no `read` wrote: each must count and filter as the full parse says. */
const HOSTILE: readonly string[] = [
  'not json',
  '{',
  '{}',
  '{"id":"x"}',
  '[1,2,3]',
  '{"type":"hello","redaction":{"enabled":true}}',
  '{"type":"stats"}',
  '{"type":"entry","entry":' + httpLine('frame-1', '"request":{"method":"GET"},"response":{"status":404}') + '}',
  httpLine('ok-404', '"request":{"method":"GET","headers":{"Authorization":"Bearer abc"}},"response":{"status":404,"headers":{}}'),
  httpLine('ok-200', '"request":{"method":"GET"},"response":{"status":200}'),
  httpLine('trailing-comma', '"request":{"method":"GET"},"response":{"status":404},'),
  httpLine('dup-status', '"request":{"method":"GET"},"response":{"status":404,"status":200}'),
  httpLine('dup-response', '"request":{"method":"GET"},"response":{"status":200},"response":{"status":500}'),
  httpLine('dup-response-string', '"request":{"method":"GET"},"response":{"status":500},"response":"[REDACTED]"'),
  httpLine('escaped-key', '"request":{"method":"GET"},"response":{"st\\u0061tus":404}'),
  httpLine('escaped-top-key', '"request":{"method":"GET"},"respons\\u0065":{"status":404}'),
  httpLine('bad-escape', '"request":{"method":"G\\xT"},"response":{"status":404}'),
  httpLine('raw-control', '"request":{"method":"G\u0001T"},"response":{"status":404}'),
  httpLine('raw-tab-outside', '"request":{"method":"GET"},\t"response":{"status":404}'),
  httpLine('c1-and-del', '"request":{"method":"G\u009b\u007fT"},"response":{"status":200}'),
  httpLine('number-01', '"request":{"method":"GET"},"response":{"status":0404}'),
  httpLine('number-exp', '"request":{"method":"GET"},"response":{"status":4.04e2}'),
  httpLine('number-dot', '"request":{"method":"GET"},"response":{"status":404.}'),
  httpLine('number-neg', '"request":{"method":"GET"},"response":{"status":-0}'),
  httpLine('number-01-skipped', '"request":{"method":"GET","x":0404},"response":{"status":200}'),
  httpLine('number-exp-skipped', '"request":{"method":"GET","x":[1e,2]},"response":{"status":200}'),
  httpLine('dup-elapsed', '"elapsedTime":0,"request":{"method":"GET"},"response":{"status":200},"elapsedTime":9'),
  httpLine('dup-method', '"request":{"method":"GET","method":"DELETE"},"response":{"status":200}'),
  httpLine('literal', '"request":{"method":"GET"},"response":{"status":nul}'),
  httpLine('status-string', '"request":{"method":"GET"},"response":{"status":"404"}'),
  httpLine('response-array', '"request":{"method":"GET"},"response":[{"status":404}]'),
  httpLine('response-null', '"request":{"method":"GET"},"response":null'),
  httpLine('request-string', '"request":"GET","response":{"status":404}'),
  httpLine('request-null', '"request":null,"response":{"status":404}'),
  httpLine('after-end', '"request":{"method":"GET"},"response":{"status":200}') + 'x',
  httpLine('after-end-blank', '"request":{"method":"GET"},"response":{"status":200}') + '  \t',
  '\ufeff' + httpLine('bom', '"request":{"method":"GET"},"response":{"status":200}'),
  '\u00a0' + httpLine('nbsp', '"request":{"method":"GET"},"response":{"status":200}'),
  httpLine('deep', '"request":{"method":"GET","x":' + '['.repeat(300) + ']'.repeat(300) + '},"response":{"status":200}'),
  httpLine('deep-open', '"request":{"method":"GET","x":' + '['.repeat(300) + '},"response":{"status":200}'),
  '{"id":"no-dst","protocol":{"name":"http"},"request":{},"src":{"ip":"1.2.3.4","name":""}}',
  '{"id":"null-src","protocol":{"name":"http"},"request":{},"src":null,"dst":{}}',
  '{"id":7,"protocol":{"name":"http"},"request":{},"src":{},"dst":{}}',
  '{"id":"unknown-proto","protocol":{"name":"gopher"},"src":{"ip":"1.1.1.1"},"dst":{"ip":"2.2.2.2"},"request":{"method":"GET"},"response":{"status":404}}',
  '{"id":"redis-odd","protocol":{"name":"redis"},"src":{"ip":"1.1.1.1"},"dst":{"ip":"2.2.2.2"},"request":{"method":"AUTH"},"response":{"status":404}}',
  '{"id":"no-proto-name","protocol":{},"src":{"ip":"1.1.1.1"},"dst":{"ip":"2.2.2.2"},"request":{"method":"GET"},"response":{"status":404}}',
  '{"id":"proto-null","protocol":null,"src":{"ip":"1.1.1.1"},"dst":{"ip":"2.2.2.2"},"request":{"method":"GET"},"response":{"status":404}}',
  '{"id":"__proto__","__proto__":{"status":1},"protocol":{"name":"http"},"src":{},"dst":{},"request":{"method":"GET"},"response":{"status":404}}',
  '  {"id":"lead-blank","protocol":{"name":"http"},"src":{},"dst":{},"request":{"method":"GET"},"response":{"status":500}}',
  '{"id":"unicode-é","protocol":{"name":"http"},"src":{"ip":"1.1.1.1"},"dst":{"ip":"2.2.2.2"},"request":{"method":"GÉT","path":"/ü\\ud800"},"response":{"status":404}}',
];

/** The benchmark's queries (test/bench/kfl-evals.ts) and ones that read other parts of an entry. */
const QUERIES: readonly string[] = [
  'response.status >= 404',
  ...BENCH_KFL_QUERIES,
  'request.method == "GET"',
  'response.status == 200',
  'dns',
  'redis or kafka or amqp or mysql or postgresql or mongodb or websocket',
  'grpc',
  'src.port > 40000 and dst.ip == "10.96.0.11"',
  'response == null',
  'response.status != 404',
  'request.method != "AUTH"',
  'request.method == "DELETE"',
  'elapsedTime > 1',
  'response.status >= 200 and response.status < 300',
  'request.headers.Authorization == "[REDACTED]"',
  'response.content.text.contains("page")',
  '..status == 404',
  'request.*.method == "GET"',
  'id == "ok-404" or id == "3-1"',
  'protocol.name == "http" and elapsedTime > 0.1',
  'response.status >= 404 and limit(3)',
  'response.status >= 200 and redact("request.headers")',
  'requestSize > 500 or tls',
  'error != null',
  'true',
  'false',
];

interface Run {
  readonly out: string[];
  readonly result: ReadResult;
}

/**
 * The input in chunks of `chunk` bytes. Recycling, as recyclableCaptureFile: every chunk is a
 * Buffer read into the one buffer handed back, which is first overwritten, so a reader that kept
 * a view of a chunk it handed back reads garbage.
 */
function input(bytes: Uint8Array, chunk: number, recycling: boolean): CaptureInput {
  if (!recycling) {
    return { label: 'saved.ndjson', chunks: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })() };
  }
  let spare: Buffer | undefined;
  return {
    label: 'saved.ndjson',
    chunks: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) {
        const into = spare ?? Buffer.allocUnsafeSlow(chunk);
        spare = undefined;
        const piece = bytes.subarray(i, i + chunk);
        into.set(piece);
        yield into.subarray(0, piece.length);
      }
    })(),
    recycle: (used) => {
      spare = Buffer.from(used.buffer, used.byteOffset, chunk).fill(0x7b);
    },
  };
}

async function runRead(bytes: Uint8Array, query: string, quick: boolean, redact: boolean, chunk: number, recycling = false): Promise<Run> {
  const compiled = compileKfl(query, { nowMs: Date.UTC(2026, 10, 29) });
  assert.ok(compiled.ok, query);
  const out: string[] = [];
  const result = await readCaptures([input(bytes, chunk, recycling)], (e: Entry) => out.push(stringifyJson(e)), {
    filter: compiled.filter,
    ndjsonQuickReject: quick,
    ...(redact ? { redactor: new EntryRedactor() } : {}),
  });
  return { out, result };
}

function assertSame(fast: Run, full: Run, what: string): void {
  assert.deepEqual(fast.out, full.out, `${what}: entries handed out`);
  assert.deepEqual(fast.result, full.result, `${what}: counts and warnings`);
}

test('the fast path hands out what the full parse does: corpus NDJSON (redacted and not) with hostile lines, many queries, any chunking, its read buffers reused', async () => {
  const redacted = await corpusLines(true);
  const raw = await corpusLines(false);
  assert.ok(redacted.length > 500, `corpus entries: ${redacted.length}`);
  const text = [...redacted, ...HOSTILE, ...raw, ...HOSTILE.toReversed()].join('\n') + '\n' + HOSTILE[8]!.slice(0, 40);
  const bytes = enc.encode(text);
  let rejectedSomewhere = false;
  for (const query of QUERIES) {
    for (const redact of [true, false]) {
      const chunk = 1 + ((query.length * 7919 + (redact ? 1 : 0)) % 65_536);
      const full = await runRead(bytes, query, false, redact, chunk);
      const fast = await runRead(bytes, query, true, redact, 4093, true);
      assertSame(fast, full, `${query} (${redact ? 'redacting' : '--no-redact'})`);
      if (full.result.stats.entries - full.result.matched > 0) rejectedSomewhere = true;
    }
  }
  assert.ok(rejectedSomewhere);
});

test('the common queries on saved HTTP entries are answered before redaction', async () => {
  const http = (await corpusLines(true)).filter((l) => l.includes('"name":"http"')).map((l) => JSON.parse(l) as Entry);
  for (const query of ['response.status >= 404', 'request.method == "DELETE"', 'dns', 'timestamp < 0', 'http and status_code >= 500']) {
    const compiled = compileKfl(query);
    assert.ok(compiled.ok);
    const quick = new NdjsonQuickReject(compiled.filter, { redacting: true });
    const dropped = http.filter((e) => !compiled.filter.test(e)).length;
    const rejected = http.filter((e) => quick.rejects(e)).length;
    assert.equal(rejected, dropped, `${query}: every dropped entry is rejected early`);
  }
});

test('an entry rejected early is one the filter drops once redacted (random corpus and hostile entries, many queries)', async () => {
  const entries = [...(await corpusLines(false)), ...HOSTILE].flatMap((l) => {
    try {
      const v: unknown = JSON.parse(l);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? [l] : [];
    } catch {
      return [];
    }
  });
  const filters = QUERIES.map((q) => {
    const c = compileKfl(q, { nowMs: Date.UTC(2026, 10, 29) });
    assert.ok(c.ok);
    return c.filter;
  });
  const redactor = new EntryRedactor();
  fc.assert(
    fc.property(fc.nat(entries.length - 1), fc.nat(filters.length - 1), fc.boolean(), (which, q, redacting) => {
      const filter = filters[q]!;
      const entry = JSON.parse(entries[which]!) as Entry;
      if (!new NdjsonQuickReject(filter, { redacting }).rejects(entry)) return;
      const seen = redacting ? redactor.redact(JSON.parse(entries[which]!) as Entry) : (JSON.parse(entries[which]!) as Entry);
      assert.equal(filter.test(seen), false, `${QUERIES[q]}: ${entries[which]!.slice(0, 200)}`);
    }),
    { numRuns: 5000, seed: 17 },
  );
});
