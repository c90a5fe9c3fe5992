import { formatBytes } from '../../model/byte-units.ts';
import { SharkError } from '../../model/errors.ts';
import { LINKTYPE } from '../source/link-types.ts';
import type { Frame } from '../source/frame.ts';
import { PacketSocket } from './packet-socket.ts';
import { TpacketRing } from './tpacket-ring.ts';

export interface LiveCaptureOptions {
  /** 'any' = every interface of the current network namespace (bind ifindex 0), else an interface name */
  readonly iface: string;
  /** total ring memory in bytes (default 4 MiB), whole RING_BLOCK_SIZE blocks */
  readonly ringBytes?: number;
  /** block retire timeout ms (latency bound when traffic is light), default 10 */
  readonly blockTimeoutMs?: number;
}

/** Cumulative since open. */
export interface KernelCounters {
  readonly packets: number;
  readonly drops: number;
  readonly freezes: number;
}

export interface LiveCapture {
  readonly iface: string;
  /** LINKTYPE of the frames handed out (we use SOCK_DGRAM, so frames start at the IP header: LINKTYPE_RAW = 101) */
  readonly linkType: number;
  /** Exceptions thrown by onFrame: counted and swallowed, so the ring keeps moving. */
  readonly onFrameErrors: number;
  /** Ring blocks whose packet list pointed out of the block (never expected): cut short and released. */
  readonly corruptBlocks: number;
  /** cumulative kernel counters (PACKET_STATISTICS is reset on each read: accumulate) */
  kernelCounters(): KernelCounters;
  /** drains every ready block synchronously (also called by the poll handle); returns frames delivered */
  drain(): number;
  /** stops polling, unmaps the ring, closes the socket; idempotent */
  close(): void;
}

/**
 * A block must hold the largest frame (a 64 KiB GSO/GRO packet with its header); smaller blocks
 * than that waste less of a small ring in blocks the retire timer hands over part-filled.
 */
export const RING_BLOCK_SIZE = 256 << 10;
export const DEFAULT_RING_BYTES = 4 << 20;
export const DEFAULT_BLOCK_TIMEOUT_MS = 10;

/**
 * Opens a packet socket with a memory-mapped ring on `iface` and hands every TCP/UDP-over-IP frame
 * to `onFrame` from the event loop. A frame's `data` is a view into the ring: valid only during
 * the callback. Linux x86_64 only.
 *
 * Throws SharkError: CAPTURE_PERMISSION (no CAP_NET_RAW), CAPTURE_NO_INTERFACE, CAPTURE_SOCKET,
 * FFI_UNAVAILABLE (koffi or libc cannot load, or not Linux x86_64), USAGE (bad ring options).
 */
export function openLiveCapture(options: LiveCaptureOptions, onFrame: (frame: Frame) => void): LiveCapture {
  const ringBytes = options.ringBytes ?? DEFAULT_RING_BYTES;
  const blockTimeoutMs = options.blockTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS;
  if (!Number.isSafeInteger(ringBytes) || ringBytes < RING_BLOCK_SIZE || ringBytes >= 2 ** 32) {
    throw new SharkError('USAGE', `ring size ${ringBytes} bytes: need at least ${formatBytes(RING_BLOCK_SIZE)} and less than 4 GiB`, { ringBytes });
  }
  if (!Number.isSafeInteger(blockTimeoutMs) || blockTimeoutMs < 1 || blockTimeoutMs > 60_000) {
    throw new SharkError('USAGE', `block timeout ${blockTimeoutMs} ms: need 1 to 60000`, { blockTimeoutMs });
  }
  const geometry = { blockSize: RING_BLOCK_SIZE, blockCount: Math.floor(ringBytes / RING_BLOCK_SIZE) };
  const socket = PacketSocket.open({ iface: options.iface, ...geometry, blockTimeoutMs });
  return new RingCapture(options.iface, socket, geometry, onFrame);
}

class RingCapture implements LiveCapture {
  readonly iface: string;
  readonly linkType = LINKTYPE.RAW;
  readonly #socket: PacketSocket;
  readonly #ring: TpacketRing;
  readonly #onFrame: (frame: Frame) => void;
  #packets = 0;
  #drops = 0;
  #freezes = 0;
  #draining = false;
  #closing = false;
  #closed = false;

  constructor(iface: string, socket: PacketSocket, geometry: { blockSize: number; blockCount: number }, onFrame: (frame: Frame) => void) {
    this.iface = iface;
    this.#socket = socket;
    this.#onFrame = onFrame;
    this.#ring = new TpacketRing(new DataView(socket.ring), new Uint8Array(socket.ring), geometry, LINKTYPE.RAW);
    socket.startPolling(() => this.drain());
  }

  get onFrameErrors(): number {
    return this.#ring.callbackErrors;
  }

  get corruptBlocks(): number {
    return this.#ring.corruptBlocks;
  }

  kernelCounters(): KernelCounters {
    this.#accumulate();
    return { packets: this.#packets, drops: this.#drops, freezes: this.#freezes };
  }

  drain(): number {
    if (this.#closed || this.#draining) return 0;
    this.#draining = true;
    try {
      return this.#ring.drain(this.#onFrame);
    } finally {
      this.#draining = false;
      if (this.#closing) this.#teardown();
    }
  }

  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    // Called from onFrame: let the walk stop after this frame, then unmap (the walk still reads the ring).
    if (this.#draining) this.#ring.stop();
    else this.#teardown();
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#accumulate();
    this.#closed = true;
    this.#socket.close();
  }

  #accumulate(): void {
    if (this.#closed) return;
    const delta = this.#socket.readStatistics();
    this.#packets += delta.packets;
    this.#drops += delta.drops;
    this.#freezes += delta.freezes;
  }
}
