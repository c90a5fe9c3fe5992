/**
 * The data-protocol benchmark (`npm run bench`, protocol-throughput.ts) on a tiny size, so a broken
 * case in test/bench/protocols is caught by `npm test` rather than on the benchmark day: every case
 * loads, builds the same bytes twice, and our reader finds exactly its entries, all of its
 * protocol, where tshark's filter selects packets of the same file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildProtocolCapture, loadBenchCases, measureProtocol } from './protocol-bench.ts';

const outDir = mkdtempSync(join(tmpdir(), 'shark-protocol-bench-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

const cases = await loadBenchCases();

test('test/bench/protocols holds at least one case', () => {
  assert.ok(cases.length > 0, 'no case: the data protocols each write test/bench/protocols/<p>.ts');
});

for (const { file, benchCase } of cases) {
  test(`bench case ${file}: deterministic, and read finds exactly its ${benchCase.protocol} entries`, async () => {
    const a = buildProtocolCapture(benchCase, { seed: 7, minEntries: 60, outDir: join(outDir, 'a') });
    const b = buildProtocolCapture(benchCase, { seed: 7, minEntries: 60, outDir: join(outDir, 'b') });
    assert.ok(readFileSync(a.path).equals(readFileSync(b.path)), 'same seed, different capture bytes');
    assert.ok(a.entries >= 60);
    const figures = await measureProtocol(benchCase, a, { tshark: true });
    assert.equal(figures.problem, null, figures.problem ?? '');
    assert.equal(figures.entries, a.entries);
    assert.equal(figures.entriesOfProtocol, a.entries);
    assert.ok(figures.tshark !== null && figures.tshark.packets > 0);
  });
}
