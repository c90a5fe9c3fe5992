/**
 * `npm run bench` (after the build): every benchmark in turn, as the package.json script once
 * chained them, with their output streamed to the terminal. Then, from their BENCH-FIGURE lines
 * (figures.ts) and the last `npm run bench:soak` (test/bench/out/soak-figures.json, when present):
 *  - test/bench/out/figures.json: the machine, each benchmark's status, every figure;
 *  - the README's performance section between its bench markers: one table of figures beside
 *    their peers, the machine, and how each figure's cost grows with the work (report/growth.ts).
 * A benchmark that fails, skips itself (no root) or is left out is a row of the table, not a gap.
 * Exits 1 when a benchmark failed, 2 on a bad option or a README without its markers.
 *
 * A benchmark left out by --only/--skip keeps the figures of the last run that measured it (read
 * from the figures.json that run wrote, each marked with that run's date and commit), so the table
 * can be filled by several partial runs, e.g. the root benchmarks apart from the others.
 *
 * Options: --only a,b  --skip a,b  --no-readme
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FIGURE_LINE_PREFIX, parseFigureLines, type BenchFigure } from './figures.ts';
import { describeMachine } from './report/machine.ts';
import { parseSoakFile, SOAK_FIGURES_FILE, type SoakPhaseFigures } from './soak-figures.ts';
import { renderPerformanceSection, type BenchRun, type BenchStatus, type PerformanceReport, type SoakFigures } from './report/performance-section.ts';
import { BenchSectionError, replaceBenchSection } from './report/readme-section.ts';
import { ROOT } from './timed-run.ts';

export interface Benchmark {
  /** The script's base name, which its figures carry as `bench`. */
  readonly name: string;
  /** Relative to the repository root. */
  readonly script: string;
  /** Node's flags for it (heap sizes, tsx for .tsx). */
  readonly nodeArgs: readonly string[];
  /** Not in every tree yet: a missing script is listed as not run rather than failed. */
  readonly optional?: boolean;
  /** Environment beyond run-all's own. */
  readonly env?: Readonly<Record<string, string>>;
}

export const BENCHMARKS: readonly Benchmark[] = [
  { name: 'read-throughput', script: 'test/bench/read-throughput.ts', nodeArgs: [] },
  { name: 'serialise', script: 'test/bench/serialise.ts', nodeArgs: [] },
  { name: 'protocol-throughput', script: 'test/bench/protocol-throughput.ts', nodeArgs: ['--import', 'tsx'] },
  { name: 'kfl-evals', script: 'test/bench/kfl-evals.ts', nodeArgs: ['--max-old-space-size=4096'] },
  { name: 'ndjson-filter', script: 'test/bench/ndjson-filter.ts', nodeArgs: ['--import', 'tsx'] },
  { name: 'tui-store', script: 'test/bench/tui-store.ts', nodeArgs: ['--max-old-space-size=4096'] },
  // React's production build, as the CLI loads it (cmd/main.ts sets NODE_ENV before React loads).
  { name: 'tui-frame', script: 'test/bench/tui-frame.tsx', nodeArgs: ['--import', 'tsx', '--max-old-space-size=8192'], env: { NODE_ENV: 'production' } },
  { name: 'agent-live', script: 'test/bench/agent-live.ts', nodeArgs: [] },
  { name: 'tap-exec', script: 'test/bench/tap-exec.ts', nodeArgs: [] },
  { name: 'tls-overhead', script: 'test/bench/tls-overhead.ts', nodeArgs: [] },
];

export const SOAK_FIGURES = SOAK_FIGURES_FILE;

export interface RunAllOptions {
  readonly root: string;
  readonly benchmarks: readonly Benchmark[];
  /** Run only these (null: all). */
  readonly only: readonly string[] | null;
  readonly skip: readonly string[];
  /** The README to regenerate, or null (--no-readme). */
  readonly readmePath: string | null;
  /** Where figures.json is written and soak-figures.json is read. */
  readonly outDir: string;
  /** Where the benchmarks' output goes as it comes (the terminal). */
  readonly echo: { readonly stdout: (s: string) => void; readonly stderr: (s: string) => void };
}

export class RunAllUsageError extends Error {}

/** `agent-live bench skipped: needs root ...`: how the benchmarks say they did not measure. */
const SKIP_LINE = /^\S+ bench skipped: (.+)$/;

interface BenchOutput {
  readonly code: number | null;
  readonly signal: string | null;
  readonly seconds: number;
  readonly figureText: string;
  readonly skipReason: string | null;
  readonly lastStderr: string;
}

/** The benchmark running now, so a signal to run-all reaches it rather than leaving it orphaned. */
let running: ChildProcess | null = null;

