/**
 * Test helpers live in test/helpers (benchmark scripts in test/bench), not in src/: the build
 * (tsconfig.build.json) and the agent bundle take src/ and cmd/ whole, with no naming rule to
 * leave helpers out. Checked three ways: no src file is imported by tests alone, none is named
 * like a helper, and the build's own file list holds no test code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { importEdges } from '../helpers/import-graph.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

const isTest = (path: string): boolean => path.startsWith('test/') || /\.test\.tsx?$/.test(path);

function files(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (/\.tsx?$/.test(name)) out.push(relative(REPO_ROOT, path));
  }
  return out;
}

test('no file in src/ is imported by tests alone, nor named like a test helper', () => {
  const importers = new Map<string, string[]>();
  for (const top of ['src', 'cmd', 'test', 'scripts']) {
    for (const file of files(join(REPO_ROOT, top))) {
      for (const edge of importEdges(join(REPO_ROOT, file), readFileSync(join(REPO_ROOT, file), 'utf8'))) {
        importers.set(edge.to, [...(importers.get(edge.to) ?? []), edge.from]);
      }
    }
  }
  const helpers: string[] = [];
  for (const file of files(join(REPO_ROOT, 'src'))) {
    if (isTest(file)) continue;
    const by = importers.get(file) ?? [];
    if (by.length > 0 && by.every(isTest)) helpers.push(`${file} is imported only by tests (${by.slice(0, 3).join(', ')}): move it to test/helpers`);
    else if (/(^|\/)(test-[^/]*|[^/]*testing|[^/]*test-support)\.tsx?$/.test(file)) helpers.push(`${file} is named like a test helper: move it to test/helpers`);
  }
  assert.deepEqual(helpers, []);
});

test("the build's file list (tsconfig.build.json) holds no test, test helper or bench file", () => {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const listed = execFileSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--listFilesOnly'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith(REPO_ROOT) && !line.includes('/node_modules/'))
    .map((line) => relative(REPO_ROOT, line));
  assert.ok(listed.some((f) => f === 'cmd/main.ts') && listed.length > 100, `the build lists ${listed.length} files`);
  assert.deepEqual(listed.filter(isTest), []);
});

/** Object literals shaped like a whole entry (envelope and request), as "file:line". */
function handBuiltEntries(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      const names = new Set(node.properties.map((p) => (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : '')));
      if (names.has('startTime') && names.has('requestSize') && names.has('request')) found.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

test('one entry builder: tests build entries with test/helpers/entries.ts, never as a literal of their own', () => {
  assert.deepEqual(handBuiltEntries('x.test.ts', "const e = { id: '1', startTime: 't', requestSize: 1, request: {} };"), ['x.test.ts:1']);
  const found: string[] = [];
  for (const top of ['src', 'test']) {
    for (const file of files(join(REPO_ROOT, top))) {
      if (!isTest(file) || file === 'test/helpers/entries.ts') continue;
      found.push(...handBuiltEntries(file, readFileSync(join(REPO_ROOT, file), 'utf8')));
    }
  }
  assert.deepEqual(found, []);
});
