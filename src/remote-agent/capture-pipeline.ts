/**
 * Wires the in-pod stages for one capture: frames -> link/IP decoding -> TCP reassembly ->
 * dissectors -> entries, and UDP datagrams -> flows -> datagram dissectors -> entries; a flow no
 * datagram dissector takes is counted by the guess of its protocol. The same pipeline serves a
 * capture file (`kubectl shark read`) and the live AF_PACKET source of the agent. It only knows
 * stage interfaces, not their internals.
 *
 * With `tls` (the agent's --tls), a second entry point takes TLS plaintext from the probes
 * (tlsEvents): plaintext streams -> a registry of its own over the same dissectors -> entries with
 * `tls: true` and ids `t<n>-<m>`, apart from packet connections' `<n>-<m>`. A connection whose
 * plaintext the probes deliver is not also counted by packet capture as undissected TLS
 * (tls/plaintext-claims.ts).
 */
import type { Entry } from '../model/entry.ts';
import {
  DEFAULT_DISSECT_OPTIONS,
  type DatagramDissector,
  type DatagramFlowHandler,
  dissectContextFor,
  type SharedDissectContext,
  type DissectOptions,
  type Dissector,
  type EntryMeta,
  type FlowCloseReason,
} from './dissect/dissector.ts';
import { dnsDatagramDissector } from './dissect/dns/index.ts';
import { guessDatagram, UNKNOWN_PROTOCOL, type ProtocolSniffer } from './dissect/guess/index.ts';
import { DissectorRegistry } from './dissect/registry.ts';
import { countProtocol } from '../model/undissected.ts';
import { PacketDecoder } from './ip/packet-decoder.ts';
import type { TcpSegment, UdpDatagram } from './ip/packet.ts';
import type { CaptureSink, Frame, NameRecord } from './source/frame.ts';
import { countEntry, type CaptureStats } from './stats.ts';
import { countThrown, InternalErrors, ProtocolViolation } from './thrown-errors.ts';
import { countViolation } from './dissect/protocol-counters.ts';
import { TcpAssembler, type TcpLimits } from './tcp/assembler.ts';
import type { TlsEvent } from './tls/events.ts';
import { PlaintextClaims } from './tls/plaintext-claims.ts';
import { PlaintextStreams, type PlaintextLimits } from './tls/plaintext-streams.ts';
import type { SocketLookup } from './tls/proc-sockets.ts';
import { UdpFlowTable, type UdpFlowLimits } from './udp/flow-table.ts';
import type { ConnectionInfo } from './tcp/stream.ts';

export interface CapturePipelineOptions {
  readonly dissect?: Partial<DissectOptions>;
  readonly tcp?: Partial<TcpLimits>;
  readonly udp?: Partial<UdpFlowLimits>;
  /** The dissectors to choose from (default: every registered one). */
  readonly dissectors?: readonly Dissector[];
  /** The datagram dissectors to choose from for UDP flows (default: every registered one). */
  readonly datagramDissectors?: readonly DatagramDissector[];
  /** The sniffers that name UDP flows no datagram dissector takes (default: every registered one). */
  readonly datagramSniffers?: readonly ProtocolSniffer[];
  /** Where bugs surfacing in reassembly or a dissector are reported (default: only counted). */
  readonly internalErrors?: InternalErrors;
  /** TLS plaintext from the probes comes too (tlsEvents). */
  readonly tls?: TlsPlaintextOptions;
}

export interface TlsPlaintextOptions {
  /** Where the sockets of hooked processes are looked up (tls/proc-sockets.ts ProcSocketLookup). */
  readonly sockets: SocketLookup;
  readonly limits?: Partial<PlaintextLimits>;
}

export interface CapturePipelineEvents {
  /** `meta`: what the dissector knows beyond the entry (the agent puts it on the entry frame). */
  entry(entry: Entry, meta: EntryMeta): void;
  names?(record: NameRecord): void;
}

/** Datagram dissectors asked for a UDP flow when the caller names none. */
export const DEFAULT_DATAGRAM_DISSECTORS: readonly DatagramDissector[] = Object.freeze([dnsDatagramDissector]);

/** How often (capture time) idle UDP flows are looked for between their own datagrams. */
const FLOW_EXPIRY_EVERY_US = 1_000_000;

/** What the pipeline keeps per UDP flow. */
interface FlowState {
  /** The guessed protocol of a flow no dissector took (counted in stats.undissected). */
  readonly guess: string;
  /** The dissector's handler; null when none took the flow or after it threw. */
  handler: DatagramFlowHandler | null;
  /** A dissector took it (its datagrams are not undissected, even after the handler threw). */
  readonly dissected: boolean;
  /** The protocol of the dissector that took it (a violation it throws is counted there). */
  readonly protocol: string | null;
}

