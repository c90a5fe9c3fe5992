/**
 * Wires the in-pod stages for one capture: frames -> link/IP decoding -> TCP reassembly ->
 * dissectors -> entries, and UDP datagrams -> flows, counted by the guess of their protocol (no
 * datagram dissector yet). The same pipeline serves a capture file (`kubectl shark read`) and, later,
 * the live AF_PACKET source of the agent. It only knows stage interfaces, not their internals.
 */
import type { Entry } from '../model/entry.ts';
import { DEFAULT_DISSECT_OPTIONS, type DissectOptions, type Dissector, type EntryMeta } from './dissect/dissector.ts';
import { guessDatagram, UNKNOWN_PROTOCOL, type ProtocolSniffer } from './dissect/guess/index.ts';
import { DissectorRegistry } from './dissect/registry.ts';
import { countProtocol } from '../model/undissected.ts';
import { PacketDecoder } from './link/packet-decoder.ts';
import type { TcpSegment, UdpDatagram } from './ip/packet.ts';
import type { CaptureSink, Frame, NameRecord } from './source/frame.ts';
import { countEntry, type CaptureStats } from './stats.ts';
import { InternalErrors } from './thrown-errors.ts';
import { TcpAssembler, type TcpLimits } from './tcp/assembler.ts';
import { UdpFlowTable, type UdpFlowLimits } from './udp/flow-table.ts';

export interface CapturePipelineOptions {
  readonly dissect?: Partial<DissectOptions>;
  readonly tcp?: Partial<TcpLimits>;
  readonly udp?: Partial<UdpFlowLimits>;
  /** The dissectors to choose from (default: every registered one). */
  readonly dissectors?: readonly Dissector[];
  /** The sniffers that name UDP flows (default: every registered datagram sniffer). */
  readonly datagramSniffers?: readonly ProtocolSniffer[];
  /** Where bugs surfacing in reassembly or a dissector are reported (default: only counted). */
  readonly internalErrors?: InternalErrors;
}

export interface CapturePipelineEvents {
  /** `meta`: what the dissector knows beyond the entry (the agent puts it on the entry frame). */
  entry(entry: Entry, meta: EntryMeta): void;
  names?(record: NameRecord): void;
}

export class CapturePipeline implements CaptureSink {
  readonly stats: CaptureStats;
  #decoder: PacketDecoder;
  #assembler: TcpAssembler;
  #registry: DissectorRegistry;
  #events: CapturePipelineEvents;
  #lastTsUs = 0;

  constructor(stats: CaptureStats, events: CapturePipelineEvents, options: CapturePipelineOptions = {}) {
    this.stats = stats;
    this.#events = events;
    const dissectOptions: DissectOptions = { ...DEFAULT_DISSECT_OPTIONS, ...options.dissect };
    const internalErrors = options.internalErrors ?? new InternalErrors(stats);
    const emit = (entry: Entry, meta: EntryMeta): void => {
      countEntry(stats, entry);
      events.entry(entry, meta);
    };
    this.#registry = new DissectorRegistry({ options: dissectOptions, stats, emit }, options.dissectors);
    this.#assembler = new TcpAssembler(this.#registry, stats, options.tcp, internalErrors);
    const assembler = this.#assembler;
    const undissected = stats.undissected;
    // The first datagram names the flow; its sender is taken for the client.
    const guessFlow = (first: UdpDatagram): string => {
      try {
        return guessDatagram(first.payload, 'to-server', [first.srcPort, first.dstPort], options.datagramSniffers);
      } catch (err) {
        // A sniffer that throws is a bug, not bad input: counted apart, the flow stays "unknown".
        internalErrors.record(err, 'udp datagram guess');
        return UNKNOWN_PROTOCOL;
      }
    };
    const flows = new UdpFlowTable(guessFlow, options.udp);
    this.#decoder = new PacketDecoder(
      {
        tcp(segment: TcpSegment): void {
          assembler.segment(segment);
        },
        udp(datagram: UdpDatagram): void {
          const seen = flows.datagram(datagram);
          countProtocol(undissected.datagrams, seen.flow);
          if (seen.isNew) countProtocol(undissected.udpFlows, seen.flow);
        },
      },
      stats,
    );
  }

  frame(frame: Frame): void {
    if (frame.tsUs > this.#lastTsUs) this.#lastTsUs = frame.tsUs;
    this.#decoder.frame(frame);
  }

  names(record: NameRecord): void {
    this.#events.names?.(record);
  }

  /** Capture time (µs) before which every entry has been emitted; Infinity when nothing is pending. */
  oldestPendingUs(): number {
    return this.#registry.oldestPendingUs();
  }

  /** Latest capture time seen (µs). */
  get nowUs(): number {
    return this.#lastTsUs;
  }

  /**
   * Live capture: time passes without packets. Closes connections idle past the TCP idle timeout
   * (their unanswered requests come out with an error) as a later packet would have.
   */
  tick(nowUs: number): void {
    if (nowUs > this.#lastTsUs) this.#lastTsUs = nowUs;
    this.#assembler.expireIdle(nowUs);
  }

  /** End of capture: flush reassembly buffers and emit what is still pending. */
  finish(): void {
    this.#decoder.finish();
    this.#assembler.closeAll(this.#lastTsUs);
  }
}
