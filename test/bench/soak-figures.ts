/**
 * test/bench/out/soak-figures.json: the figures of the last run of each soak phase, with the time
 * each was measured. A soak runs its phases one after the other (`--phases json,tui`, an hour) or
 * one alone; a run of one phase keeps the other's last figures, so the README's table shows both
 * (`npm run bench` reads this file, run-all.ts). A phase run at the same time as another
 * (`json+tui`) replaces the figures of each of them.
 *
 * The file before phases were kept apart was a bare array of one run's figures: it reads as one
 * phase, named by what its figures measured (the CLI of the json tap, of the TUI).
 */
import { FIGURE_LINE_PREFIX, parseFigureLines, type BenchFigure } from './figures.ts';

export const SOAK_FIGURES_FILE = 'soak-figures.json';

export interface SoakPhaseFigures {
  /** The phase group as given to --phases: `json`, `tui`, `json+tui`. */
  readonly phase: string;
  /** When the phase ended (ISO 8601). */
  readonly date: string;
  readonly figures: readonly BenchFigure[];
}

/** The phases a group ran: `json+tui` -> json, tui. */
function phasesIn(group: string): string[] {
  return group.split('+');
}

/**
 * The phases of a soak-figures.json; `writtenAt` (the file's mtime) dates a file of the older
 * shape. Throws an Error saying what is wrong with the file.
 */
export function parseSoakFile(text: string, writtenAt: string): SoakPhaseFigures[] {
  const value: unknown = JSON.parse(text);
  if (Array.isArray(value)) {
    const figures = checkedFigures(value, 'the file');
    return [{ phase: legacyPhase(figures), date: writtenAt, figures }];
  }
  const phases = (value as { phases?: unknown } | null)?.phases;
  if (!Array.isArray(phases)) throw new Error('neither an array of figures nor { "phases": [...] }');
  return phases.map((p: unknown, i): SoakPhaseFigures => {
    const { phase, date, figures } = (p ?? {}) as { phase?: unknown; date?: unknown; figures?: unknown };
    if (typeof phase !== 'string' || phase === '') throw new Error(`phases[${i}] has no phase name`);
    if (typeof date !== 'string' || Number.isNaN(Date.parse(date))) throw new Error(`phase ${phase} has no date`);
    if (!Array.isArray(figures)) throw new Error(`phase ${phase} has no figures array`);
    return { phase, date, figures: checkedFigures(figures, `phase ${phase}`) };
  });
}

/** Each element a well-formed figure: the same check as a benchmark's printed line. */
function checkedFigures(values: readonly unknown[], where: string): BenchFigure[] {
  const { figures, bad } = parseFigureLines(values.map((v) => `${FIGURE_LINE_PREFIX}${JSON.stringify(v)}`).join('\n'));
  if (bad.length > 0) throw new Error(`${bad.length} of the ${values.length} entries of ${where} are not figures`);
  return figures;
}

/** Which phases an older file's figures came from, from what they name. */
function legacyPhase(figures: readonly BenchFigure[]): string {
  const names = figures.map((f) => f.figure).join('\n');
  const phases = [/cli-json|\(json\)/.test(names) ? 'json' : null, /cli-tui/.test(names) ? 'tui' : null].filter((p) => p !== null);
  return phases.length === 0 ? 'json+tui' : phases.join('+');
}

/** The earlier phases this run did not repeat, then this run's, in the order they ran. */
export function mergeSoakPhases(earlier: readonly SoakPhaseFigures[], now: readonly SoakPhaseFigures[]): SoakPhaseFigures[] {
  const ran = new Set(now.flatMap((p) => phasesIn(p.phase)));
  return [...earlier.filter((p) => !phasesIn(p.phase).some((name) => ran.has(name))), ...now];
}

export function soakFileText(phases: readonly SoakPhaseFigures[]): string {
  return `${JSON.stringify({ phases }, null, 2)}\n`;
}
