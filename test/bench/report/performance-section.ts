/**
 * The markdown `npm run bench` writes between the README's bench markers: the machine, one table
 * of every figure beside its peer measured in the same run, the benchmarks that failed or did not
 * run, and the growth table (growth.ts). Pure: the same run gives the same bytes.
 */
import { formatBytes } from '../../../src/model/byte-units.ts';
import { ratioToPeer, type BenchFigure } from '../figures.ts';
import { GROWTH_TOLERANCE, growthRows } from './growth.ts';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  /** `uname -r`. */
  readonly kernel: string;
  readonly node: string;
  /** The peers' versions as they print them, or null when one is not installed. */
  readonly tools: { readonly tshark: string | null; readonly jq: string | null; readonly h2load: string | null };
  /** ISO 8601, UTC. */
  readonly date: string;
  /** Short commit, with `+changes` when the tree differs from it. */
  readonly commit: string;
}

export type BenchStatus =
  | { readonly kind: 'ok' }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'not run'; readonly reason: string };

export interface BenchRun {
  readonly name: string;
  readonly status: BenchStatus;
  /** Wall-clock seconds of the benchmark, null when it did not run. */
  readonly seconds: number | null;
  readonly figures: number;
  /** When its figures were measured by an earlier run of run-all (kept while another ran with --only/--skip). */
  readonly earlier?: { readonly date: string; readonly commit: string };
}

/**
 * Figures of `npm run bench:soak` (30 minutes a phase, not repeated by `npm run bench`): each
 * phase's last run (test/bench/soak-figures.ts) and when it ended.
 */
export interface SoakFigures {
  readonly phases: readonly { readonly phase: string; readonly date: string }[];
  readonly figures: readonly BenchFigure[];
}

export interface PerformanceReport {
  readonly machine: Machine;
  readonly runs: readonly BenchRun[];
  readonly figures: readonly BenchFigure[];
  readonly soak: SoakFigures | null;
}

/** Numbers for people: thousands separated, about three significant digits. */
export function formatFigure(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return Math.round(v).toLocaleString('en-US');
  if (abs >= 10) return v.toFixed(1);
  if (abs === 0) return '0';
  return v.toFixed(2);
}

/** A table cell: a `|` would end the cell, a newline the row. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

/** `2026-12-06 22:40 UTC` from an ISO date. */
function shortDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function statusText(s: BenchStatus): string {
  return s.kind === 'ok' ? 'ok' : `${s.kind}: ${s.reason}`;
}

export function renderFigureTable(figures: readonly BenchFigure[], runs: readonly BenchRun[]): string[] {
  const lines = [tableRow(['figure', 'size', 'ours', 'peer', 'peer value', 'ratio', 'goal', 'met']), '|---|---|--:|---|--:|--:|---|---|'];
  const value = (v: number, unit: string): string => `${formatFigure(v)} ${unit}`;
  const byBench = new Map<string, BenchFigure[]>();
  for (const f of figures) byBench.set(f.bench, [...(byBench.get(f.bench) ?? []), f]);
  // The runs' order first (the order npm run bench ran them), then figures of benchmarks not run here (soak).
  const order = [...runs.map((r) => r.name), ...[...byBench.keys()].filter((b) => !runs.some((r) => r.name === b))];
  for (const bench of order) {
    const run = runs.find((r) => r.name === bench);
    for (const f of byBench.get(bench) ?? []) {
      const ratio = ratioToPeer(f);
      lines.push(
        tableRow([
          `${f.bench}: ${f.figure}`,
          f.size,
          value(f.ours, f.unit),
          f.peer?.name ?? '-',
          f.peer === undefined ? '-' : value(f.peer.value, f.unit),
          ratio === null ? '-' : `${ratio.toFixed(2)}x`,
          f.goal ?? '-',
          f.met === undefined ? '-' : f.met ? 'yes' : 'no',
        ]),
      );
    }
    // A benchmark without figures is a row too: failed, skipped or not run is something to read, not a gap.
    if (run !== undefined && (run.status.kind !== 'ok' || run.figures === 0)) {
      const what = run.status.kind === 'ok' ? 'ran, printed no figure' : statusText(run.status);
      lines.push(tableRow([`${bench}: the benchmark`, '-', what, '-', '-', '-', '-', run.status.kind === 'failed' ? 'no' : '-']));
    }
  }
  return lines;
}

