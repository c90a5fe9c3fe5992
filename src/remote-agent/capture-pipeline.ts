/**
 * Wires the in-pod stages for one capture: frames -> link/IP decoding -> TCP reassembly ->
 * dissectors -> entries. The same pipeline serves a capture file (`kubectl shark read`) and, later,
 * the live AF_PACKET source of the agent. It only knows stage interfaces, not their internals.
 */
import type { Entry } from '../model/entry.ts';
import { DEFAULT_DISSECT_OPTIONS, type DissectOptions, type Dissector, type EntryMeta } from './dissect/dissector.ts';
import { DissectorRegistry } from './dissect/registry.ts';
import { PacketDecoder } from './link/packet-decoder.ts';
import type { TcpSegment, UdpDatagram } from './ip/packet.ts';
import type { CaptureSink, Frame, NameRecord } from './source/frame.ts';
import type { CaptureStats } from './stats.ts';
import { InternalErrors } from './thrown-errors.ts';
import { TcpAssembler, type TcpLimits } from './tcp/assembler.ts';

export interface CapturePipelineOptions {
  readonly dissect?: Partial<DissectOptions>;
  readonly tcp?: Partial<TcpLimits>;
  /** The dissectors to choose from (default: every registered one). */
  readonly dissectors?: readonly Dissector[];
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
    this.#registry = new DissectorRegistry({ options: dissectOptions, stats, emit: (e, meta) => events.entry(e, meta) }, options.dissectors);
    this.#assembler = new TcpAssembler(this.#registry, stats, options.tcp, options.internalErrors ?? new InternalErrors(stats));
    const assembler = this.#assembler;
    this.#decoder = new PacketDecoder(
      {
        tcp(segment: TcpSegment): void {
          assembler.segment(segment);
        },
        udp(_datagram: UdpDatagram): void {
          // No UDP dissector yet (DNS comes later); the datagram is decoded and counted as a packet.
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
