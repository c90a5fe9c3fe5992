/**
 * Printable IP addresses, built straight from packet bytes. This runs for every packet, so IPv4
 * strings are cached per formatter (a capture talks to few hosts) and IPv6 is formatted without
 * intermediate arrays of strings.
 */

/** Dotted quad of the 4 bytes at `off` (no bounds check: the caller validated the header). */
export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * RFC 5952 text of the 16 bytes at `off`: lowercase hex, no leading zeros (4.1), `::` replaces the
 * longest run of two or more zero groups, the first one on a tie (4.2.1-4.2.3), and IPv4-mapped
 * addresses in mixed notation `::ffff:192.0.2.1` (5).
 */
export function formatIPv6(b: Uint8Array, off: number): string {
  // Longest run of zero groups, found without materialising the groups.
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g < 8; g++) {
    const i = off + g * 2;
    if (b[i] === 0 && b[i + 1] === 0) {
      if (runStart < 0) runStart = g;
      const len = g - runStart + 1;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;

  // ::ffff:a.b.c.d (RFC 5952 section 5; also what tshark prints).
  if (bestStart === 0 && bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }

  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    const i = off + g * 2;
    s += ((b[i] << 8) | b[i + 1]).toString(16);
    if (g < 7) s += ':';
  }
  return s;
}

/** Most distinct IPv4 addresses cached before the cache is cleared (bounds memory on scans). */
const IPV4_CACHE_LIMIT = 4096;

/** Per-decoder formatter: caches IPv4 strings keyed by the 32-bit address. */
export class AddressFormatter {
  readonly #v4 = new Map<number, string>();

  ipv4(b: Uint8Array, off: number): string {
    const key = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    let s = this.#v4.get(key);
    if (s === undefined) {
      if (this.#v4.size >= IPV4_CACHE_LIMIT) this.#v4.clear();
      s = formatIPv4(b, off);
      this.#v4.set(key, s);
    }
    return s;
  }

  ipv6(b: Uint8Array, off: number): string {
    return formatIPv6(b, off);
  }
}