export function renderGrowthTable(figures: readonly BenchFigure[], tolerance: number = GROWTH_TOLERANCE): string[] {
  const lines = [tableRow(['figure', 'sizes', 'cost taken as', 'cost per unit of work, relative to the smallest size', 'verdict']), '|---|---|---|---|---|'];
  for (const g of growthRows(figures, tolerance)) {
    const relative = g.relative.length === 0 ? '-' : g.relative.map((r) => (Number.isFinite(r) ? r.toFixed(2) : 'from 0')).join(' / ');
    lines.push(tableRow([`${g.bench}: ${g.figure}`, g.sizes.join(' / '), g.costTaken, relative, g.verdict]));
  }
  return lines;
}

function machineLine(m: Machine): string {
  const tools = (['tshark', 'jq', 'h2load'] as const).map((t) => `${t} ${m.tools[t] ?? 'not installed'}`).join(', ');
  return `Machine: ${m.cpu}, ${m.cores} cores, ${formatBytes(m.memoryBytes)} of memory, Linux ${m.kernel}; Node ${m.node}; ${tools}.`;
}

/** "the json phase on D1, the tui phase on D2": when each phase's figures were measured. */
function soakPhasesText(soak: SoakFigures): string {
  if (soak.phases.length === 0) return 'no phase';
  return soak.phases.map((p) => `the ${p.phase} phase${p.phase.includes('+') ? 's' : ''} on ${shortDate(p.date)}`).join(', ');
}

/** The whole generated section (without the markers). */
export function renderPerformanceSection(r: PerformanceReport): string {
  const out: string[] = [];
  out.push(`_Generated by \`npm run bench\` (test/bench/run-all.ts) on ${shortDate(r.machine.date)} at commit ${r.machine.commit}; the same figures are in test/bench/out/figures.json. Do not edit between the markers._`);
  out.push('');
  out.push(machineLine(r.machine));
  out.push('');
  out.push(...renderFigureTable(r.figures, r.runs));
  out.push('');
  out.push('Ratio: how many times better ours is than the peer, whichever way the unit points (above 1: ours is better).');
  if (r.soak !== null) out.push(`The soak figures come from \`npm run bench:soak\`: ${soakPhasesText(r.soak)} (\`npm run bench\` does not repeat it; each figure's size says how long it ran).`);
  out.push('');
  // What did not run is a row of the table already; here the time each one that ran took.
  const ran = r.runs.filter((b) => b.seconds !== null);
  out.push(`Ran: ${ran.length === 0 ? 'none' : ran.map((b) => `${b.name} ${statusText(b.status)} (${Math.round(b.seconds!)} s, ${b.figures} figure${b.figures === 1 ? '' : 's'}${b.earlier === undefined ? '' : `; measured ${shortDate(b.earlier.date)} at ${b.earlier.commit}`})`).join('; ')}.`);
  out.push('');
  out.push(
    `Growth: each figure's cost per unit of work at each size, relative to its smallest size. A rate's cost is work / rate, so its cost per unit is 1 / rate; an amount (memory, latency, CPU share) is its own cost, per unit of its size. "Linear or better": no larger size costs more than ${Math.round(GROWTH_TOLERANCE * 100)}% above the smallest per unit. A fixed cost (starting Node, its base memory) makes the small sizes dearer per unit, so falling numbers mean the fixed part still weighs, not that work got cheaper.`,
  );
  out.push('');
  out.push(...renderGrowthTable(r.figures));
  return `${out.join('\n')}\n`;
}
