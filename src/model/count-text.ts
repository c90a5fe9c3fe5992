/**
 * The one way counts are shown to people in summaries and headers: digits grouped by thousands
 * with a comma (`1,204`), whatever the machine's locale, so logs and tests read the same everywhere.
 */
// Made on first use: a NumberFormat loads ICU's locale data (~5 MB of RSS), which the capture agent
// (it imports this module through descriptors) never needs unless it formats a count.
let grouped: Intl.NumberFormat | undefined;

export function formatCount(n: number): string {
  grouped ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return grouped.format(Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0);
}

/** "1 connection", "66 connections", "1,204 entries". */
export function countOf(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/**
 * What a filter did to the entries it was offered: "1,204 seen, 0 matched the filter", so that a
 * filter that matched nothing is not taken for a capture without traffic.
 */
export function formatFilterOutcome(seen: number, matched: number): string {
  return `${formatCount(seen)} seen, ${formatCount(matched)} matched the filter`;
}
