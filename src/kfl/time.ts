/**
 * Time literals, all in Unix milliseconds (the unit of the entry's `timestamp`):
 * - datetime(): ISO 8601, or Kubeshark v1's `"1/2/2006, 3:04:05.000 PM"` (UI local time, as the
 *   Kubeshark UI used; the `.000` part is optional because the docs print it without).
 *   An ISO date alone is UTC midnight; an ISO date-time without zone is local time (ECMAScript's rule).
 * - timestamp(): RFC 3339 (date, time and zone required), as in CEL.
 * - duration(): Go syntax (`300ms`, `1h30m`, `-1.5h`; units ns, us/µs, ms, s, m, h).
 * Each returns undefined when the text does not fit, so the caller can say what was expected.
 */

const US_FORM = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*([AaPp][Mm])\s*$/;
const ISO_FORM = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?\s*$/;

interface Parts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second as milliseconds (may carry sub-millisecond digits). */
  millis: number;
  /** Minutes east of UTC; undefined = local time. */
  offset: number | undefined;
}

function fractionMillis(digits: string | undefined): number {
  return digits ? Number(`0.${digits}`) * 1000 : 0;
}

function toMillis(p: Parts): number | undefined {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.hour > 23 || p.minute > 59 || p.second > 60) return undefined;
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day));
  if (date.getUTCDate() !== p.day) return undefined; // 2/30 and friends
  const wholeMs = Math.floor(p.millis);
  const base =
    p.offset === undefined
      ? new Date(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, wholeMs).getTime()
      : Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, wholeMs) - p.offset * 60_000;
  return Number.isFinite(base) ? base + (p.millis - wholeMs) : undefined;
}

function parseOffset(zone: string | undefined): number | undefined {
  if (zone === undefined) return undefined;
  if (zone === 'Z' || zone === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

function parseIso(text: string, requireTimeAndZone: boolean): number | undefined {
  const m = ISO_FORM.exec(text);
  if (!m) return undefined;
  const hasTime = m[4] !== undefined;
  if (requireTimeAndZone && (!hasTime || m[8] === undefined || m[6] === undefined)) return undefined;
  return toMillis({
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    millis: fractionMillis(m[7]),
    offset: hasTime ? parseOffset(m[8]) : 0,
  });
}

export function parseDatetime(text: string): number | undefined {
  const us = US_FORM.exec(text);
  if (!us) return parseIso(text, false);
  const hour12 = Number(us[4]);
  if (hour12 < 1 || hour12 > 12) return undefined;
  const pm = us[8]!.toUpperCase() === 'PM';
  return toMillis({
    year: Number(us[3]),
    month: Number(us[1]),
    day: Number(us[2]),
    hour: (hour12 % 12) + (pm ? 12 : 0),
    minute: Number(us[5]),
    second: Number(us[6]),
    millis: fractionMillis(us[7]),
    offset: undefined,
  });
}

export function parseTimestamp(text: string): number | undefined {
  return parseIso(text, true);
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return sign * total;
}

/** seconds(n) ... years(n): the unit in ms (months are 30 days and years 365, as in Kubeshark v1). */
export const RELATIVE_UNITS_MS: Readonly<Record<string, number>> = {
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
  months: 30 * 86_400_000,
  years: 365 * 86_400_000,
};
