/**
 * Frame -> transport units: the link layer (link/link-decoder.ts) strips its header and hands the
 * network layer to the IP decoder. Never throws on bad bytes: every frame ends up delivered,
 * counted as ignored (not IP/TCP/UDP) or counted as malformed.
 */
import { LinkDecoder } from '../link/link-decoder.ts';
import type { Frame } from '../source/frame.ts';
import type { CaptureStats } from '../stats.ts';
import { IpDecoder } from './ip-decoder.ts';
import type { TransportSink } from './packet.ts';

export interface PacketDecoderOptions {
  /** Bytes of IP fragments held while waiting for the rest of their datagram (default 4 MiB). */
  maxFragmentBytes?: number;
  /** Capture-time microseconds an incomplete datagram may wait (default 30 s, Linux's ipfrag_time). */
  fragmentTimeoutUs?: number;
}

const DEFAULT_MAX_FRAGMENT_BYTES = 4 * 1024 * 1024;
const DEFAULT_FRAGMENT_TIMEOUT_US = 30_000_000;

export class PacketDecoder {
  readonly #ip: IpDecoder;
  readonly #link: LinkDecoder;

  constructor(out: TransportSink, stats: CaptureStats, options?: PacketDecoderOptions) {
    this.#ip = new IpDecoder(out, stats, {
      maxFragmentBytes: options?.maxFragmentBytes ?? DEFAULT_MAX_FRAGMENT_BYTES,
      fragmentTimeoutUs: options?.fragmentTimeoutUs ?? DEFAULT_FRAGMENT_TIMEOUT_US,
    });
    this.#link = new LinkDecoder(this.#ip, stats);
  }

  /** Bytes of IP fragments currently held. */
  get pendingFragmentBytes(): number {
    return this.#ip.pendingFragmentBytes;
  }

  /** End of capture: IP datagrams still missing fragments are counted in `fragmentsDropped`. */
  finish(): void {
    this.#ip.flush();
  }

  frame(frame: Frame): void {
    this.#link.frame(frame);
  }
}
