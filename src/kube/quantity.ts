/**
 * Kubernetes resource quantities ("128Mi", "1G", "0.5Gi", "1e9", "129e6", "100m") as numbers, for
 * the memory of pod specs and of the metrics API. client-node's quantityToScalar rejects fractions
 * with a suffix ("1.5Gi") and exponents, both of which the API server accepts.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value (bytes for memory), or null when it is not a quantity. */
export function parseQuantity(text: string): number | null {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(text.trim());
  if (!m) return null;
  const number = Number(m[1]);
  if (m[2] !== undefined) return Number(`${m[1]}${m[2]}`);
  const suffix = m[3] ?? '';
  const factor = BINARY[suffix] ?? DECIMAL[suffix]!;
  return number * factor;
}

/** Bytes of a memory quantity, rounded up to a whole byte as the API server does; null when not one. */
export function parseMemoryQuantity(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = parseQuantity(text);
  if (n === null || !Number.isFinite(n) || n < 0) return null;
  return Math.ceil(n);
}

/** 268435456 -> "256 MiB", 1.5 GiB -> "1.5 GiB": for messages. */
export function formatMemory(bytes: number): string {
  const MiB = 2 ** 20;
  if (bytes >= 2 ** 30) return `${trim(bytes / 2 ** 30)} GiB`;
  return `${trim(bytes / MiB)} MiB`;
}

function trim(n: number): string {
  return n >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1).replace(/\.0$/, '');
}
