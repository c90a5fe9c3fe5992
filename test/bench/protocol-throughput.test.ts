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

test('the benchmark prints one BENCH-FIGURE per case and size: our entries per CPU second beside tshark on the same file', async () => {
  const { spawnSync } = await import('node:child_process');
  const { parseFigureLines } = await import('./figures.ts');
  const script = join(import.meta.dirname, 'protocol-throughput.ts');
  const sizes = [60, 180, 540];
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--only', 'redis', '--sizes', sizes.join(','), '--out', join(outDir, 'figures')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { figures, bad } = parseFigureLines(r.stdout);
  assert.deepEqual(bad, []);
  assert.equal(figures.length, 3);
  const saved = JSON.parse(readFileSync(join(outDir, 'figures', 'protocol-throughput.json'), 'utf8')) as { protocols: { entries: number; entriesPerSec: number; tshark: { cpuSeconds: number } }[] };
  figures.forEach((f, i) => {
    const row = saved.protocols[i]!;
    assert.ok(f.sizeValue >= sizes[i]!);
    assert.deepEqual(
      { bench: f.bench, figure: f.figure, size: f.size, sizeValue: f.sizeValue, ours: f.ours, unit: f.unit, higherIsBetter: f.higherIsBetter, peer: f.peer },
      {
        bench: 'protocol-throughput',
        figure: 'read -o json redis, one core',
        size: `${row.entries} entries`,
        sizeValue: row.entries,
        ours: row.entriesPerSec,
        unit: 'entries/CPU-s',
        higherIsBetter: true,
        peer: { name: "tshark -Y 'resp' -T fields", value: Math.round(row.entries / Math.max(0.01, row.tshark.cpuSeconds)) },
      },
    );
  });
});
