/**
 * `tap` output and messages that need a cluster (issue 11 item 10), with the real CLI against the
 * sandbox and its demo shop: `-o text` prints one line per entry as `read -o text` does; `-n` with
 * a namespace that does not exist says so (exit 3), and does not when RBAC forbids asking.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { formatEntryLine } from '../../src/pipeline/sinks/text-line.ts';
import { demoShopFixture, requireSandbox, startSandbox, type Sandbox } from '../sandbox/index.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';
import { allPods, assertNoAgents, coreApiOf, requireBuild, runTap } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-cli skipped: ${skip}\n`);

let sandbox: Sandbox;
let pods: Array<[string, string]> = [];
const work = mkdtempSync(join(tmpdir(), 'shark-tapcli-'));

before(async () => {
  if (skip) return;
  sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
  pods = await allPods(coreApiOf(sandbox));
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!skip) await sandbox.stop();
});

afterEach(async () => {
  if (skip) return;
  sandbox.faults.deny.length = 0;
  await assertNoAgents(sandbox, pods);
});

test('-o text: one line per entry, the lines `read -o text` prints for the same entries', { skip }, async () => {
  const text = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'text', '--count', '4']);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 4, text.stdout);
  // Same traffic as NDJSON, then through read's text output and the formatter itself: tap's lines
  // have the shape of both (the times and sizes differ per call, so the shapes are compared).
  const json = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '4']);
  assert.equal(json.code, 0, json.stderr);
  const entries = parseNdjson<Entry>(json.stdout);
  assert.equal(entries.length, 4);
  const saved = join(work, 'tap.ndjson');
  writeFileSync(saved, json.stdout);
  const read = await runShark(['read', saved, '-o', 'text', '-q']);
  assert.equal(read.code, 0, read.stderr);
  // Fields are two spaces apart: time, ends, method, path, status, latency, size. The shop's calls
  // differ from one run to the next (GETs, order POSTs), so method and path are compared as slots.
  const shape = (line: string): string =>
    line
      .split('  ')
      .map((field, i) => (i === 2 ? 'METHOD' : i === 3 ? 'PATH' : field.replace(/\d+(\.\d+)?/g, '9')))
      .join('  ');
  const formatted = entries.map(formatEntryLine);
  assert.deepEqual(read.stdout.trimEnd().split('\n').map(shape), formatted.map(shape), 'read -o text is formatEntryLine');
  for (const line of lines) {
    assert.ok(formatted.map(shape).includes(shape(line)), `tap's line has the formatter's shape: ${line}\nformatter: ${formatted.join('\n')}`);
    assert.match(line, /front-end.* -> .*catalogue.* (GET|POST) /);
    assert.doesNotMatch(line, /^\{/);
  }
});

test('-n with a namespace that does not exist: said, exit 3', { skip }, async () => {
  const res = await runTap(sandbox, ['-n', 'nope', '-o', 'json']);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /^kubectl shark tap: namespace "nope" does not exist in context "[^"]+" \(kubectl get namespaces lists them\)\n$/);
  // One of two: the search's own message, and the missing one named after it.
  const some = await runTap(sandbox, ['checkout', '-n', 'shop,nope', '-o', 'json']);
  assert.equal(some.code, 3, some.stderr);
  assert.match(some.stderr, /no running pod matches \(name matching \/checkout\/\) in namespaces shop, nope .*; namespace "nope" does not exist in context/);
  // An existing namespace without a match is not called missing.
  const empty = await runTap(sandbox, ['checkout', '-n', 'shop', '-o', 'json']);
  assert.equal(empty.code, 3);
  assert.doesNotMatch(empty.stderr, /does not exist/);
});

test('-n nope when RBAC forbids getting namespaces: no claim either way, the search is described', { skip }, async () => {
  sandbox.faults.deny.push({ verb: 'get', resource: 'namespaces' });
  const res = await runTap(sandbox, ['-n', 'nope', '-o', 'json']);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /no running pod matches \(any name\) in namespace nope \(no pods there\)/);
  assert.doesNotMatch(res.stderr, /does not exist|forbidden/i);
});
