import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchFigure } from '../figures.ts';
import { growthRows } from './growth.ts';

function fig(figure: string, sizeValue: number, ours: number, higherIsBetter: boolean): BenchFigure {
  return { bench: 'b', figure, size: `${sizeValue} entries`, sizeValue, ours, unit: higherIsBetter ? 'entries/s' : 'MB', higherIsBetter };
}

test('an amount growing with the square of the work is faster than linear', () => {
  const [row] = growthRows([fig('rss', 100, 1, false), fig('rss', 300, 9, false), fig('rss', 1000, 100, false)]);
  assert.equal(row!.verdict, 'faster than linear');
  assert.deepEqual(row!.relative, [1, 3, 10]);
  assert.equal(row!.costTaken, 'value / size');
});

test('a rate that falls as the work grows (quadratic total cost) is faster than linear', () => {
  const [row] = growthRows([fig('rate', 1000, 1000, true), fig('rate', 2000, 500, true), fig('rate', 4000, 250, true)]);
  assert.equal(row!.verdict, 'faster than linear');
  assert.deepEqual(row!.relative, [1, 2, 4]);
  assert.equal(row!.costTaken, 'work / rate');
});

test('a steady rate, and memory with a fixed base, are linear or better; sizes come out sorted', () => {
  const rows = growthRows([fig('rate', 3000, 9000, true), fig('rss', 1000, 60, false), fig('rate', 1000, 10_000, true), fig('rate', 10_000, 9600, true), fig('rss', 100, 41, false)]);
  assert.deepEqual(
    rows.map((r) => [r.figure, r.sizes, r.verdict]),
    [
      ['rate', ['1000 entries', '3000 entries', '10000 entries'], 'linear or better'],
      ['rss', ['100 entries', '1000 entries'], 'linear or better'],
    ],
  );
});

test('the tolerance is the line: 15% dearer per unit passes, 16% does not', () => {
  assert.equal(growthRows([fig('x', 1, 100, false), fig('x', 2, 230, false)])[0]!.verdict, 'linear or better');
  assert.equal(growthRows([fig('x', 1, 100, false), fig('x', 2, 232, false)])[0]!.verdict, 'faster than linear');
});

test('one size, a zero rate and a cost that starts at zero are handled, not divided by', () => {
  assert.equal(growthRows([fig('one', 5, 1, true)])[0]!.verdict, 'one size: not judged');
  assert.equal(growthRows([fig('z', 1, 0, true), fig('z', 2, 5, true)])[0]!.verdict, 'not judged: a zero rate');
  assert.equal(growthRows([fig('lost', 1000, 0, false), fig('lost', 5000, 0, false)])[0]!.verdict, 'linear or better');
  assert.equal(growthRows([fig('lost', 1000, 0, false), fig('lost', 5000, 3, false)])[0]!.verdict, 'faster than linear');
});

test('the same figure text in two benchmarks is two rows', () => {
  const rows = growthRows([fig('x', 1, 1, false), { ...fig('x', 2, 2, false), bench: 'other' }]);
  assert.equal(rows.length, 2);
});
