/**
 * The per-pod summary `tap` prints to stderr when it stops: one aligned row per tapped pod, then a
 * totals line. Plain text (no colour): it is read after the screen is given back, or in a CI log.
 */
import { formatFilterOutcome } from '../model/count-text.ts';
import { emptyTallies, formatTallies, sumTallies, talliesWorthShowing, type ProtocolTallies } from '../model/protocol-tally.ts';
import { sanitizeLine } from '../model/terminal-text.ts';
import { emptyUndissected, formatUndissected, hasUndissected, sumUndissected, type UndissectedCounts } from '../model/undissected.ts';
import { lostExchangesOf, protocolLabel } from '../remote-agent/dissect/descriptors.ts';
import { lostExchangesLine } from './lost-exchanges.ts';
import type { PodTapStats } from './tap-merge.ts';

export interface TapTotals {
  readonly entries: number;
  readonly duplicates: number;
  readonly elapsedMs: number;
  /**
   * True when a --filter was in effect: the totals then say how many entries the agents saw and
   * how many matched, so "all filtered out" reads differently from "no traffic".
   */
  readonly filtered?: boolean;
}

const HEADINGS = ['POD', 'STATE', 'ENTRIES', 'DROPPED', 'KERNEL DROPS', 'NOTE'] as const;
/** Columns aligned right (numbers). */
const NUMERIC = new Set([2, 3, 4]);
const GAP = '  ';
/** Notes are one line and short; the whole message was shown when it happened. */
const MAX_NOTE = 100;

/** An agent's or the API server's message as one short, display-safe line. */
function note(message: string): string {
  const line = sanitizeLine(message.replace(/\s+/g, ' ').trim());
  return line.length > MAX_NOTE ? `${line.slice(0, MAX_NOTE - 1)}…` : line;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** 0.4s, 12.3s, 2m05s, 1h02m. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  // Compared after rounding, so 59.96 s reads 1m00s rather than 60.0s.
  if (Math.round(seconds * 10) < 600) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** Pods in key order, as the table lists them. */
function byKey(stats: readonly PodTapStats[]): PodTapStats[] {
  return [...stats].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function formatPodSummary(stats: readonly PodTapStats[], totals: TapTotals): string {
  const rows = byKey(stats).map((s) => [sanitizeLine(s.key), s.state, String(s.entries), String(s.dropped), String(s.kernelDrops), note(s.lastMessage)]);
  const table = [[...HEADINGS], ...rows];
  const widths = HEADINGS.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, col) => {
        if (col === row.length - 1) return cell;
        return NUMERIC.has(col) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!);
      })
      .join(GAP)
      .trimEnd(),
  );
  const dropped = stats.reduce((sum, s) => sum + s.dropped, 0);
  const kernelDrops = stats.reduce((sum, s) => sum + s.kernelDrops, 0);
  const parts = [`${count(totals.entries, 'entry', 'entries')} from ${count(stats.length, 'pod', 'pods')} in ${formatElapsed(totals.elapsedMs)}`];
  if (totals.duplicates > 0) parts.push(`${count(totals.duplicates, 'duplicate', 'duplicates')} dropped (both ends tapped)`);
  if (dropped > 0) parts.push(`${count(dropped, 'entry', 'entries')} dropped by agents`);
  if (kernelDrops > 0) parts.push(`${count(kernelDrops, 'frame', 'frames')} dropped by kernels`);
  if (totals.filtered === true) {
    const seen = stats.reduce((sum, s) => sum + s.seen, 0);
    parts.push(formatFilterOutcome(seen, totals.entries));
  }
  const internalErrors = stats.reduce((sum, s) => sum + (s.internalErrors ?? 0), 0);
  if (internalErrors > 0) parts.push(`${count(internalErrors, 'internal error', 'internal errors')} in agents (a bug: please report)`);
  const body = stats.length === 0 ? ['no pod was tapped'] : lines;
  return `${[...body, ...internalErrorLines(stats), ...undissectedLines(stats), ...protocolLines(stats), ...lostLines(stats), `total: ${parts.join(', ')}`].join('\n')}\n`;
}

/**
 * "shop/web-1: 2 internal errors (a bug: please report)", one line per pod whose agent met bugs
 * of its own: each dropped one connection of that pod, and the first of each kind came as a warning.
 */
function internalErrorLines(stats: readonly PodTapStats[]): string[] {
  return byKey(stats)
    .filter((s) => (s.internalErrors ?? 0) > 0)
    .map((s) => `${sanitizeLine(s.key)}: ${count(s.internalErrors!, 'internal error', 'internal errors')} (a bug: please report)`);
}

/** "not dissected in shop/web-1: 3 TLS connections, 4 DNS datagrams", one line per pod that has some. */
function undissectedLines(stats: readonly PodTapStats[]): string[] {
  return byKey(stats)
    .filter((s) => s.undissected !== undefined && hasUndissected(s.undissected))
    .map((s) => `not dissected in ${sanitizeLine(s.key)}: ${formatUndissected(s.undissected!)}`);
}

/** Every pod's traffic not dissected, summed (for the TUI header of a tap). */
export function undissectedOfPods(stats: readonly PodTapStats[]): UndissectedCounts {
  return stats.reduce((sum, s) => (s.undissected === undefined ? sum : sumUndissected(sum, s.undissected)), emptyUndissected());
}

/**
 * "by protocol in shop/web-1: HTTP 27 entries (2 HTTP/2 streams lost: not captured whole), DNS 4 entries",
 * one line per pod whose split says more than its ENTRIES column (as `read`'s summary decides).
 */
function protocolLines(stats: readonly PodTapStats[]): string[] {
  return byKey(stats)
    .filter((s) => s.protocols !== undefined && talliesWorthShowing(s.protocols))
    .map((s) => `by protocol in ${sanitizeLine(s.key)}: ${formatTallies(s.protocols!, protocolLabel, lostExchangesOf)}`);
}

/** Why each pod's lost exchanges were not shown, with the final counts (the notice said it once, with the first). */
function lostLines(stats: readonly PodTapStats[]): string[] {
  return byKey(stats).flatMap((s) =>
    Object.entries(s.protocols ?? {})
      .filter(([, t]) => (t.lost ?? 0) > 0)
      .map(([name, t]) => sanitizeLine(lostExchangesLine(s.key, name, t.lost!))),
  );
}

/** Every pod's per-protocol tallies, summed (for the TUI's empty list of a tap). */
export function protocolsOfPods(stats: readonly PodTapStats[]): ProtocolTallies {
  return stats.reduce((sum, s) => (s.protocols === undefined ? sum : sumTallies(sum, s.protocols)), emptyTallies());
}
