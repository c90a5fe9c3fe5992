/**
 * The contract between the transport stages and protocol dissectors. A stream dissector turns the
 * two byte streams of one TCP connection into entries; a datagram dissector turns the datagrams of
 * one UDP flow (udp/flow-table.ts) into entries.
 */
import { DEFAULT_MAX_BODY_BYTES } from '../../model/body-limit.ts';
import type { Entry } from '../../model/entry.ts';
import { countViolation } from './protocol-counters.ts';
import type { CaptureStats } from '../stats.ts';
import type { ConnectionInfo, Direction, SocketAddress, StreamHandler } from '../tcp/stream.ts';
import type { SniffDirection } from './guess/sniffer.ts';

export interface DissectOptions {
  /** Body bytes kept per message (after content decoding); sizes still count the whole body. */
  readonly maxBodyBytes: number;
  /**
   * Pending requests of a connection older than this (capture time) without a response are emitted
   * with `response: null` and a timeout error.
   */
  readonly responseTimeoutUs: number;
  /**
   * Message schemas the user gave (`--proto-descriptor`), loaded before the capture starts: a
   * protocol that carries protobuf messages looks its messages' types up here. Absent: messages
   * are decoded from the wire format alone.
   */
  readonly protobufSchema?: ProtobufSchema;
}

/** Protobuf message types by name, and the RPC methods that use them (a FileDescriptorSet, loaded). */
export interface ProtobufSchema {
  /** The request and response message types of RPC `service`/`method`, or null when the schema has no such method. */
  rpcTypes(service: string, method: string): { readonly input: string; readonly output: string } | null;
  /** `bytes` as message `typeName` in protobuf's canonical JSON mapping; throws when they do not parse as one. */
  toJson(typeName: string, bytes: Uint8Array): unknown;
}

export const DEFAULT_DISSECT_OPTIONS: DissectOptions = Object.freeze({
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  responseTimeoutUs: 120_000_000,
});

/** What a dissector knows of an entry beyond the entry itself (never part of the entry users see). */
export interface EntryMeta {
  /**
   * The TCP sequence number of the request's first byte (client to server), from
   * ConnectionInfo.sequenceAt: the same in a capture at either end of the connection, so the
   * two sightings of one call can be told to be one (see pipeline/tap-merge.ts).
   */
  readonly requestSeq?: number;
}

/** What every dissector of a capture shares: given to the registry. */
export interface SharedDissectContext {
  readonly options: DissectOptions;
  readonly stats: CaptureStats;
  emit(entry: Entry, meta: EntryMeta): void;
  /**
   * Hands the rest of a connection to the dissector registered for `handOff.to` (see HandOff).
   * Returns its stream, which the caller then feeds with both directions' bytes from the offsets
   * named (and ends and closes with the connection), or null when no dissector takes that name:
   * then the caller goes on as it would without a hand-off. Absent where nothing can be handed to.
   */
  handOff?(conn: ConnectionInfo, handOff: HandOff): DissectorStream | null;
  /**
   * A connection no stream dissector took, named by the guess of its protocol (once per connection).
   * Absent: counted in `stats.undissected.connections`. The capture pipeline passes its own when
   * another source shows some connections' content (TLS plaintext from the probes), so that such a
   * connection is not also counted as undissected TLS (tls/plaintext-claims.ts).
   */
  undissected?(conn: ConnectionInfo, protocol: string): void;
}

/**
 * What a dissector passes on when the connection switches protocol midway: after an HTTP/1
 * `101 Switching Protocols` (WebSocket, h2c), or a STARTTLS-like command. Both directions continue
 * in the new protocol from exact stream offsets; the new dissector never sees the bytes before.
 */
export interface HandOff {
  /** The name the switch goes by: the HTTP Upgrade token (`websocket`, `h2c`), `starttls`... */
  readonly to: string;
  /** Id of the entry that negotiated the switch (the upgrade request's entry). */
  readonly parentId: string;
  /** Entries of the new dissector continue the connection's numbering: `<connection>-<n>` from here. */
  readonly nextOrdinal: number;
  /** The direction that carries the client's bytes. */
  readonly clientDir: Direction;
  /** Per direction: the stream offset (bytes delivered or lost so far) where the new protocol starts. */
  readonly offsets: readonly [number, number];
  /** What the switch negotiated, as the new protocol needs it: lower-case header or parameter name -> value. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * The exchange that made the switch, for a protocol that goes on answering it; opaque here, its
   * shape is the handing dissector's (HTTP/1: http1/upgrade-opening.ts, which HTTP/2 reads for h2c,
   * whose stream 1 answers the upgrade request). Takers that do not know it ignore it.
   */
  readonly opening?: unknown;
}

