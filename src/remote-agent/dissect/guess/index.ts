/**
 * Names traffic no dissector takes, by a cheap guess of its protocol: the sniffers in order
 * (strict ones first: a wrong name is worse than "unknown"), a per-connection guess over a short
 * prefix of each direction, and a per-datagram guess for UDP flows. Issue 12's protocol folders
 * take their sniffer from here along with its id.
 */
import type { SniffResult } from '../dissector.ts';
import { dnsDatagramSniffer, dnsStreamSniffer } from './dns.ts';
import { http2Sniffer } from './http2.ts';
import { postgresqlSniffer } from './postgresql.ts';
import { redisSniffer } from './redis.ts';
import type { ProtocolSniffer, SniffDirection } from './sniffer.ts';
import { tlsSniffer } from './tls.ts';

export type { ProtocolSniffer, SniffDirection } from './sniffer.ts';

/** The id of traffic no sniffer recognised. */
export const UNKNOWN_PROTOCOL = 'unknown';

/** Sniffers for TCP streams, strictest first. */
export const STREAM_SNIFFERS: readonly ProtocolSniffer[] = Object.freeze([tlsSniffer, http2Sniffer, postgresqlSniffer, redisSniffer, dnsStreamSniffer]);

/** Sniffers for UDP datagrams. */
export const DATAGRAM_SNIFFERS: readonly ProtocolSniffer[] = Object.freeze([dnsDatagramSniffer]);

/** Bytes per direction a stream guess looks at, at most: every sniffer decides well within it. */
export const GUESS_PREFIX_BYTES = 256;

/** The sniffers worth asking for a flow between these ports: those registered on one come first. */
export function sniffersFor(sniffers: readonly ProtocolSniffer[], ports: readonly number[]): ProtocolSniffer[] {
  const hinted = (s: ProtocolSniffer): boolean => s.ports.some((p) => ports.includes(p));
  return [...sniffers.filter(hinted), ...sniffers.filter((s) => !hinted(s) && s.needsPort !== true)];
}

/** The protocol of a UDP flow, from one of its datagrams (whole: there is no "more" to wait for). */
export function guessDatagram(payload: Uint8Array, direction: SniffDirection, ports: readonly number[], sniffers: readonly ProtocolSniffer[] = DATAGRAM_SNIFFERS): string {
  for (const s of sniffersFor(sniffers, ports)) if (safeSniff(s, payload, direction) === 'match') return s.id;
  return UNKNOWN_PROTOCOL;
}

const EMPTY = new Uint8Array(0);
const TO_SERVER = 0;
const TO_CLIENT = 1;

/**
 * The guess for one TCP connection, fed with the first bytes of each direction. Decided at the
 * first sniffer match, or "unknown" once every sniffer said no to both directions; memory is at
 * most GUESS_PREFIX_BYTES per direction, and nothing once decided.
 */
export class StreamGuess {
  readonly #sniffers: readonly ProtocolSniffer[];
  readonly #prefix: [Uint8Array, Uint8Array] = [EMPTY, EMPTY];
  /** Per direction: nothing more can come of sniffing it (all said no, or the prefix is full). */
  readonly #exhausted = [false, false];
  #result: string | null = null;

  constructor(ports: readonly number[], sniffers: readonly ProtocolSniffer[] = STREAM_SNIFFERS) {
    this.#sniffers = sniffersFor(sniffers, ports);
  }

  /** The protocol id once decided (UNKNOWN_PROTOCOL included), else null. */
  get result(): string | null {
    return this.#result;
  }

  /** The guess as it stands: the decided id, else UNKNOWN_PROTOCOL. */
  final(): string {
    return this.#result ?? UNKNOWN_PROTOCOL;
  }

  /** In-order bytes of one direction (copied as far as needed); returns `result`. */
  push(direction: SniffDirection, bytes: Uint8Array): string | null {
    const side = direction === 'to-server' ? TO_SERVER : TO_CLIENT;
    if (this.#result !== null || this.#exhausted[side] || bytes.length === 0) return this.#result;
    const before = this.#prefix[side];
    const take = Math.min(bytes.length, GUESS_PREFIX_BYTES - before.length);
    const prefix = new Uint8Array(before.length + take);
    prefix.set(before);
    prefix.set(bytes.subarray(0, take), before.length);
    let undecided = false;
    for (const s of this.#sniffers) {
      const r = safeSniff(s, prefix, direction);
      if (r === 'match') return this.#decide(s.id);
      if (r === 'more') undecided = true;
    }
    if (undecided && prefix.length < GUESS_PREFIX_BYTES) {
      this.#prefix[side] = prefix;
      return null;
    }
    this.#exhausted[side] = true;
    this.#prefix[side] = EMPTY;
    return this.#exhausted[TO_SERVER] && this.#exhausted[TO_CLIENT] ? this.#decide(UNKNOWN_PROTOCOL) : null;
  }

  /** Bytes of one direction were lost: what follows starts somewhere else, so sniffing restarts. */
  gap(direction: SniffDirection): void {
    this.#prefix[direction === 'to-server' ? TO_SERVER : TO_CLIENT] = EMPTY;
  }

  #decide(id: string): string {
    this.#result = id;
    this.#prefix[TO_SERVER] = EMPTY;
    this.#prefix[TO_CLIENT] = EMPTY;
    return id;
  }
}

/**
 * A sniffer must not throw (contract): one that does is a bug, so it is not hidden as "no" here but
 * surfaces where the stage catches bugs (the TCP connection or the UDP flow table's caller) and is
 * counted as an internal error there (src/remote-agent/thrown-errors.ts).
 */
function safeSniff(s: ProtocolSniffer, prefix: Uint8Array, direction: SniffDirection): SniffResult {
  return s.sniff(prefix, direction);
}
