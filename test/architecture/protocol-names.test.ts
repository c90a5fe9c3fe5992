/**
 * "Outside a protocol's folder nothing names a protocol": code reads an entry's request and
 * response only through its protocol descriptor (src/remote-agent/dissect/descriptors.ts). Checked
 * on the code (comments left out) of every source file in src/, except the protocol folders
 * (src/remote-agent/dissect/<protocol>/), the files that list the protocols (the registry, the
 * Entry union, the runtime dissector list) and test support, for:
 * - reads of HTTP's fields on a request or response (`request.method`, `entry.response?.status`,
 *   also written as KFL paths such as 'request.headers');
 * - HTTP's entry types (`HttpEntry`, `HttpRequest`, `HttpResponse`);
 * - the protocol name "http" as a string.
 * `entry.response === null` (the envelope: no answer) is not a field read and stays allowed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

/** HTTP's request and response fields (src/remote-agent/dissect/http1/entry.ts). */
const HTTP_FIELDS = 'method|url|path|httpVersion|headers|cookies|queryString|postData|status|statusText|content|headersSize|bodySize';

const RULES: ReadonlyArray<readonly [string, RegExp]> = [
  ['reads an HTTP field of a request or response', new RegExp(`\\b(?:request|response)(?:\\?|!)?\\.(?:${HTTP_FIELDS})\\b`)],
  ['names an HTTP entry type', /\bHttp(?:Entry|Request|Response)\b/],
  ['names the protocol "http"', /(['"`])http\1/],
];

/** Where protocols are named on purpose. */
function isExempt(path: string): boolean {
  return (
    /^src\/remote-agent\/dissect\/[a-z0-9-]+\//.test(path) ||
    ['src/model/entry.ts', 'src/remote-agent/dissect/descriptors.ts', 'src/remote-agent/dissect/registry.ts', 'src/remote-agent/dissect/dissectors.ts'].includes(path)
  );
}

/** Tests and the builders and generators they use make HTTP entries on purpose. */
function isTestSupport(name: string): boolean {
  return /\.test\.tsx?$/.test(name) || /^(?:test-.*|.*-testing|testing|test-entries|random-queries)\.tsx?$/.test(name);
}

/** The code without its comments (strings kept: a KFL path in a string is a field read too). */
export function codeOf(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** `file:line: what` for every line of code that names a protocol. */
export function protocolNamesIn(path: string, text: string): string[] {
  const found: string[] = [];
  codeOf(text)
    .split('\n')
    .forEach((line, i) => {
      for (const [what, rule] of RULES) if (rule.test(line)) found.push(`${path}: ${what}: ${line.trim().slice(0, 120)}`);
    });
  return found;
}

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !isTestSupport(name)) out.push(path);
  }
  return out;
}

test('nothing outside a protocol folder reads HTTP fields or names the protocol', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of sourceFiles(join(REPO_ROOT, 'src'))) {
    const path = relative(REPO_ROOT, file);
    if (isExempt(path)) continue;
    checked++;
    violations.push(...protocolNamesIn(path, readFileSync(file, 'utf8')));
  }
  assert.ok(checked > 100, `checked ${checked} files`);
  assert.deepEqual(violations, []);
});

test('the rule catches the reads it is about, and only those', () => {
  const caught = [
    'const m = entry.request.method;',
    'if (entry.response?.status >= 500) bad++;',
    'return entry.response!.content.size;',
    "const reader = readers.get('request.headers');",
    'const { request } = entry; use(request.postData);',
    "if (entry.protocol.name === 'http') x();",
    'function f(e: HttpEntry) {}',
  ];
  for (const code of caught) assert.equal(protocolNamesIn('x.ts', code).length, 1, code);
  const allowed = [
    'if (entry.response === null) return;',
    '// the response.status of an HTTP entry',
    '/* request.method */ const x = 1;',
    "const url = new URL('http://x'); const u = import.meta.url;",
    'const s = summary.outcome; pod.status?.phase;',
  ];
  for (const code of allowed) assert.deepEqual(protocolNamesIn('x.ts', code), [], code);
});
