/**
 * Per-protocol counters of dissected traffic, keyed by the entries' `protocol.name`: entries
 * emitted, and violations (messages that broke the protocol's grammar, connections a dissector of
 * the protocol gave up). They travel in the agent's stats frames (docs/agent-protocol.md), so they
 * are also checked here when they come back from a pod.
 */
import { countOf } from './count-text.ts';

export interface ProtocolTally {
  entries: number;
  violations: number;
  /**
   * Exchanges seen but not emitted because they could not be read without guessing: HTTP/2
   * streams whose request headers were not captured or could not be decoded (a capture that joined
   * a connection midway has no HPACK table). Absent when none.
   */
  lost?: number;
}

/** A null-prototype record: names never reach Object.prototype. */
export type ProtocolTallies = Record<string, ProtocolTally>;

/** What a name from a pod may look like (a lower-case word): anything else is ignored, never shown. */
const PROTOCOL_NAME = /^[a-z][a-z0-9./+-]{0,23}$/;

export function emptyTallies(): ProtocolTallies {
  return Object.create(null) as ProtocolTallies;
}

/** The tally of `name`, made on first use. */
export function tallyOf(tallies: ProtocolTallies, name: string): ProtocolTally {
  let tally = tallies[name];
  if (tally === undefined) tallies[name] = tally = { entries: 0, violations: 0 };
  return tally;
}

/** `a + b` (the runs of one agent, or every pod of a tap). */
export function sumTallies(a: ProtocolTallies, b: ProtocolTallies): ProtocolTallies {
  const sum = emptyTallies();
  for (const side of [a, b]) {
    for (const [name, t] of Object.entries(side)) {
      const into = tallyOf(sum, name);
      into.entries += t.entries;
      into.violations += t.violations;
      if (t.lost !== undefined && t.lost > 0) into.lost = (into.lost ?? 0) + t.lost;
    }
  }
  return sum;
}

/**
 * The `protocols` field of a stats frame as it came from a pod: names that do not look like names
 * and counts that are not whole numbers are left out. Undefined when the field is absent or not an
 * object (an agent from before the field existed).
 */
export function talliesFrom(value: unknown): ProtocolTallies | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out = emptyTallies();
  for (const [name, t] of Object.entries(value)) {
    if (!PROTOCOL_NAME.test(name) || typeof t !== 'object' || t === null) continue;
    const { entries, violations, lost } = t as Record<string, unknown>;
    const tally: ProtocolTally = { entries: wholeOrZero(entries), violations: wholeOrZero(violations) };
    if (wholeOrZero(lost) > 0) tally.lost = wholeOrZero(lost);
    if (tally.entries + tally.violations + (tally.lost ?? 0) > 0) out[name] = tally;
  }
  return out;
}

function wholeOrZero(n: unknown): number {
  return Number.isSafeInteger(n) && (n as number) > 0 ? (n as number) : 0;
}

/**
 * True when a split by protocol says more than the totals: more than one protocol was seen, or one
 * met violations or lost exchanges (for one clean protocol, the totals already say it all).
 */
export function talliesWorthShowing(tallies: ProtocolTallies): boolean {
  const seen = Object.values(tallies).filter((t) => t.entries + t.violations + (t.lost ?? 0) > 0);
  return seen.length > 1 || seen.some((t) => t.violations > 0 || (t.lost ?? 0) > 0);
}

/** How a protocol's lost tally counts, for people (its descriptor's `lost`: `HTTP/2 stream(s)`). */
export interface LostUnits {
  readonly one: string;
  readonly many: string;
}

/**
 * "HTTP 120 entries (2 HTTP/2 streams lost: not captured whole), DNS 40 entries and 3 violations",
 * protocols by entries (most first, then by name); `labelOf` names a protocol for people (its
 * descriptor's abbreviation), `lostUnitsOf` what its lost tally counts ("exchanges" when it says nothing).
 */
export function formatTallies(tallies: ProtocolTallies, labelOf: (name: string) => string, lostUnitsOf?: (name: string) => LostUnits | undefined): string {
  return Object.entries(tallies)
    .filter(([, t]) => t.entries + t.violations + (t.lost ?? 0) > 0)
    .sort(([a, x], [b, y]) => y.entries - x.entries || (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, t]) => {
      const label = PROTOCOL_NAME.test(name) ? labelOf(name) : 'unknown';
      const violations = t.violations > 0 ? ` and ${countOf(t.violations, 'violation', 'violations')}` : '';
      const units = (PROTOCOL_NAME.test(name) ? lostUnitsOf?.(name) : undefined) ?? { one: 'exchange', many: 'exchanges' };
      const lost = (t.lost ?? 0) > 0 ? ` (${countOf(t.lost!, units.one, units.many)} lost: not captured whole)` : '';
      return `${label} ${countOf(t.entries, 'entry', 'entries')}${violations}${lost}`;
    })
    .join(', ');
}
