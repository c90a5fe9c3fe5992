import { formatBytes } from '../../model/byte-units.ts';
import { SharkError } from '../../model/errors.ts';
import { LINKTYPE } from '../source/link-types.ts';
import type { Frame } from '../source/frame.ts';
import { PacketSocket } from './packet-socket.ts';
import { HandoverOverlap } from './ring-handover.ts';
import { TpacketRing } from './tpacket-ring.ts';

export interface LiveCaptureOptions {
  /** 'any' = every interface of the current network namespace (bind ifindex 0), else an interface name */
  readonly iface: string;
  /** the largest the ring may be, in bytes (default 4 MiB), whole RING_BLOCK_SIZE blocks */
  readonly ringBytes?: number;
  /**
   * The ring to start with (default: ringBytes). When a quarter of it waits for us, the capture
   * moves to a ring of ringBytes (once; see #grow in RingCapture and GROW_AT_FRACTION).
   */
  readonly initialRingBytes?: number;
  /** block retire timeout ms (latency bound when traffic is light), default 10 */
  readonly blockTimeoutMs?: number;
  /**
   * The small ring's retire timeout, ms (default: smallRingBlockTimeoutMs, so that the small ring
   * holds as long a trickle of traffic as the full one).
   */
  readonly initialBlockTimeoutMs?: number;
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
  /** Size of the ring in use now, bytes. */
  readonly ringBytes: number;
  /** Frames both rings held during a move to a bigger ring, handed out once (the second copy skipped). */
  readonly handoverCopies: number;
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
/** The small ring's retire timeout at most: the delay a packet of a trickle may wait to be read. */
export const MAX_SMALL_RING_BLOCK_TIMEOUT_MS = 100;

/**
 * The kernel retires a block every retire timeout even when it holds one packet, so at a trickle
 * a ring holds its block count times the timeout, whatever its size: the full ring's 100 blocks of
 * 10 ms hold a second, the 16 of a 4 MiB ring only 160 ms. The small ring's blocks are retired
 * more slowly, so that it holds as long as the full one: 10 ms x 100 / 16 = 63 ms (at most
 * MAX_SMALL_RING_BLOCK_TIMEOUT_MS).
 */
export function smallRingBlockTimeoutMs(blockTimeoutMs: number, initialBlocks: number, maxBlocks: number): number {
  if (initialBlocks >= maxBlocks) return blockTimeoutMs;
  const sameSpan = Math.ceil((blockTimeoutMs * maxBlocks) / initialBlocks);
  return Math.max(blockTimeoutMs, Math.min(sameSpan, MAX_SMALL_RING_BLOCK_TIMEOUT_MS));
}

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
  const initialRingBytes = Math.min(options.initialRingBytes ?? ringBytes, ringBytes);
  const blockTimeoutMs = options.blockTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS;
  for (const bytes of [ringBytes, initialRingBytes]) {
    if (!Number.isSafeInteger(bytes) || bytes < RING_BLOCK_SIZE || bytes >= 2 ** 32) {
      throw new SharkError('USAGE', `ring size ${bytes} bytes: need at least ${formatBytes(RING_BLOCK_SIZE)} and less than 4 GiB`, { ringBytes: bytes });
    }
  }
  const blocks = (bytes: number): number => Math.floor(bytes / RING_BLOCK_SIZE);
  const initialBlocks = blocks(initialRingBytes);
  const maxBlocks = blocks(ringBytes);
  const initialBlockTimeoutMs = options.initialBlockTimeoutMs ?? smallRingBlockTimeoutMs(blockTimeoutMs, initialBlocks, maxBlocks);
  for (const timeout of [blockTimeoutMs, initialBlockTimeoutMs]) {
    if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > 60_000) {
      throw new SharkError('USAGE', `block timeout ${timeout} ms: need 1 to 60000`, { blockTimeoutMs: timeout });
    }
  }
  return new RingCapture({ iface: options.iface, blockTimeoutMs, initialBlockTimeoutMs, initialBlocks, maxBlocks }, onFrame);
}

/**
 * The move to the full ring starts when this fraction of the small ring is waiting for us (a
 * quarter: 4 of the agent's 16 blocks, 40 ms behind at a trickle): early enough that the small
 * ring still has room for the hand-over and for the next delay. It is looked at before each block
 * is read (#drainSmall), not only when a drain ends: a reader slower than the packets come would
 * fill the small ring during one lap of it.
 */
const GROW_AT_FRACTION = 4;

/**
 * From the small ring's filter closing to its last read: a packet that passed the old filter just
 * before may still be on its way into the ring (microseconds, in the kernel's receive path); a few
 * milliseconds are far past that, and short against the big ring's room.
 */
const HANDOVER_GRACE_MS = 5;

