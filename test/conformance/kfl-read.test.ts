/**
 * `read --filter` end to end: on the HTTP and WebSocket captures of shared/pcaps, the entries the CLI
 * prints for a query are exactly the unfiltered entries that a hand-written JavaScript predicate
 * keeps (same entries, same order), for a set of queries covering paths, headers, regex, methods,
 * numbers, json(), elapsedTime, addresses, `in`, `!`, precedence and the KFL2 aliases.
 * Also: a query that does not compile exits 2 and shows the query, a caret line and the error.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry, type HeaderMap, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { isWebSocketEntry, type WebSocketEntry } from '../../src/remote-agent/dissect/websocket/entry.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const pcaps = sharedPcapsDir();

function captures(dir: string): string[] {
  const files: string[] = [];
  for (const sub of ['http', 'websocket']) {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      if (/\.pcap(ng)?$/.test(name)) files.push(join(dir, sub, name));
    }
  }
  return files;
}

/** Header lookup by name in any case, as KFL does. */
function header(map: HeaderMap | undefined, name: string): string | undefined {
  if (!map) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(map)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function jsonBody(entry: HttpEntry): unknown {
  const content = entry.response?.content;
  if (!content) return undefined;
  const text = content.encoding === 'base64' ? Buffer.from(content.text, 'base64').toString('utf8') : content.text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface ReadCase {
  readonly name: string;
  readonly query: string;
  /** On HTTP entries. */
  readonly keep: (e: HttpEntry) => boolean;
  /** On the WebSocket messages of the same captures (default: not kept, their fields are not there). */
  readonly ws?: (e: WebSocketEntry) => boolean;
}

/** A case's predicate on any entry. */
function keeps(c: ReadCase, e: Entry): boolean {
  if (isHttpEntry(e)) return c.keep(e);
  return isWebSocketEntry(e) && (c.ws?.(e) ?? false);
}

const NONE = (): boolean => false;

const status = (e: HttpEntry): number | undefined => e.response?.status;

const READ_CASES: readonly ReadCase[] = [
  { name: 'exact path', query: 'request.path == "/"', keep: (e) => e.request.path === '/' },
  { name: 'method', query: 'http and request.method == "POST"', keep: (e) => e.request.method === 'POST' },
  { name: 'numeric status', query: 'response.status >= 400', keep: (e) => (status(e) ?? 0) >= 400 },
  { name: 'header present, lower-case name', query: 'request.headers["cookie"] != nil', keep: (e) => header(e.request.headers, 'cookie') !== undefined },
  { name: 'header regex, any-case name', query: 'request.headers["USER-AGENT"] == r"Chrome/[0-9]+"', keep: (e) => /Chrome\/[0-9]+/.test(header(e.request.headers, 'user-agent') ?? '') },
  {
    name: 'in a list literal',
    query: 'request.method in ["PUT", "DELETE", "TRACE"]',
    keep: (e) => ['PUT', 'DELETE', 'TRACE'].includes(e.request.method),
  },
  { name: 'in a header map (key, any case)', query: '"referer" in request.headers', keep: (e) => header(e.request.headers, 'referer') !== undefined },
  {
    name: 'json() on a JSON body',
    query: 'response.content.text.json().gzipped == true',
    keep: (e) => (jsonBody(e) as { gzipped?: unknown } | undefined)?.gzipped === true,
  },
  { name: 'elapsedTime in ms', query: 'elapsedTime > 50', keep: (e) => e.elapsedTime > 50 },
  { name: 'elapsed_time in µs (KFL2)', query: 'elapsed_time > 100000', keep: (e) => e.elapsedTime * 1000 > 100000 },
  {
    name: 'src and dst ip',
    query: 'src.ip == "172.16.0.122" and dst.ip != "205.234.218.129"',
    keep: (e) => e.src.ip === '172.16.0.122' && e.dst.ip !== '205.234.218.129',
    ws: (e) => e.src.ip === '172.16.0.122' && e.dst.ip !== '205.234.218.129',
  },
  { name: 'ip regex', query: 'dst.ip == r"^205\\.234\\."', keep: (e) => /^205\.234\./.test(e.dst.ip), ws: (e) => /^205\.234\./.test(e.dst.ip) },
  {
    name: 'negated group of methods',
    query: '!(request.path.startsWith("/prod") or request.path.endsWith(".png"))',
    keep: (e) => !(e.request.path.startsWith('/prod') || e.request.path.endsWith('.png')),
    // No request.path: the group is false, its negation true.
    ws: () => true,
  },
  {
    name: 'precedence: A and B or C is (A and B) or C',
    query: 'request.method == "GET" and response.status == 200 or request.method == "HEAD"',
    keep: (e) => (e.request.method === 'GET' && status(e) === 200) || e.request.method === 'HEAD',
  },
  { name: 'status_code (KFL2)', query: 'status_code == 405 || status_code == 411', keep: (e) => status(e) === 405 || status(e) === 411 },
  {
    name: 'path and method (KFL2)',
    query: 'path.contains("combiner") && method == "GET"',
    keep: (e) => e.request.path.includes('combiner') && e.request.method === 'GET',
  },
  { name: 'url.matches (KFL2)', query: 'url.matches("[?].*&")', keep: (e) => /[?].*&/.test(e.request.url) },
  {
    name: 'response header regex',
    query: 'response.headers["content-type"] == r"^image/(png|gif)"',
    keep: (e) => /^image\/(png|gif)/.test(header(e.response?.headers, 'content-type') ?? ''),
  },
  {
    name: 'query string value',
    query: 'request.queryString["xhr"] == "1"',
    keep: (e) => {
      const v = e.request.queryString['xhr'];
      return Array.isArray(v) ? v.includes('1') : v === '1';
    },
  },
  {
    name: 'websocket upgrade',
    query: 'response.status == 101 and request.headers["upgrade"] == "websocket"',
    keep: (e) => status(e) === 101 && header(e.request.headers, 'upgrade') === 'websocket',
  },
  {
    name: 'sizes and a negated method',
    query: 'responseSize > 10000 and !response.content.mimeType.startsWith("image/")',
    keep: (e) => e.responseSize > 10000 && !(e.response?.content.mimeType.startsWith('image/') ?? false),
  },
  {
    name: 'datetime and request_body_size, http_version (KFL2)',
    query: 'http_version == "HTTP/1.1" and request_body_size > 0 and timestamp > datetime("2011-01-01T00:00:00Z")',
    keep: (e) => e.request.httpVersion === 'HTTP/1.1' && e.request.bodySize > 0 && e.timestamp > Date.UTC(2011, 0, 1),
  },
  { name: 'entries with an error', query: 'error != nil', keep: (e) => e.error !== null, ws: (e) => e.error !== null },
  // WebSocket messages (docs/entries.md): the word and Kubeshark's KFL2 variables.
  { name: 'ws word and ws_opcode (KFL2)', query: 'ws and ws_opcode == "text"', keep: NONE, ws: (e) => (e.request ?? e.response)?.opcode === 'text' },
  {
    name: 'client messages by payload (KFL2)',
    query: 'ws_request and ws_request_payload_data.contains("test")',
    keep: NONE,
    ws: (e) => e.request !== null && e.request.payload.text.includes('test'),
  },
  { name: 'server payload length (KFL2)', query: 'ws_response_payload_length > 20', keep: NONE, ws: (e) => (e.response?.payloadLength ?? 0) > 20 },
  { name: 'close code of a server close', query: 'ws and response.closeCode == 1000', keep: NONE, ws: (e) => e.response?.closeCode === 1000 },
  { name: 'the messages of one server port', query: 'ws and dst.port == 8080', keep: NONE, ws: (e) => e.dst.port === 8080 },
  { name: 'control frames', query: 'ws_opcode in ["ping", "pong", "close"]', keep: NONE, ws: (e) => ['ping', 'pong', 'close'].includes((e.request ?? e.response)?.opcode ?? '') },
];

/**
 * The predicates read HTTP fields, and the HTTP captures hold DNS lookups too: both sides look at
 * the HTTP entries only (`http and (query)`).
 */
describe('read --filter agrees with a JavaScript predicate', () => {
  let files: string[] = [];
  let all: string[] = [];

  before(async () => {
    files = captures(pcaps!);
    // DNS entries of the same captures are left out: these cases are about HTTP and WebSocket fields.
    const res = await runShark(['read', ...files, '-o', 'json', '-q', '--filter', 'http or ws']);
    assert.equal(res.code, 0, res.stderr);
    all = res.stdout.split('\n').filter((line) => line.trim() !== '');
  });

  test('the corpus is there', () => {
    assert.ok(files.length >= 10, `only ${files.length} captures`);
    assert.ok(all.length >= 100, `only ${all.length} entries`);
  });

  test('there are at least 20 queries and each one keeps some entries but not all', () => {
    assert.ok(READ_CASES.length >= 20);
    const entries = all.map((line) => JSON.parse(line) as Entry);
    for (const c of READ_CASES) {
      const kept = entries.filter((e) => keeps(c, e)).length;
      assert.ok(kept > 0 && kept < entries.length, `${c.name}: the predicate keeps ${kept} of ${entries.length}`);
    }
  });

  for (const c of READ_CASES) {
    test(`${c.name}: ${c.query}`, async () => {
      const expected = all.filter((line) => keeps(c, JSON.parse(line) as Entry));
      const res = await runShark(['read', ...files, '-o', 'json', '-q', '--filter', `(http or ws) and (${c.query})`]);
      assert.equal(res.code, 0, res.stderr);
      const got = res.stdout.split('\n').filter((line) => line.trim() !== '');
      const ids = (lines: string[]): string[] => parseNdjson<Entry>(lines.join('\n')).map((e) => `${e.id}@${e.startTime}`);
      assert.deepEqual(ids(got), ids(expected), 'same entries in the same order');
      assert.deepEqual(got, expected, 'entries unchanged by the filter');
    });
  }
});

describe('read --filter with a bad query', () => {
  test('exits 2; stderr shows the query, a caret under the problem and the error', async () => {
    const query = 'http and response.status ==';
    const res = await runShark(['read', join(pcaps!, 'http', 'get-gzip-json.pcap'), '-o', 'json', '--filter', query]);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stdout, '');
    const lines = res.stderr.split('\n');
    const at = lines.findIndex((line) => line.endsWith(query));
    assert.ok(at >= 0, `query not echoed:\n${res.stderr}`);
    const indent = lines[at]!.length - query.length;
    const caret = lines[at + 1] ?? '';
    assert.match(caret, /^ *\^+$/, `no caret line:\n${res.stderr}`);
    assert.ok(caret.indexOf('^') - indent >= 'http and response.status'.length, `caret before the problem:\n${res.stderr}`);
    assert.match(lines[at + 2] ?? '', /error: .+/);
  });

  test('an unknown function exits 2 and names it', async () => {
    const res = await runShark(['read', join(pcaps!, 'http', 'get-gzip-json.pcap'), '-o', 'json', '--filter', 'lower(request.path) == "/gzip"']);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /lower/);
    assert.match(res.stderr, /\^/);
  });
});