export class CapturePipeline implements CaptureSink {
  readonly stats: CaptureStats;
  #decoder: PacketDecoder;
  #assembler: TcpAssembler;
  #registry: DissectorRegistry;
  #events: CapturePipelineEvents;
  #flows: UdpFlowTable<FlowState>;
  /** TLS plaintext: its streams and their own registry (null without the `tls` option). */
  #plaintext: { readonly streams: PlaintextStreams; readonly registry: DissectorRegistry } | null = null;
  /** Handlers of live UDP flows, for oldestPendingUs. */
  readonly #flowHandlers = new Set<DatagramFlowHandler>();
  #lastTsUs = 0;
  #nextFlowExpiryUs = 0;
  /** Stamp of the frame before, and whether one came stamped earlier than it (since startInput). */
  #previousFrameUs = -Infinity;
  #framesOutOfOrder = false;

  constructor(stats: CaptureStats, events: CapturePipelineEvents, options: CapturePipelineOptions = {}) {
    this.stats = stats;
    this.#events = events;
    const dissectOptions: DissectOptions = { ...DEFAULT_DISSECT_OPTIONS, ...options.dissect };
    const internalErrors = options.internalErrors ?? new InternalErrors(stats);
    const claims = options.tls ? new PlaintextClaims(stats) : null;
    // The registry counts the entries of stream dissectors under their protocol on the way out.
    this.#registry = new DissectorRegistry(
      {
        options: dissectOptions,
        stats,
        emit: (e, meta) => events.entry(e, meta),
        ...(claims ? { undissected: (conn: ConnectionInfo, protocol: string) => claims.undissected(conn, protocol) } : {}),
      },
      options.dissectors,
    );
    if (options.tls && claims) {
      // Same dissectors, a registry of their own: its entries are the probes' plaintext.
      const registry = new DissectorRegistry(
        {
          options: dissectOptions,
          stats,
          emit: (e, meta) => {
            e.tls = true;
            events.entry(e, meta);
          },
        },
        options.dissectors,
      );
      const streams = new PlaintextStreams(registry, stats, options.tls.sockets, { claims, internalErrors, ...(options.tls.limits ? { limits: options.tls.limits } : {}) });
      this.#plaintext = { streams, registry };
    }
    // Datagram dissectors are not behind the registry: their entries are counted here.
    const emit = (entry: Entry, meta: EntryMeta): void => {
      countEntry(stats, entry);
      events.entry(entry, meta);
    };
    const shared: SharedDissectContext = { options: dissectOptions, stats, emit };
    this.#assembler = new TcpAssembler(this.#registry, stats, options.tcp, internalErrors);
    const assembler = this.#assembler;
    const undissected = stats.undissected;
    const datagramDissectors = options.datagramDissectors ?? DEFAULT_DATAGRAM_DISSECTORS;
    const flowHandlers = this.#flowHandlers;
    let flowIndex = 0;
    // The first datagram opens the flow: a datagram dissector that sniffs it takes the flow, else
    // it is named by the guess. Its sender is taken for the client.
    const openFlow = (first: UdpDatagram): FlowState => {
      const index = flowIndex++;
      const ports = [first.srcPort, first.dstPort];
      const hinted = (d: DatagramDissector): boolean => d.ports.some((p) => ports.includes(p));
      const order = [...datagramDissectors.filter(hinted), ...datagramDissectors.filter((d) => !hinted(d))];
      for (const d of order) {
        try {
          if (d.sniff(first.payload, 'to-server') !== 'match') continue;
          const flow = { index, a: { ip: first.srcIp, port: first.srcPort }, b: { ip: first.dstIp, port: first.dstPort }, firstSeenUs: first.tsUs };
          // Its own context: what it reports as violations is counted under its protocol.
          const handler = d.open(flow, dissectContextFor(shared, d.protocol));
          flowHandlers.add(handler);
          return { guess: d.id, protocol: d.protocol, handler, dissected: true };
        } catch (err) {
          // sniff and open never throw (contract): one that does is a bug; the next one is asked.
          internalErrors.record(err, `${d.id} datagram sniff`);
        }
      }
      try {
        return { guess: guessDatagram(first.payload, 'to-server', ports, options.datagramSniffers), protocol: null, handler: null, dissected: false };
      } catch (err) {
        // A sniffer that throws is a bug, not bad input: counted apart, the flow stays "unknown".
        internalErrors.record(err, 'udp datagram guess');
        return { guess: UNKNOWN_PROTOCOL, protocol: null, handler: null, dissected: false };
      }
    };
    const closeHandler = (state: FlowState, reason: FlowCloseReason, tsUs: number): void => {
      const handler = state.handler;
      if (handler === null) return;
      state.handler = null;
      flowHandlers.delete(handler);
      try {
        handler.close(reason, tsUs);
      } catch (err) {
        thrown(state, err, 'flow close');
      }
    };
    // Bad input (a ProtocolViolation, also counted under the protocol) or a bug: counted apart.
    const thrown = (state: FlowState, err: unknown, where: string): void => {
      if (err instanceof ProtocolViolation && state.protocol !== null) countViolation(stats, state.protocol);
      countThrown(err, stats, internalErrors, `${state.guess} ${where}`);
    };
    const flows = new UdpFlowTable<FlowState>(openFlow, options.udp, closeHandler);
    this.#flows = flows;
    this.#decoder = new PacketDecoder(
      {
        tcp(segment: TcpSegment): void {
          assembler.segment(segment);
        },
        udp(datagram: UdpDatagram): void {
          const seen = flows.datagram(datagram);
          const state = seen.flow;
          if (!state.dissected) {
            countProtocol(undissected.datagrams, state.guess);
            if (seen.isNew) countProtocol(undissected.udpFlows, state.guess);
            return;
          }
          const handler = state.handler;
          if (handler === null) return; // given up after it threw: the rest of the flow is ignored
          try {
            handler.datagram(seen.fromOpener ? 0 : 1, datagram.payload, datagram.tsUs);
          } catch (err) {
            // The flow is given up: its further datagrams are ignored.
            thrown(state, err, 'datagram');
            closeHandler(state, 'dropped', datagram.tsUs);
          }
        },
      },
      stats,
    );
  }

  frame(frame: Frame): void {
    if (frame.tsUs > this.#lastTsUs) this.#lastTsUs = frame.tsUs;
    if (frame.tsUs < this.#previousFrameUs) this.#framesOutOfOrder = true;
    this.#previousFrameUs = frame.tsUs;
    // Idle UDP flows are closed as capture time passes, not only when another datagram comes, so
    // a query nobody answers cannot hold back the orderer through a stretch of TCP-only traffic.
    if (frame.tsUs >= this.#nextFlowExpiryUs) {
      this.#nextFlowExpiryUs = frame.tsUs + FLOW_EXPIRY_EVERY_US;
      this.#flows.expireIdle(frame.tsUs);
    }
    this.#decoder.frame(frame);
  }

  names(record: NameRecord): void {
    this.#events.names?.(record);
  }

  /**
   * A batch of TLS probe records (tls/events.ts), in ring order. Ignored without the `tls` option.
   * Never throws: bad records are counted, bugs reported like reassembly's.
   */
  tlsEvents(batch: readonly TlsEvent[]): void {
    const plaintext = this.#plaintext;
    if (plaintext === null) return;
    for (const e of batch) if (e.tsUs > this.#lastTsUs) this.#lastTsUs = e.tsUs;
    plaintext.streams.events(batch);
  }

  /** Capture time (µs) before which every entry has been emitted; Infinity when nothing is pending. */
  oldestPendingUs(): number {
    let oldest = this.#registry.oldestPendingUs();
    if (this.#plaintext !== null) oldest = Math.min(oldest, this.#plaintext.registry.oldestPendingUs());
    for (const handler of this.#flowHandlers) oldest = Math.min(oldest, handler.oldestPendingUs());
    return oldest;
  }

  /** Latest capture time seen (µs). */
  get nowUs(): number {
    return this.#lastTsUs;
  }

  /**
   * True once a frame of the current input came stamped earlier than the frame before it (a
   * capture merged from several interfaces, `-i any`). Reading files, the orderer then waits for
   * late packets; without it, an entry can go as soon as no older request is pending.
   */
  get framesOutOfOrder(): boolean {
    return this.#framesOutOfOrder;
  }

  /** A new capture file starts: its first frame is not compared with the last one of the file before. */
  startInput(): void {
    this.#previousFrameUs = -Infinity;
    this.#framesOutOfOrder = false;
  }

  /**
   * Live capture: time passes without packets. Closes connections idle past the TCP idle timeout
   * and UDP flows idle past theirs (their unanswered requests come out with an error) as a later
   * packet would have.
   */
  tick(nowUs: number): void {
    if (nowUs > this.#lastTsUs) this.#lastTsUs = nowUs;
    this.#assembler.expireIdle(nowUs);
    this.#flows.expireIdle(nowUs);
    this.#plaintext?.streams.expireIdle(nowUs);
  }

  /** End of capture: flush reassembly buffers and emit what is still pending. */
  finish(): void {
    this.#decoder.finish();
    this.#assembler.closeAll(this.#lastTsUs);
    this.#flows.closeAll(this.#lastTsUs);
    this.#plaintext?.streams.closeAll(this.#lastTsUs);
  }
}