/** What one dissector is given: the shared context, and counters kept under its protocol. */
export interface DissectContext extends SharedDissectContext {
  /**
   * A message broke the protocol's grammar and the parser resynchronised after it (bad input, not
   * a bug): counted in `stats.dissectionErrors` and under this dissector's protocol.
   */
  violation(): void;
}

/** The context of the dissectors of one protocol (the registry makes one per dissector). */
export function dissectContextFor(shared: SharedDissectContext, protocol: string): DissectContext {
  const stats = shared.stats;
  return {
    options: shared.options,
    stats,
    emit: (entry, meta) => shared.emit(entry, meta),
    // A dissector that sees its connection turn into TLS (MySQL's SSLRequest) counts the rest here.
    ...(shared.undissected !== undefined ? { undissected: shared.undissected } : {}),
    violation: () => {
      stats.dissectionErrors++;
      countViolation(stats, protocol);
    },
  };
}

/** A StreamHandler that also tells the orderer how far back its unfinished entries start. */
export interface DissectorStream extends StreamHandler {
  /** Capture time (µs) of the oldest request not yet emitted; Infinity when none is pending. */
  oldestPendingUs(): number;
}

export type SniffResult = 'match' | 'no' | 'more';

export interface Dissector {
  readonly id: string;
  /** `protocol.name` of the entries it emits: its descriptor's name (dissect/descriptors.ts). */
  readonly protocol: string;
  /** Port hints only; detection is by content. */
  readonly ports: readonly number[];
  /**
   * Looks at the first bytes of one direction. Pure, never throws, reads a bounded prefix.
   * 'more' means the prefix is too short to decide. `direction` is relative to the side taken
   * for the client (known when the SYN was captured, else the assembler's best guess).
   */
  sniff(prefix: Uint8Array, direction: SniffDirection): SniffResult;
  /**
   * For protocols whose opening alone is ambiguous (RESP, PostgreSQL, ...; Zeek's
   * requires-reverse-signature): after `sniff` matched one direction, the first bytes of the other
   * direction (`direction` is theirs) must confirm before the connection is pinned. Until then it
   * stays undecided (buffered, bounded); 'no', or 'more' past SNIFF_PREFIX_BYTES, refuses the
   * dissector for this connection and the registry moves on to the next one or to the guess.
   * Same rules as `sniff`: pure, never throws, bounded prefix.
   */
  confirmReply?(prefix: Uint8Array, direction: SniffDirection): SniffResult;
  open(conn: ConnectionInfo, ctx: DissectContext): DissectorStream;
  /** The HandOff names (`to`) this dissector continues connections under, e.g. `websocket`. */
  readonly handOffs?: readonly string[];
  /** Continues a connection another dissector started (see DissectContext.handOff). */
  takeOver?(conn: ConnectionInfo, ctx: DissectContext, handOff: HandOff): DissectorStream;
}

/** One UDP flow as a datagram dissector sees it (udp/flow-table.ts keys flows by their 5-tuple). */
export interface DatagramFlowInfo {
  /** Counter in order of first datagram seen: deterministic for a given capture. */
  readonly index: number;
  /** The sender of the flow's first datagram (a client, unless the capture joined mid-exchange). */
  readonly a: SocketAddress;
  readonly b: SocketAddress;
  readonly firstSeenUs: number;
}

/** Why a flow's handler is closed: idle past the flow timeout, evicted by the flow cap, or the end. */
export type FlowCloseReason = 'idle' | 'evicted' | 'end-of-capture' | 'dropped';

/**
 * The datagrams of one flow. May throw ProtocolViolation (bad input) like a stream handler; the
 * flow's further datagrams are then ignored.
 */
export interface DatagramFlowHandler {
  /** One whole datagram; `dir` 0 is from `a`, 1 from `b`. The view is only valid during the call. */
  datagram(dir: Direction, payload: Uint8Array, tsUs: number): void;
  /** The flow is forgotten; called exactly once, after which no other call comes. */
  close(reason: FlowCloseReason, tsUs: number): void;
  /** Capture time (µs) of the oldest request not yet emitted; Infinity when none is pending. */
  oldestPendingUs(): number;
}

export interface DatagramDissector {
  readonly id: string;
  /** `protocol.name` of the entries it emits: its descriptor's name (dissect/descriptors.ts). */
  readonly protocol: string;
  /** Port hints only: dissectors on one of the flow's ports are asked first. */
  readonly ports: readonly number[];
  /**
   * Looks at the flow's first datagram (whole: there is no "more"). Pure, never throws; strict,
   * because a flow it takes is never counted as undissected.
   */
  sniff(payload: Uint8Array, direction: SniffDirection): 'match' | 'no';
  open(flow: DatagramFlowInfo, ctx: DissectContext): DatagramFlowHandler;
}
