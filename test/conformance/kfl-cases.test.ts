/**
 * KFL conformance: runs the named cases of kfl-cases.ts (every queries.md row and every construct),
 * then the error, warning, redact and limit tables. All compiles use the same fixed "now".
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compileKfl, FilterRun } from '../../src/kfl/index.ts';
import type { CompiledFilter } from '../../src/kfl/api.ts';
import type { Entry } from '../../src/model/entry.ts';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import {
  ALL_FIXTURES,
  dnsQuery,
  get404,
  getJson,
  h2Tls,
  KFL_CASES,
  KFL_ERROR_CASES,
  KFL_WARNING_CASES,
  NOW_MS,
  post500,
  timeout,
} from './kfl-cases.ts';

const options = { nowMs: NOW_MS };

function compileOk(query: string): CompiledFilter {
  const result = compileKfl(query, options);
  if (!result.ok) assert.fail(`expected ${JSON.stringify(query)} to compile:\n${result.error.display}`);
  return result.filter;
}

describe('the case table itself', () => {
  test('has at least 200 cases with unique names', () => {
    assert.ok(KFL_CASES.length >= 200, `only ${KFL_CASES.length} cases`);
    const names = new Set(KFL_CASES.map((c) => c.name));
    assert.equal(names.size, KFL_CASES.length, 'case names repeat');
  });

  const queriesMd = join(REPO_ROOT, 'test', 'fixtures', 'kfl', 'queries.md');
  test('covers every query of queries.md (vendored from the team\'s shared KFL notes)', () => {
    const listed = readFileSync(queriesMd, 'utf8')
      .split('\n')
      .filter((line) => /^\| \d+ \|/.test(line))
      .map((line) => /`([^`]*)`/.exec(line)?.[1]);
    assert.equal(listed.length, 40);
    const ours = new Set(KFL_CASES.map((c) => c.query));
    for (const query of listed) assert.ok(query !== undefined && ours.has(query), `no case for ${query}`);
  });
});

describe('cases', () => {
  for (const c of KFL_CASES) {
    test(c.name, () => {
      const filter = compileOk(c.query);
      assert.equal(filter.test(c.entry), c.expected, `${c.query} on ${c.entry.id}`);
    });
  }
});

describe('test() is total', () => {
  const queries = [...new Set(KFL_CASES.map((c) => c.query))];
  test('every case query gives a boolean on every fixture without throwing', () => {
    let checked = 0;
    for (const query of queries) {
      const result = compileKfl(query, options);
      if (!result.ok) continue; // reported by the case itself
      for (const entry of ALL_FIXTURES) {
        assert.equal(typeof result.filter.test(entry), 'boolean', `${query} on ${entry.id}`);
        checked++;
      }
    }
    assert.ok(checked > 1000, `only ${checked} evaluations`);
  });
});

describe('compile errors', () => {
  for (const c of KFL_ERROR_CASES) {
    test(`${c.name}: ${c.query}`, () => {
      const result = compileKfl(c.query, options);
      assert.equal(result.ok, false, 'should not compile');
      if (result.ok) return;
      const { error } = result;
      assert.equal(error.code, c.code, error.display);
      if (c.column !== undefined) assert.equal(error.column, c.column, error.display);
      assert.ok(error.column >= 1 && error.column <= c.query.length + 1, `column ${error.column} outside the query`);
      assert.ok(error.length >= 1);
      assert.ok(error.message.length > 0 && !error.message.includes('\n'));
      const lines = error.display.split('\n');
      assert.equal(lines[0], c.query);
      assert.equal(lines[1], ' '.repeat(error.column - 1) + '^'.repeat(error.length));
      assert.equal(lines[2], `error: ${error.message}`);
    });
  }

  test('compileKfl never throws, whatever the input', () => {
    const junk = ['(', ')', '"', 'r"', '..', '.*', '[', '==', '!', '-', 'and', 'or', 'http and (', 'a[', 'a["', 'a[0', '1..2', 'x.y(', '\u0000', '😀 == 1', 'json()', 'limit()', 'redact()'];
    for (const query of junk) {
      const result = compileKfl(query, options);
      assert.equal(typeof result.ok, 'boolean', query);
      if (!result.ok) assert.ok(result.error.display.startsWith(query), query);
    }
  });
});

describe('warnings', () => {
  for (const c of KFL_WARNING_CASES) {
    test(c.name, () => {
      const result = compileKfl(c.query, options);
      assert.ok(result.ok, result.ok ? '' : result.error.display);
      if (!result.ok) return;
      if (c.message === undefined) {
        assert.deepEqual(result.warnings, []);
      } else {
        assert.equal(result.warnings.length, 1, JSON.stringify(result.warnings));
        const [warning] = result.warnings;
        assert.equal(warning!.code, 'KFL_UNKNOWN_FIELD');
        assert.ok(warning!.message.includes(c.message), warning!.message);
        assert.equal(warning!.column, 1);
        assert.ok(warning!.length >= 1);
      }
    });
  }

  test('an unknown field still compiles and is null', () => {
    const filter = compileOk('request.pth == nil');
    assert.equal(filter.test(getJson), true);
  });
});

describe('redact', () => {
  test('queries.md #14: the two values become "[REDACTED]", the original is untouched', () => {
    const filter = compileOk('http and redact("request.path", "src.name")');
    assert.deepEqual([...filter.redactPaths], ['request.path', 'src.name']);
    assert.equal(filter.test(getJson), true);
    const out = filter.redact(getJson);
    assert.notEqual(out, getJson);
    assert.equal(out.request.path, '[REDACTED]');
    assert.equal(out.src.name, '[REDACTED]');
    assert.equal(out.request.url, getJson.request.url);
    assert.equal(out.dst.name, 'users-api');
    assert.deepEqual(out.response, getJson.response);
    assert.equal(getJson.request.path, '/api/v1/users');
    assert.equal(getJson.src.name, 'frontend');
  });

  test('a header value is redacted by its path', () => {
    const filter = compileOk('redact("request.headers.Authorization")');
    const out = filter.redact(getJson);
    assert.equal(out.request.headers['Authorization'], '[REDACTED]');
    assert.equal(out.request.headers['X-Tenant'], 'acme');
    assert.equal(getJson.request.headers['Authorization'], 'Token abc123');
  });

  test('a path missing from the entry is left alone', () => {
    const filter = compileOk('redact("request.postData.text")');
    const out = filter.redact(getJson);
    assert.equal(out.request.postData, null);
    const posted = filter.redact(post500);
    assert.equal(posted.request.postData?.text, '[REDACTED]');
    assert.equal(post500.request.postData?.text, '{"item":"book","qty":3}');
  });

  test('redact() is always true and test() ignores it', () => {
    const filter = compileOk('redact("src.name") and src.name == "frontend"');
    assert.equal(filter.test(getJson), true);
    assert.equal(filter.test(post500), false);
  });

  test('..name redacts at any depth and in any case', () => {
    const filter = compileOk('redact("..authorization")');
    const out = filter.redact(post500);
    assert.equal(out.request.headers['Authorization'], '[REDACTED]');
    assert.equal(out.request.headers['Host'], 'carts');
    assert.equal(post500.request.headers['Authorization'], 'Bearer xyz');
  });

  test('a path into a JSON body rewrites the body; a base64 body stays base64', () => {
    const plain = compileOk('redact("response.content.text.json()..name")').redact(getJson);
    const users = (JSON.parse(plain.response!.content.text) as { users: Array<{ name: string; id: number }> }).users;
    assert.deepEqual(users.map((u) => [u.name, u.id]), [['[REDACTED]', 1], ['[REDACTED]', 2]]);
    assert.ok(getJson.response!.content.text.includes('"ada"'));

    const encoded = compileOk('redact("response.content.text.json().error.message")').redact(post500);
    assert.equal(encoded.response!.content.encoding, 'base64');
    const body = JSON.parse(Buffer.from(encoded.response!.content.text, 'base64').toString('utf8')) as { error: { code: string; message: string } };
    assert.deepEqual(body.error, { code: 'E42', message: '[REDACTED]', retry: false });
    assert.equal(post500.response!.content.text, Buffer.from('{"error":{"code":"E42","message":"db down","retry":false}}').toString('base64'));
  });

  test('without redact(), redact returns the entry itself', () => {
    const filter = compileOk('http');
    assert.deepEqual([...filter.redactPaths], []);
    assert.equal(filter.redact(getJson), getJson);
  });
});

describe('limit', () => {
  const stream: readonly HttpEntry[] = [dnsQuery, getJson, post500, dnsQuery, get404, h2Tls, timeout];

  test('queries.md #15 via FilterRun: only the first n matches pass, then the run is exhausted', () => {
    const filter = compileOk('http and limit(2)');
    assert.equal(filter.limit, 2);
    const run = new FilterRun(filter);
    const passed = stream.map((e) => run.offer(e)?.id);
    assert.deepEqual(passed, [undefined, 'get-json', 'post-500', undefined, undefined, undefined, undefined]);
    assert.equal(run.matched, 2);
    assert.equal(run.exhausted, true);
  });

  test('FilterRun applies redact to what it passes', () => {
    const filter = compileOk('http and limit(1) and redact("src.ip")');
    const run = new FilterRun(filter);
    assert.equal(run.offer(dnsQuery), undefined);
    assert.equal(run.exhausted, false);
    const out = run.offer(get404);
    assert.equal(out?.src.ip, '[REDACTED]');
    assert.equal(get404.src.ip, '10.1.0.3');
    assert.equal(run.exhausted, true);
    assert.equal(run.offer(getJson), undefined);
  });

  test('without limit() every match passes and the run never ends', () => {
    const filter = compileOk('http');
    assert.equal(filter.limit, undefined);
    const run = new FilterRun(filter);
    const passed = stream.map((e) => run.offer(e)?.id);
    assert.deepEqual(passed, [undefined, 'get-json', 'post-500', undefined, 'get-404', 'h2-tls', 'timeout']);
    assert.equal(run.matched, 5);
    assert.equal(run.exhausted, false);
  });

  test('limit(0) passes nothing', () => {
    const run = new FilterRun(compileOk('limit(0)'));
    assert.equal(run.exhausted, true);
    assert.equal(run.offer(getJson), undefined);
    assert.equal(run.matched, 0);
  });

  test('limit() alone matches everything; test() ignores it', () => {
    const filter = compileOk('limit(3)');
    assert.equal(filter.limit, 3);
    assert.equal(filter.test(dnsQuery), true);
    assert.equal(filter.test(getJson), true);
  });
});
