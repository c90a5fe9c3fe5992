/**
 * IP fragment reassembly (RFC 791 section 3.2 for IPv4, RFC 8200 section 4.5 for IPv6).
 *
 * Datagrams are keyed by the caller ((src, dst, id, protocol) for IPv4; (src, dst, id) for IPv6).
 * Overlapping bytes: the first fragment that carried them wins (RFC 8200 says to drop overlapping
 * datagrams entirely; Wireshark and most stacks keep the first copy, which keeps more data).
 * Memory is bounded by `maxBytes` (oldest datagrams go first) and time by `timeoutUs` measured in
 * capture time, not wall time, so replaying a file gives the same result at any speed.
 * Every fragment thrown away is counted in `stats.fragmentsDropped`.
 */
import type { CaptureStats } from '../stats.ts';

/** Largest reassembled payload: the IP length fields are 16 bits. */
const MAX_DATAGRAM = 65535;

interface Piece {
  readonly offset: number;
  readonly data: Uint8Array;
}

interface PendingDatagram {
  readonly firstTsUs: number;
  readonly pieces: Piece[];
  /** Payload length, known once the fragment with More Fragments = 0 arrived; -1 before. */
  total: number;
  /** Caller's tag (the next protocol) as carried by the fragment at offset 0; -1 before it came. */
  tag: number;
  bytes: number;
}

export class FragmentReassembler {
  readonly #stats: CaptureStats;
  readonly #maxBytes: number;
  readonly #timeoutUs: number;
  /** Insertion order is arrival order of each datagram's first fragment: oldest first. */
  readonly #pending = new Map<string, PendingDatagram>();
  #heldBytes = 0;
  #completedTag = -1;

  constructor(stats: CaptureStats, maxBytes: number, timeoutUs: number) {
    this.#stats = stats;
    this.#maxBytes = maxBytes;
    this.#timeoutUs = timeoutUs;
  }

  /** Capture time at which the oldest pending datagram expires; Infinity when none is pending. */
  get nextExpiryUs(): number {
    for (const d of this.#pending.values()) return d.firstTsUs + this.#timeoutUs;
    return Infinity;
  }

  /**
   * Tag of the first fragment of the datagram that `add` just completed. IPv6 names the upper
   * protocol in every fragment's header, and RFC 8200 4.5 says the first fragment's is the one.
   */
  get completedTag(): number {
    return this.#completedTag;
  }

  /** Bytes of fragment data currently held. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Datagrams waiting for more fragments. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Adds one fragment (`data` is copied if kept). Returns the whole payload once every byte from 0
   * to the end announced by the last fragment is present, else null.
   */
  add(key: string, tsUs: number, offset: number, more: boolean, data: Uint8Array, tag: number): Uint8Array | null {
    const end = offset + data.length;
    if (end > MAX_DATAGRAM || (more && data.length === 0)) {
      // Past the 16-bit length (the "ping of death" shape) or an empty middle fragment: nonsense.
      this.#stats.malformed++;
      return null;
    }
    if (tsUs >= this.nextExpiryUs) this.expire(tsUs);

    let d = this.#pending.get(key);
    if (d === undefined || !coveredBy(d.pieces, offset, end)) {
      if (data.length > this.#maxBytes) {
        this.#stats.fragmentsDropped++;
        return null;
      }
      // May evict this very datagram when it alone fills the budget; it then starts over.
      this.#makeRoom(data.length);
      d = this.#pending.get(key);
      if (d === undefined) {
        d = { firstTsUs: tsUs, pieces: [], total: -1, tag: -1, bytes: 0 };
        this.#pending.set(key, d);
      }
      d.pieces.push({ offset, data: data.slice() });
      d.bytes += data.length;
      this.#heldBytes += data.length;
    }
    // The first last-fragment fixes the length; a conflicting later one is ignored (first wins).
    if (!more && d.total < 0) d.total = end;
    if (offset === 0 && d.tag < 0) d.tag = tag;

    if (d.total < 0 || !complete(d.pieces, d.total)) return null;
    this.#pending.delete(key);
    this.#heldBytes -= d.bytes;
    this.#completedTag = d.tag;
    return assemble(d.pieces, d.total);
  }

  /** Drops datagrams whose first fragment is older than the timeout at capture time `nowUs`. */
  expire(nowUs: number): void {
    for (const [key, d] of this.#pending) {
      if (d.firstTsUs + this.#timeoutUs > nowUs) break;
      this.#drop(key, d);
    }
  }

  /** Drops everything still pending (end of capture): those datagrams never completed. */
  flush(): void {
    for (const [key, d] of this.#pending) this.#drop(key, d);
  }

  #makeRoom(needed: number): void {
    for (const [key, d] of this.#pending) {
      if (this.#heldBytes + needed <= this.#maxBytes) return;
      this.#drop(key, d);
    }
  }

  #drop(key: string, d: PendingDatagram): void {
    this.#pending.delete(key);
    this.#heldBytes -= d.bytes;
    this.#stats.fragmentsDropped += d.pieces.length;
  }
}

/** True when [start, end) lies inside one piece already held (a retransmitted fragment). */
function coveredBy(pieces: readonly Piece[], start: number, end: number): boolean {
  for (const p of pieces) {
    if (p.offset <= start && p.offset + p.data.length >= end) return true;
  }
  return false;
}

function complete(pieces: readonly Piece[], total: number): boolean {
  const sorted = pieces.length > 1 ? [...pieces].sort((x, y) => x.offset - y.offset) : pieces;
  let covered = 0;
  for (const p of sorted) {
    if (p.offset > covered) return false;
    const e = p.offset + p.data.length;
    if (e > covered) covered = e;
    if (covered >= total) return true;
  }
  return covered >= total;
}

function assemble(pieces: readonly Piece[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  // Later arrivals first, so that earlier ones overwrite them: the first copy of a byte wins.
  for (let i = pieces.length - 1; i >= 0; i--) {
    const p = pieces[i];
    if (p.offset >= total) continue;
    const n = Math.min(p.data.length, total - p.offset);
    out.set(n === p.data.length ? p.data : p.data.subarray(0, n), p.offset);
  }
  return out;
}