interface RingPlan {
  readonly iface: string;
  readonly blockTimeoutMs: number;
  readonly initialBlockTimeoutMs: number;
  readonly initialBlocks: number;
  readonly maxBlocks: number;
}

/** One packet socket and the walker over its ring. */
interface OpenRing {
  readonly socket: PacketSocket;
  readonly ring: TpacketRing;
  readonly blockCount: number;
  readonly blockTimeoutMs: number;
  /** Packets the kernel counted for this socket since it was opened. */
  packets: number;
}

/**
 * The capture, on one ring at a time. An idle agent should cost the pod little, and every page of
 * a packet ring is resident from the mmap; yet a burst, or the agent waiting for CPU behind the
 * app (it runs at nice 19), needs room. So it starts on a small ring and, the first time a quarter
 * of it waits for us (GROW_AT_FRACTION), moves to the full one: the big socket is opened and bound
 * (from then on both get every packet), the small one stops receiving and, a few milliseconds
 * later, is read to the end (the block the kernel was filling read in place) and closed; only then
 * is the big ring read, skipping the frames both held (ring-handover.ts). Nothing is lost while the
 * big ring waits: it has room for far longer than the hand-over takes.
 */
class RingCapture implements LiveCapture {
  readonly iface: string;
  readonly linkType = LINKTYPE.RAW;
  readonly #plan: RingPlan;
  readonly #onFrame: (frame: Frame) => void;
  #active: OpenRing;
  /** The small ring being finished during a move; the active (big) ring is not read meanwhile. */
  #retiring: OpenRing | null = null;
  #overlap: HandoverOverlap | null = null;
  #handoverTimer: NodeJS.Timeout | null = null;
  #handoverCopies = 0;
  #growFailed = false;
  /** Counters of rings closed since open. */
  #closedCallbackErrors = 0;
  #closedCorruptBlocks = 0;
  #packets = 0;
  #drops = 0;
  #freezes = 0;
  #draining = false;
  #closing = false;
  #closed = false;

  constructor(plan: RingPlan, onFrame: (frame: Frame) => void) {
    this.iface = plan.iface;
    this.#plan = plan;
    this.#onFrame = onFrame;
    this.#active = this.#openRing(plan.initialBlocks, plan.initialBlocks < plan.maxBlocks ? plan.initialBlockTimeoutMs : plan.blockTimeoutMs);
    this.#active.socket.startPolling(() => this.drain());
  }

  get onFrameErrors(): number {
    return this.#closedCallbackErrors + this.#active.ring.callbackErrors + (this.#retiring?.ring.callbackErrors ?? 0);
  }

  get corruptBlocks(): number {
    return this.#closedCorruptBlocks + this.#active.ring.corruptBlocks + (this.#retiring?.ring.corruptBlocks ?? 0);
  }

  get ringBytes(): number {
    return this.#active.blockCount * RING_BLOCK_SIZE;
  }

  get handoverCopies(): number {
    return this.#handoverCopies + (this.#overlap?.skipped ?? 0);
  }