/** Runs one benchmark, passing its output through line by line and keeping what the report needs. */
function runBenchmark(root: string, b: Benchmark, echo: RunAllOptions['echo']): Promise<BenchOutput> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...b.nodeArgs, join(root, b.script)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...b.env } });
    running = child;
    let figureText = '';
    let skipReason: string | null = null;
    let rest = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      echo.stdout(s);
      const lines = (rest + s).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(FIGURE_LINE_PREFIX)) figureText += `${line}\n`;
        const skipped = SKIP_LINE.exec(line);
        if (skipped) skipReason = skipped[1]!;
      }
      // A line without its newline yet stays bounded: only figure lines are worth keeping whole.
      if (rest.length > 1_000_000 && !rest.startsWith(FIGURE_LINE_PREFIX)) rest = '';
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      echo.stderr(s);
      stderrTail = (stderrTail + s).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running = null;
      if (rest.startsWith(FIGURE_LINE_PREFIX)) figureText += `${rest}\n`;
      const lastStderr = stderrTail.trim().split('\n').at(-1) ?? '';
      resolve({ code, signal, seconds: (performance.now() - started) / 1000, figureText, skipReason, lastStderr });
    });
  });
}

function statusOf(out: BenchOutput, figures: number, bad: number): BenchStatus {
  if (out.code !== 0) {
    const how = out.signal !== null ? `killed by ${out.signal}` : `exit code ${out.code}`;
    // The last stderr line usually says why; printable ASCII only, it goes into markdown.
    const why = out.lastStderr.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
    return { kind: 'failed', reason: why === '' ? how : `${how}: ${why}` };
  }
  if (bad > 0) return { kind: 'failed', reason: `${bad} malformed ${FIGURE_LINE_PREFIX.trim()} line${bad === 1 ? '' : 's'}` };
  if (figures === 0 && out.skipReason !== null) return { kind: 'skipped', reason: out.skipReason };
  return { kind: 'ok' };
}

/** The soak phases' last figures, a `failed` run when the file is there but unusable, or null when absent. */
function readSoak(outDir: string): { soak: SoakFigures | null; run: BenchRun | null } {
  const path = join(outDir, SOAK_FIGURES);
  if (!existsSync(path)) return { soak: null, run: { name: 'soak', status: { kind: 'not run', reason: `npm run bench:soak (30 minutes) writes test/bench/out/${SOAK_FIGURES}` }, seconds: null, figures: 0 } };
  let phases: SoakPhaseFigures[];
  try {
    phases = parseSoakFile(readFileSync(path, 'utf8'), statSync(path).mtime.toISOString());
  } catch (err) {
    return { soak: null, run: { name: 'soak', status: { kind: 'failed', reason: `test/bench/out/${SOAK_FIGURES}: ${err instanceof Error ? err.message : String(err)}` }, seconds: null, figures: 0 } };
  }
  return { soak: { phases: phases.map((p) => ({ phase: p.phase, date: p.date })), figures: phases.flatMap((p) => p.figures) }, run: null };
}

interface EarlierFigures {
  readonly runs: readonly BenchRun[];
  readonly figures: readonly BenchFigure[];
  readonly date: string;
  readonly commit: string;
}

/** What the last run wrote to figures.json, or null when there is none to keep (absent or unreadable). */
function readEarlier(outDir: string, echo: RunAllOptions['echo']): EarlierFigures | null {
  const path = join(outDir, 'figures.json');
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { machine?: { date?: unknown; commit?: unknown }; runs?: unknown; figures?: unknown };
    if (!Array.isArray(v.runs) || !Array.isArray(v.figures) || typeof v.machine?.date !== 'string' || typeof v.machine.commit !== 'string') throw new Error('not the shape run-all writes');
    const { figures, bad } = parseFigureLines(v.figures.map((f: unknown) => `${FIGURE_LINE_PREFIX}${JSON.stringify(f)}`).join('\n'));
    if (bad.length > 0) throw new Error(`${bad.length} malformed figures`);
    return { runs: v.runs as BenchRun[], figures, date: v.machine.date, commit: v.machine.commit };
  } catch (err) {
    echo.stderr(`run-all: ${path}: earlier figures not kept (${err instanceof Error ? err.message : String(err)})\n`);
    return null;
  }
}

function selected(o: RunAllOptions): Set<string> {
  const names = new Set(o.benchmarks.map((b) => b.name));
  for (const [flag, list] of [['--only', o.only ?? []], ['--skip', o.skip]] as const) {
    for (const n of list) {
      if (!names.has(n)) throw new RunAllUsageError(`run-all: ${flag} ${n}: no such benchmark (they are ${[...names].join(', ')})`);
    }
  }
  return new Set([...names].filter((n) => (o.only === null || o.only.includes(n)) && !o.skip.includes(n)));
}

