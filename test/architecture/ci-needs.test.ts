/**
 * CI fails, rather than skips, when a tool the tests need is missing (issue 12): .ci/run installs
 * every package the tests use and runs as root with CI=true, so a skip there for a missing tool
 * means a broken setup that would otherwise pass unseen. test/helpers/requirements.ts is the one
 * place a skip reason becomes a skip or (in CI) a failure; this checks that it does, in a real
 * test runner, and that no test writes a skip reason of its own past it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { MissingInCi, skipFor, skipForFeature } from '../helpers/requirements.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

test('a missing tool is a skip with its reason off CI, a failure with its reason under CI=true', () => {
  assert.equal(skipFor('tmux is not installed', {}), 'tmux is not installed');
  assert.equal(skipFor(null, { CI: 'true' }), false);
  assert.equal(skipFor(undefined, { CI: 'true' }), false);
  assert.throws(() => skipFor('tmux is not installed', { CI: 'true' }), (e: unknown) => e instanceof MissingInCi && e.reason === 'tmux is not installed' && /CI=true and tmux is not installed/.test(e.message));
  assert.throws(() => skipFor('dig is not installed', { CI: '1' }), MissingInCi);
  assert.equal(skipFor('dig is not installed', { CI: 'false' }), 'dig is not installed');
  // A kernel feature a runner may lack is not a broken setup: skipped in CI too.
  assert.equal(skipForFeature('memory cgroups are not delegated'), 'memory cgroups are not delegated');
});

test('in a real test run: CI=true fails the file naming the missing tool; without CI it is one skip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kshark-ci-needs-'));
  try {
    const file = join(dir, 'needs-tool.test.ts');
    const helpers = join(REPO_ROOT, 'test/helpers/requirements.ts');
    writeFileSync(
      file,
      [
        "import { test } from 'node:test';",
        `import { missingCommand, skipFor } from ${JSON.stringify(helpers)};`,
        "test('talks to kshark-no-such-tool', { skip: skipFor(missingCommand('kshark-no-such-tool')) }, () => {});",
        "test('needs nothing', () => {});",
      ].join('\n'),
    );
    const run = (ci: string | undefined) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.CI;
      // Not as a child of this runner (which would make it report to us in its own protocol).
      delete env.NODE_TEST_CONTEXT;
      if (ci !== undefined) env.CI = ci;
      return spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { env, encoding: 'utf8', timeout: 60_000 });
    };
    const local = run(undefined);
    assert.equal(local.status, 0, local.stdout + local.stderr);
    assert.match(local.stdout, /# SKIP kshark-no-such-tool is not installed/);
    assert.match(local.stdout, /# skipped 1/);
    const ci = run('true');
    assert.notEqual(ci.status, 0, 'CI=true must fail');
    assert.match(ci.stdout + ci.stderr, /CI=true and kshark-no-such-tool is not installed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Helpers through which a skip reason may pass (they fail it in CI, or say why it is not a tool). */
const SKIP_HELPERS = new Set(['skipFor', 'skipWithout', 'skipForFeature']);
const TEST_FUNCTIONS = new Set(['test', 'it', 'describe', 'suite']);

/** A skip expression that cannot hide a reason from skipFor: false, a name, a helper call, or `a || b` of those. */
function isThroughHelpers(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isThroughHelpers(e.expression);
  if (e.kind === ts.SyntaxKind.FalseKeyword || ts.isIdentifier(e)) return true;
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) return SKIP_HELPERS.has(e.expression.text) || /Skip$/.test(e.expression.text);
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.BarBarToken) return isThroughHelpers(e.left) && isThroughHelpers(e.right);
  return false;
}

function calleeName(call: ts.CallExpression): string | null {
  const c = call.expression;
  if (ts.isIdentifier(c)) return c.text;
  if (ts.isPropertyAccessExpression(c)) return c.name.text;
  return null;
}

/** Skip reasons in `text` that bypass the helpers, as "file:line: expression". */
export function bypassingSkips(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const report = (node: ts.Node) => found.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${node.getText(sf).slice(0, 120)}`);
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const name = calleeName(node);
      if (name !== null && TEST_FUNCTIONS.has(name)) {
        for (const arg of node.arguments) {
          if (!ts.isObjectLiteralExpression(arg)) continue;
          for (const p of arg.properties) {
            if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'skip' && !isThroughHelpers(p.initializer)) report(p);
          }
        }
      }
      // t.skip(reason), test.skip(...): the reason goes through the helpers as well.
      const on = ts.isPropertyAccessExpression(node.expression) && ts.isIdentifier(node.expression.expression) ? node.expression.expression.text : null;
      if (name === 'skip' && on !== null && (on === 't' || TEST_FUNCTIONS.has(on)) && node.arguments.some((a) => !isThroughHelpers(a) && a.kind !== ts.SyntaxKind.UndefinedKeyword)) report(node);
    }
    // Skip reasons kept in a name for several tests: `skip`, `netnsSkip`...
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && (node.name.text === 'skip' || /Skip$/.test(node.name.text)) && node.initializer && !isThroughHelpers(node.initializer)) report(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function testFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(testFiles(path));
    else if (/\.tsx?$/.test(name) && (dir.includes('/test') || /\.test\.tsx?$/.test(name))) out.push(path);
  }
  return out;
}

test('every skip in the tests takes its reason through test/helpers/requirements.ts', () => {
  // The check itself: each way around the helpers is seen.
  const bypasses = bypassingSkips(
    'example.test.ts',
    [
      "test('a', { skip: hasTmux ? false : 'tmux is not installed' }, () => {});",
      "const skip = requireNetns() ?? false;",
      "test('b', async (t) => { t.skip('tshark is not installed'); });",
      "test('c', { skip: skipFor(hasTmux ? null : 'tmux is not installed') }, () => {});",
      "const netnsSkip = skipFor(requireNetns());",
      "test('d', { skip: netnsSkip || skipWithout('python3') }, () => {});",
    ].join('\n'),
  );
  assert.deepEqual(
    bypasses.map((b) => b.split(':')[1]),
    ['1', '2', '3'],
  );
  const found: string[] = [];
  for (const top of ['src', 'test']) {
    for (const file of testFiles(join(REPO_ROOT, top))) {
      if (file.endsWith('test/architecture/ci-needs.test.ts')) continue;
      found.push(...bypassingSkips(relative(REPO_ROOT, file), readFileSync(file, 'utf8')));
    }
  }
  assert.deepEqual(found, []);
});
