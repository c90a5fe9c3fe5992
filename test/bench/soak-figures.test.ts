/**
 * soak-figures.json keeps each soak phase's last figures (soak-figures.ts): a run of one phase
 * leaves the other's, a run of both at once replaces both, a file of the older shape reads as the
 * phase its figures name, and a damaged file says what is wrong with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchFigure } from './figures.ts';
import { mergeSoakPhases, parseSoakFile, soakFileText, type SoakPhaseFigures } from './soak-figures.ts';

const size = '4 pods x 2000 req/s, 30 min';
function growth(figure: string, ours: number): BenchFigure {
  return { bench: 'soak', figure, size, sizeValue: 4, ours, unit: '%', higherIsBetter: false, goal: '< 10%', met: ours < 10 };
}
const json: SoakPhaseFigures = { phase: 'json', date: '2026-12-07T09:00:00.000Z', figures: [growth('soak cli-json RSS growth after warm-up', 0.7), growth('soak agent RSS growth after warm-up (json)', 0.5)] };
const tui: SoakPhaseFigures = { phase: 'tui', date: '2026-12-07T08:29:00.000Z', figures: [growth('soak cli-tui RSS growth after warm-up', 5.6), growth('soak agent RSS growth after warm-up (tui)', 0.4)] };

test('a run of one phase keeps the other phase and replaces its own', () => {
  const again: SoakPhaseFigures = { ...json, date: '2026-12-08T10:00:00.000Z', figures: [growth('soak cli-json RSS growth after warm-up', 1.2)] };
  assert.deepEqual(mergeSoakPhases([json, tui], [again]), [tui, again]);
  assert.deepEqual(mergeSoakPhases([], [json, tui]), [json, tui]);
});

test('both phases at once replace each of them; a later single phase replaces the pair', () => {
  const both: SoakPhaseFigures = { phase: 'json+tui', date: '2026-12-08T10:00:00.000Z', figures: [growth('soak cli-json RSS growth after warm-up', 2)] };
  assert.deepEqual(mergeSoakPhases([json, tui], [both]), [both]);
  assert.deepEqual(mergeSoakPhases([both], [tui]), [tui]);
});

test('the file round-trips', () => {
  assert.deepEqual(parseSoakFile(soakFileText([json, tui]), '2000-01-01T00:00:00.000Z'), [json, tui]);
});

test('an older file (a bare array of one run) is the phase its figures name, dated by the file', () => {
  const at = '2026-12-07T08:29:00.634Z';
  assert.deepEqual(parseSoakFile(JSON.stringify(tui.figures), at), [{ phase: 'tui', date: at, figures: tui.figures }]);
  const requests: BenchFigure = { bench: 'soak', figure: 'soak requests (json)', size, sizeValue: 4, ours: 14_399_990, unit: 'requests', higherIsBetter: true };
  assert.equal(parseSoakFile(JSON.stringify([requests, ...tui.figures]), at)[0]!.phase, 'json+tui');
});

test('a damaged file says what is wrong', () => {
  assert.throws(() => parseSoakFile('{"phases": 3}', 'x'), /neither an array of figures nor/);
  assert.throws(() => parseSoakFile(JSON.stringify({ phases: [{ phase: 'json', figures: [] }] }), 'x'), /phase json has no date/);
  assert.throws(() => parseSoakFile(JSON.stringify({ phases: [{ phase: 'tui', date: tui.date, figures: [{ bench: 'soak' }] }] }), 'x'), /1 of the 1 entries of phase tui are not figures/);
  assert.throws(() => parseSoakFile('not json', 'x'), SyntaxError);
});
