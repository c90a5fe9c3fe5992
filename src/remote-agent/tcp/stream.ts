/**
 * The contract between TCP reassembly and whatever consumes reassembled bytes (dissectors).
 * Shaped after gopacket's reassembly StreamFactory/Stream: reassembly never imports a dissector.
 */

/** 0: from side `a` to side `b`; 1: from `b` to `a`. */
export type Direction = 0 | 1;

export interface SocketAddress {
  readonly ip: string;
  readonly port: number;
}

export interface ConnectionInfo {
  /** Counter in order of first packet seen: deterministic for a given capture. */
  readonly index: number;
  /**
   * Put before `index` where entries are named (connectionLabel): connections of another source
   * are numbered apart from reassembly's ("t" for plaintext from the TLS probes), so their entry
   * ids never collide. Absent for reassembled connections.
   */
  readonly labelPrefix?: string;
  /** The side that sent the SYN when it was seen; else the assembler's best guess of the client. */
  readonly a: SocketAddress;
  readonly b: SocketAddress;
  /** True when `a` is known to be the client (its SYN was captured). */
  readonly aIsClientKnown: boolean;
  readonly firstSeenUs: number;
  /**
   * The TCP sequence number of byte `offset` of direction `dir`, where offsets count the bytes of
   * that direction's stream from 0: delivered (`data`) and lost (`gap`) alike. Both ends of a
   * connection see the same number for the same byte, however late their captures joined it, so it
   * names a message across captures. Undefined before the direction has started. Optional: a
   * stream that does not come from TCP reassembly has none.
   */
  readonly sequenceAt?: (dir: Direction, offset: number) => number | undefined;
}

/** How entry ids name the connection: `<label>-<n>` (EntryEnvelope.id). */
export function connectionLabel(conn: ConnectionInfo): string {
  return conn.labelPrefix === undefined ? String(conn.index) : `${conn.labelPrefix}${conn.index}`;
}

/** `dropped`: the handler threw (a protocol violation or a bug); the rest of the connection is ignored. */
export type CloseReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'end-of-capture' | 'dropped';

/**
 * A handler may throw ProtocolViolation (../thrown-errors.ts) on bytes that break its protocol;
 * anything else it throws is counted as a bug. Either way the connection is closed ('dropped') and
 * its further bytes are ignored.
 */
export interface StreamHandler {
  /** In-order bytes of one direction. The view is only valid during the call: copy what you keep. */
  data(dir: Direction, bytes: Uint8Array, tsUs: number): void;
  /**
   * `lostBytes` bytes of direction `dir` will never arrive (lost segment, memory cap). The next
   * `data` call for `dir` continues after the hole; a parser must resynchronise, never stitch.
   */
  gap(dir: Direction, lostBytes: number, tsUs: number): void;
  /** The sender of `dir` finished (FIN reached in sequence order). */
  end(dir: Direction, tsUs: number): void;
  /** The connection is over; called exactly once, after which no other call comes. */
  close(reason: CloseReason, tsUs: number): void;
}

export interface StreamFactory {
  open(conn: ConnectionInfo): StreamHandler;
}
