/**
 * Acceptance 3: random token sequences and random strings never make compileKfl throw (a bad
 * query is a KFL error value), and evaluation never throws on any entry shape: random JSON,
 * null fields, arrays where objects are expected, huge strings. Evaluation is checked on the raw
 * compiled predicate, below the safety net that CompiledFilter.test() adds.
 * Seeded, so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { compileTree } from './compile.ts';
import { compileKfl } from './index.ts';
import { lex } from './lexer.ts';
import { parse } from './parser.ts';
import { randomTokens, rng } from '../../test/helpers/random-queries.ts';
import { httpEntry } from '../../test/helpers/entries.ts';

const VALID_CODES = new Set(['KFL_SYNTAX', 'KFL_UNKNOWN_FUNCTION', 'KFL_BAD_ARGUMENTS', 'KFL_BAD_REGEX', 'KFL_BAD_LITERAL']);

function randomString(next: () => number): string {
  const n = Math.floor(next() * 40);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.6) s += String.fromCharCode(32 + Math.floor(next() * 95)); // printable ASCII
    else if (r < 0.8) s += '()[]"\'.=!&|<>r*-'[Math.floor(next() * 17)];
    else if (r < 0.95) s += String.fromCodePoint(Math.floor(next() * 0x2ffff));
    else s += String.fromCharCode(0xd800 + Math.floor(next() * 0x800)); // lone surrogates
  }
  return s;
}

function randomJson(next: () => number, depth: number): unknown {
  const r = next();
  if (depth <= 0 || r < 0.3) {
    const k = Math.floor(next() * 7);
    return [null, true, 500, -1.5, '', 'application/json', 'x'.repeat(100_000)][k];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth - 1));
  const keys = ['request', 'response', 'protocol', 'name', 'status', 'headers', 'Accept', 'text', 'encoding', 'src', 'dst', 'namespace', '__proto__', 'constructor', 'items', 'id'];
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) {
    Object.defineProperty(o, keys[Math.floor(next() * keys.length)]!, { value: randomJson(next, depth - 1), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** Shapes an entry may take on the wire or in a broken pipeline. */
function randomEntry(next: () => number): unknown {
  const r = next();
  if (r < 0.2) return randomJson(next, 4);
  const e = httpEntry() as unknown as Record<string, unknown>;
  const fields = ['request', 'response', 'protocol', 'src', 'dst', 'timestamp', 'tls'];
  for (const f of fields) if (next() < 0.3) e[f] = randomJson(next, 3);
  if (next() < 0.2) (e['response'] as Record<string, unknown> | null) = { content: { text: 'eyJ'.repeat(50_000), encoding: 'base64' }, headers: [1, 2] };
  return e;
}

function checkQuery(query: string, entries: readonly unknown[]): void {
  const result = compileKfl(query, { nowMs: 0 });
  if (!result.ok) {
    assert.ok(VALID_CODES.has(result.error.code), `${query}: ${result.error.code}`);
    assert.ok(result.error.column >= 1 && result.error.column <= query.length + 1, `${query}: column ${result.error.column}`);
    assert.ok(result.error.length >= 1);
    assert.equal(result.error.display.split('\n').length, 3, query);
    return;
  }
  const raw = compileTree(parse(lex(query)), query, 0).predicate;
  for (const entry of entries) {
    assert.equal(typeof raw(entry), 'boolean', query);
    assert.equal(typeof result.filter.test(entry as Entry), 'boolean');
  }
}

test('random token sequences: an error value or a filter that never throws', () => {
  const next = rng(1);
  const entries = Array.from({ length: 12 }, () => randomEntry(next));
  let compiled = 0;
  for (let i = 0; i < 4000; i++) {
    const q = randomTokens(next);
    assert.doesNotThrow(() => checkQuery(q, entries), q);
    if (compileKfl(q).ok) compiled++;
  }
  assert.ok(compiled > 100, `some random sequences are valid queries (${compiled})`);
});

test('random strings: an error value or a filter that never throws', () => {
  const next = rng(2);
  const entries = Array.from({ length: 6 }, () => randomEntry(next));
  for (let i = 0; i < 4000; i++) {
    const q = randomString(next);
    assert.doesNotThrow(() => checkQuery(q, entries), JSON.stringify(q));
  }
});

test('known queries never throw on random entry shapes', () => {
  const next = rng(3);
  const queries = [
    'http and response.status >= 500', 'request.headers["accept"] == r"json"', 'response.content.text.json().items[0].id == 7',
    'response.content.text.json()..name == "a"', '..status > 1', 'request.*.* == 1', '"a" in request.headers',
    'size(request) > 0 and len(response.headers) == 2', 'map_get(request, "x", 1) == 1', 'namespaces == pods',
    'elapsed_time > 1 or -timestamp < 0', 'request.path.startsWith("/") or url.matches("a")', 'response + 1 == nil',
    '!tls and !grpc and !http2', 'request.queryString[request.method] == response.status',
  ];
  const entries = Array.from({ length: 300 }, () => randomEntry(next));
  entries.push(null, undefined, 0, 'entry', [], [httpEntry()], { request: [] }, { request: { headers: null } });
  for (const q of queries) checkQuery(q, entries);
});

test('redaction never throws on random entry shapes', () => {
  const next = rng(4);
  const r = compileKfl('redact("request.path", "..Authorization", "response.content.text.json()..name", "request.*")');
  assert.ok(r.ok);
  for (let i = 0; i < 300; i++) {
    const e = randomEntry(next);
    assert.doesNotThrow(() => r.filter.redact(e as Entry));
  }
});