  kernelCounters(): KernelCounters {
    this.#accumulate(this.#active);
    // Read once when the move began: what the small ring drops from then on, the big one has.
    if (this.#retiring !== null) this.#accumulate(this.#retiring, 'recovered');
    return { packets: this.#packets, drops: this.#drops, freezes: this.#freezes };
  }

  drain(): number {
    if (this.#closed || this.#draining) return 0;
    this.#draining = true;
    try {
      if (this.#retiring !== null) return this.#retiring.ring.drain(this.#rememberThenDeliver);
      if (this.#canGrow()) return this.#drainSmall();
      const overlap = this.#overlap;
      const delivered = this.#active.ring.drain(overlap?.active === true ? this.#deliverUnlessCopy : this.#onFrame);
      if (overlap !== null && !overlap.active) {
        this.#handoverCopies += overlap.skipped;
        this.#overlap = null;
      }
      return delivered;
    } finally {
      this.#draining = false;
      if (this.#closing) this.#teardown();
    }
  }

  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    // Called from onFrame: let the walk stop after this frame, then unmap (the walk still reads the ring).
    if (this.#draining) {
      this.#active.ring.stop();
      this.#retiring?.ring.stop();
    } else this.#teardown();
  }

  readonly #rememberThenDeliver = (frame: Frame): void => {
    this.#overlap?.remember(frame);
    this.#onFrame(frame);
  };

  readonly #deliverUnlessCopy = (frame: Frame): void => {
    if (this.#overlap?.isCopy(frame) === true) return;
    this.#onFrame(frame);
  };

  #openRing(blockCount: number, blockTimeoutMs: number): OpenRing {
    const geometry = { blockSize: RING_BLOCK_SIZE, blockCount };
    const socket = PacketSocket.open({ iface: this.#plan.iface, ...geometry, blockTimeoutMs });
    return { socket, blockCount, blockTimeoutMs, packets: 0, ring: new TpacketRing(new DataView(socket.ring), new Uint8Array(socket.ring), geometry, LINKTYPE.RAW) };
  }

  /**
   * Reads the small ring block by block (one lap at most), and moves to the full one as soon as a
   * quarter of it waits: before reading anything when the agent was away, or while it reads slower
   * than the packets come. Blocks are retired every blockTimeoutMs even when far from full, so the
   * small ring holds only its block count times that (160 ms for 16 blocks of 10 ms) at any rate.
   */
  #drainSmall(): number {
    const blocks = this.#active.blockCount;
    const growAt = Math.max(1, Math.floor(blocks / GROW_AT_FRACTION));
    let delivered = 0;
    for (let lap = 0; lap < blocks; lap++) {
      if (this.#canGrow() && this.#active.ring.readyBlocks(growAt) >= growAt) {
        const moved = this.#grow();
        if (moved !== null) return delivered + moved;
      }
      delivered += this.#active.ring.drain(this.#onFrame, 1);
      if (this.#active.ring.lastDrainBlocks === 0) break;
    }
    return delivered;
  }

  /** Still on the small ring, and a move to the full one may be tried. */
  #canGrow(): boolean {
    return !this.#growFailed && this.#retiring === null && !this.#closing && this.#active.blockCount < this.#plan.maxBlocks;
  }

  /**
   * Starts the move to the full ring (from a drain of the small one), reading what the small ring
   * holds now: the frames delivered, or null when the move could not start (the small ring is
   * read on as before).
   */
  #grow(): number | null {
    if (!this.#canGrow()) return null;
    let bigger: OpenRing;
    try {
      bigger = this.#openRing(this.#plan.maxBlocks, this.#plan.blockTimeoutMs);
    } catch {
      // No memory for it (or no longer allowed): capture on in the small ring.
      this.#growFailed = true;
      return null;
    }
    const small = this.#active;
    // Drops of the small ring until now are losses; from here on the big ring also has the packet.
    this.#accumulate(small);
    if (!small.socket.stopReceiving()) {
      this.#growFailed = true;
      bigger.socket.close();
      return null;
    }
    this.#overlap = new HandoverOverlap();
    this.#retiring = small;
    this.#active = bigger;
    // Read what the small ring holds now; the rest once what was on its way past the old filter
    // has landed (#finishHandover). The big ring fills unread meanwhile, so that is soon.
    const delivered = small.ring.drain(this.#rememberThenDeliver);
    this.#handoverTimer = setTimeout(() => this.#finishHandover(), HANDOVER_GRACE_MS);
    return delivered;
  }

  #finishHandover(): void {
    this.#handoverTimer = null;
    const small = this.#retiring;
    if (small === null || this.#closed) return;
    // The blocks handed over since, then the block the kernel was filling when the filter closed,
    // read in place: its retire timer would hand it over only up to a retire period later (63 ms
    // on the small ring), while a burst fills the unread big ring (a 25 MiB ring took ~200 ms of
    // a 71 MB burst: agent-capture.test.ts). Called from a timer, never within a drain.
    this.#draining = true;
    try {
      small.ring.drainLast(this.#rememberThenDeliver);
    } finally {
      this.#draining = false;
      if (this.#closing) this.#teardown();
    }
    if (this.#closed) return;
    this.#accumulate(small, 'recovered');
    this.#closedCallbackErrors += small.ring.callbackErrors;
    this.#closedCorruptBlocks += small.ring.corruptBlocks;
    small.socket.close();
    this.#retiring = null;
    // Every frame the big ring got until now, and no later one, may also have been in the small ring.
    this.#accumulate(this.#active);
    this.#overlap?.seal(this.#active.packets);
    this.#active.socket.startPolling(() => this.drain());
    this.drain();
  }

  #teardown(): void {
    if (this.#closed) return;
    this.kernelCounters();
    this.#closed = true;
    if (this.#handoverTimer !== null) clearTimeout(this.#handoverTimer);
    this.#retiring?.socket.close();
    this.#active.socket.close();
  }

  /**
   * Adds the socket's counts since the last read. 'recovered': the small ring's last counts in a
   * hand-over, where what it dropped (full while the big ring was bound) is in the big ring: not a
   * loss, and counted there (a packet on its way through the kernel at the very instant of the
   * bind could miss the big ring and be dropped by the small one: not counted, never seen).
   */
  #accumulate(open: OpenRing, drops: 'lost' | 'recovered' = 'lost'): void {
    if (this.#closed) return;
    const delta = open.socket.readStatistics();
    const kept = drops === 'lost' ? delta.packets : delta.packets - delta.drops;
    open.packets += kept;
    this.#packets += kept;
    if (drops === 'lost') this.#drops += delta.drops;
    this.#freezes += delta.freezes;
  }
}
