/**
 * The one way counts are shown to people in summaries and headers: digits grouped by thousands
 * with a comma (`1,204`), whatever the machine's locale, so logs and tests read the same everywhere.
 *
 * Grouped by hand, not with Intl.NumberFormat: creating one loads ICU's locale data, 35 ms of CPU
 * and ~8 MB of RSS (measured on Node 24), which every `read` paid for its one summary line (issue
 * 17: a fixed cost in each run of the offline paths) and the capture agent must never pay.
 */
export function formatCount(n: number): string {
  const whole = Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;
  // BigInt's digits, not String's: String(1e21) is "1e+21".
  const digits = BigInt(whole).toString();
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) {
    const start = Math.max(0, end - 3);
    out = start > 0 ? `,${digits.slice(start, end)}${out}` : `${digits.slice(start, end)}${out}`;
  }
  return out;
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
