/**
 * Traffic a capture saw but no dissector turned into entries, counted by a cheap guess of its
 * protocol (src/remote-agent/dissect/guess/), so a capture of TLS, HTTP/2 or DNS says so instead of
 * looking empty. The counts travel in the agent's stats frames (docs/agent-protocol.md), so they
 * are also checked here when they come back from a pod.
 */
import { countOf } from './count-text.ts';

/** Counts keyed by guessed protocol id ("tls", "http2", "redis", "postgresql", "dns", "unknown"). */
export type ProtocolCounts = Record<string, number>;

export interface UndissectedCounts {
  /** TCP connections that carried bytes no dissector took. */
  readonly connections: ProtocolCounts;
  /** UDP datagrams, by the guess made for their flow. */
  readonly datagrams: ProtocolCounts;
  /** UDP flows (one per address and port pair, both directions), each counted once. */
  readonly udpFlows: ProtocolCounts;
}

/** How protocol ids (guessers', dissectors') read in summaries; an id not listed here is shown as it is. */
const PROTOCOL_LABELS: Readonly<Record<string, string>> = Object.freeze({
  http: 'HTTP',
  tls: 'TLS',
  http2: 'HTTP/2',
  redis: 'Redis',
  postgresql: 'PostgreSQL',
  dns: 'DNS',
  unknown: 'unknown',
});

/** What an id from a pod may look like (lower-case words): anything else is ignored, never shown. */
const PROTOCOL_ID = /^[a-z][a-z0-9./+-]{0,23}$/;

export function emptyUndissected(): UndissectedCounts {
  return { connections: counts(), datagrams: counts(), udpFlows: counts() };
}

/** Adds one to `id` in `into` (a null-prototype record: ids never reach Object.prototype). */
export function countProtocol(into: ProtocolCounts, id: string, n = 1): void {
  into[id] = (into[id] ?? 0) + n;
}

export function hasUndissected(c: UndissectedCounts): boolean {
  return total(c.connections) + total(c.datagrams) > 0;
}

/** `a + b` (e.g. every pod of a tap, or the runs of one agent). */
export function sumUndissected(a: UndissectedCounts, b: UndissectedCounts): UndissectedCounts {
  const sum = emptyUndissected();
  for (const part of ['connections', 'datagrams', 'udpFlows'] as const) {
    for (const side of [a, b]) for (const [id, n] of Object.entries(side[part])) countProtocol(sum[part], id, n);
  }
  return sum;
}

/**
 * The `undissected` field of a stats frame as it came from a pod: ids that do not look like ids
 * and counts that are not whole numbers are left out. Undefined when the field is absent or not
 * an object (an agent from before the field existed).
 */
export function undissectedFrom(value: unknown): UndissectedCounts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const out = emptyUndissected();
  for (const part of ['connections', 'datagrams', 'udpFlows'] as const) {
    const field = (value as Record<string, unknown>)[part];
    if (typeof field !== 'object' || field === null || Array.isArray(field)) continue;
    for (const [id, n] of Object.entries(field)) {
      if (PROTOCOL_ID.test(id) && Number.isSafeInteger(n) && (n as number) > 0) countProtocol(out[part], id, n as number);
    }
  }
  return out;
}

/**
 * "66 TLS connections, 2 HTTP/2 connections, 4 DNS datagrams": connections, then datagrams, each
 * by count (largest first, then by id); "" when there is nothing to say.
 */
export function formatUndissected(c: UndissectedCounts): string {
  return [...phrases(c.connections, 'connection', 'connections'), ...phrases(c.datagrams, 'datagram', 'datagrams')].join(', ');
}

function phrases(byId: ProtocolCounts, one: string, many: string): string[] {
  return Object.entries(byId)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, n]) => countOf(n, `${labelOf(id)} ${one}`, `${labelOf(id)} ${many}`));
}

/** How a protocol id reads in summaries ("http2" -> "HTTP/2"); an id that does not look like one reads "unknown". */
export function labelOf(id: string): string {
  return PROTOCOL_LABELS[id] ?? (PROTOCOL_ID.test(id) ? id : 'unknown');
}

function counts(): ProtocolCounts {
  return Object.create(null) as ProtocolCounts;
}

function total(byId: ProtocolCounts): number {
  let n = 0;
  for (const v of Object.values(byId)) n += v;
  return n;
}