export async function runAll(o: RunAllOptions): Promise<{ code: number; report: PerformanceReport }> {
  const chosen = selected(o);
  // A README without its markers fails now, not after half an hour of benchmarks.
  const readme = o.readmePath === null ? null : readFileSync(o.readmePath, 'utf8');
  if (readme !== null) replaceBenchSection(readme, '', o.readmePath!);

  const earlier = readEarlier(o.outDir, o.echo);
  const runs: BenchRun[] = [];
  const figures: BenchFigure[] = [];
  for (const b of o.benchmarks) {
    if (!chosen.has(b.name)) {
      const kept = earlier?.runs.find((r) => r.name === b.name && r.status.kind !== 'not run');
      if (kept !== undefined && earlier !== null) {
        runs.push({ ...kept, earlier: kept.earlier ?? { date: earlier.date, commit: earlier.commit } });
        figures.push(...earlier.figures.filter((f) => f.bench === b.name));
        continue;
      }
      runs.push({ name: b.name, status: { kind: 'not run', reason: o.only !== null && !o.only.includes(b.name) ? 'not in --only' : '--skip' }, seconds: null, figures: 0 });
      continue;
    }
    if (b.optional === true && !existsSync(join(o.root, b.script))) {
      runs.push({ name: b.name, status: { kind: 'not run', reason: `${b.script} is not in this tree` }, seconds: null, figures: 0 });
      continue;
    }
    o.echo.stdout(`\n== ${b.name}: node ${[...b.nodeArgs, b.script].join(' ')}\n`);
    const out = await runBenchmark(o.root, b, o.echo);
    const parsed = parseFigureLines(out.figureText);
    for (const line of parsed.bad) o.echo.stderr(`run-all: ${b.name}: malformed figure line: ${line.slice(0, 300)}\n`);
    figures.push(...parsed.figures);
    const status = statusOf(out, parsed.figures.length, parsed.bad.length);
    runs.push({ name: b.name, status, seconds: out.seconds, figures: parsed.figures.length });
    o.echo.stdout(`== ${b.name}: ${status.kind === 'ok' ? 'ok' : `${status.kind}: ${status.reason}`} (${Math.round(out.seconds)} s, ${parsed.figures.length} figures)\n`);
  }
  const soak = readSoak(o.outDir);
  if (soak.run !== null) runs.push(soak.run);

  const report: PerformanceReport = { machine: describeMachine(o.root), runs, figures: [...figures, ...(soak.soak?.figures ?? [])], soak: soak.soak };
  mkdirSync(o.outDir, { recursive: true });
  const figuresPath = join(o.outDir, 'figures.json');
  writeFileSync(figuresPath, `${JSON.stringify({ machine: report.machine, runs, figures, soak: soak.soak }, null, 2)}\n`);
  o.echo.stdout(`\nrun-all: ${figures.length} figures${soak.soak ? ` and ${soak.soak.figures.length} soak figures` : ''} in ${figuresPath}\n`);
  if (readme !== null && o.readmePath !== null) {
    writeFileSync(o.readmePath, replaceBenchSection(readme, renderPerformanceSection(report), o.readmePath));
    o.echo.stdout(`run-all: ${o.readmePath} performance section regenerated\n`);
  }
  const failed = runs.filter((r) => r.status.kind === 'failed');
  for (const r of failed) o.echo.stderr(`run-all: ${r.name} failed: ${r.status.kind === 'failed' ? r.status.reason : ''}\n`);
  return { code: failed.length === 0 ? 0 : 1, report };
}

function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

async function main(argv: readonly string[]): Promise<number> {
  let values: { only?: string; skip?: string; 'no-readme'?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { only: { type: 'string' }, skip: { type: 'string' }, 'no-readme': { type: 'boolean' } } }));
  } catch (err) {
    process.stderr.write(`run-all: ${err instanceof Error ? err.message : String(err)} (options: --only a,b  --skip a,b  --no-readme)\n`);
    return 2;
  }
  try {
    const { code } = await runAll({
      root: ROOT,
      benchmarks: BENCHMARKS,
      only: values.only === undefined ? null : list(values.only),
      skip: list(values.skip),
      readmePath: values['no-readme'] === true ? null : join(ROOT, 'README.md'),
      outDir: join(ROOT, 'test', 'bench', 'out'),
      echo: { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
    });
    return code;
  } catch (err) {
    if (err instanceof RunAllUsageError || err instanceof BenchSectionError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      running?.kill(signal);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`run-all: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
