/**
 * Walks a TPACKET_V3 receive ring: a run of equal blocks, each owned either by the kernel or by us.
 * The kernel fills a block with packets and hands it over (TP_STATUS_USER) when it is full or its
 * retire timer fires; we read every packet, give the block back (TP_STATUS_KERNEL) and move on to
 * the next one, in ring order. Pure: it sees the ring only through a DataView and a Uint8Array over
 * the same memory, so tests can build blocks in an ArrayBuffer.
 *
 * Layouts (include/uapi/linux/if_packet.h; every field little-endian on x86_64):
 *   struct tpacket_block_desc            struct tpacket3_hdr
 *     @0  u32 version                      @0  u32 tp_next_offset (from this header; 0 on the last)
 *     @4  u32 offset_to_priv               @4  u32 tp_sec
 *     @8  u32 block_status                 @8  u32 tp_nsec
 *     @12 u32 num_pkts                     @12 u32 tp_snaplen
 *     @16 u32 offset_to_first_pkt          @16 u32 tp_len
 *     @20 u32 blk_len                      @20 u32 tp_status
 *     @24 u64 seq_num                      @24 u16 tp_mac (data offset from this header)
 *     @32 ts_first_pkt {u32 sec, u32 nsec} @26 u16 tp_net
 *     @40 ts_last_pkt                      @28 hv1 {rxhash, vlan_tci, vlan_tpid, pad}, then pad[8]
 *     48 bytes                             48 bytes
 */
import type { Frame } from '../source/frame.ts';

export const BLOCK_STATUS = 8;
export const BLOCK_NUM_PKTS = 12;
export const BLOCK_FIRST_PKT = 16;
export const BLOCK_LEN = 20;
export const BLOCK_DESC_SIZE = 48;

export const PKT_NEXT = 0;
export const PKT_SEC = 4;
export const PKT_NSEC = 8;
export const PKT_SNAPLEN = 12;
export const PKT_LEN = 16;
export const PKT_STATUS = 20;
export const PKT_MAC = 24;
export const PKT_NET = 26;
export const PKT_HDR_SIZE = 48;

export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;

export interface RingGeometry {
  readonly blockSize: number;
  readonly blockCount: number;
}

export class TpacketRing {
  readonly #dv: DataView;
  readonly #bytes: Uint8Array;
  readonly #blockSize: number;
  readonly #blockCount: number;
  readonly #linkType: number;
  #current = 0;
  #corruptBlocks = 0;
  #callbackErrors = 0;
  #lastCallbackError: unknown = undefined;
  #stopped = false;
  #lastDrainBlocks = 0;

  /** `dv` and `bytes` must cover the same memory, at least blockSize * blockCount bytes. */
  constructor(dv: DataView, bytes: Uint8Array, geometry: RingGeometry, linkType: number) {
    const total = geometry.blockSize * geometry.blockCount;
    if (!(geometry.blockSize >= BLOCK_DESC_SIZE + PKT_HDR_SIZE) || !(geometry.blockCount >= 1)) {
      throw new RangeError(`bad ring geometry ${geometry.blockSize} x ${geometry.blockCount}`);
    }
    if (dv.byteLength < total || bytes.length < total || dv.byteOffset !== bytes.byteOffset || dv.buffer !== bytes.buffer) {
      throw new RangeError('the DataView and the Uint8Array must cover the same ring memory');
    }
    this.#dv = dv;
    this.#bytes = bytes;
    this.#blockSize = geometry.blockSize;
    this.#blockCount = geometry.blockCount;
    this.#linkType = linkType;
  }

  /** Index of the block the next drain looks at first. */
  get currentBlock(): number {
    return this.#current;
  }

  /** Blocks the last drain() found handed over to us: how far behind the kernel we were. */
  get lastDrainBlocks(): number {
    return this.#lastDrainBlocks;
  }

  /** Blocks whose packet list pointed outside the block: cut short and handed back. */
  get corruptBlocks(): number {
    return this.#corruptBlocks;
  }

  /** Exceptions thrown by the frame callback; they never stop the walk. */
  get callbackErrors(): number {
    return this.#callbackErrors;
  }

  get lastCallbackError(): unknown {
    return this.#lastCallbackError;
  }

  /** Ends the walk in progress after the current frame (its block is still released); for close(). */
  stop(): void {
    this.#stopped = true;
  }

  /** Blocks handed over to us and not yet read, counted from the next one, up to `limit`. */
  readyBlocks(limit: number): number {
    let ready = 0;
    for (let i = this.#current; ready < Math.min(limit, this.#blockCount); i = i + 1 === this.#blockCount ? 0 : i + 1) {
      if ((this.#dv.getUint32(i * this.#blockSize + BLOCK_STATUS, true) & TP_STATUS_USER) === 0) break;
      ready++;
    }
    return ready;
  }

  /**
   * Hands every packet of every block we own to `onFrame`, in ring order, and returns each block to
   * the kernel (at most `maxBlocks` of them). At most one lap per call, so a kernel that refills blocks as fast as we free them
   * cannot keep us here forever: the next readable event brings us back. Returns frames delivered.
   */
  drain(onFrame: (frame: Frame) => void, maxBlocks: number = this.#blockCount): number {
    let delivered = 0;
    let lap = 0;
    const limit = Math.min(maxBlocks, this.#blockCount);
    for (; lap < limit && !this.#stopped; lap++) {
      const block = this.#current * this.#blockSize;
      if ((this.#dv.getUint32(block + BLOCK_STATUS, true) & TP_STATUS_USER) === 0) break;
      delivered += this.#walkBlock(block, onFrame);
      // Only after the last read of the block: the kernel may overwrite it from this store on.
      this.#dv.setUint32(block + BLOCK_STATUS, TP_STATUS_KERNEL, true);
      this.#current = this.#current + 1 === this.#blockCount ? 0 : this.#current + 1;
    }
    this.#lastDrainBlocks = lap;
    return delivered;
  }

  /**
   * For a ring that receives nothing any more (its socket's filter now rejects every packet, and
   * what was on its way has landed): reads the blocks handed over, then the block the kernel was
   * filling, still its own, in place. The kernel hands such a block over only when its retire timer
   * fires; the hand-over to a bigger ring (live-capture.ts) cannot wait that long while the other
   * ring fills unread. The ring is read no further (stop()): it is closed next. Returns the frames
   * delivered.
   */
  drainLast(onFrame: (frame: Frame) => void): number {
    let delivered = this.drain(onFrame);
    if (this.#stopped) return delivered;
    const block = this.#current * this.#blockSize;
    if ((this.#dv.getUint32(block + BLOCK_STATUS, true) & TP_STATUS_USER) === 0 && this.#dv.getUint32(block + BLOCK_NUM_PKTS, true) > 0) {
      delivered += this.#walkBlock(block, onFrame);
    }
    this.#stopped = true;
    return delivered;
  }

  #walkBlock(block: number, onFrame: (frame: Frame) => void): number {
    const dv = this.#dv;
    const end = block + this.#blockSize;
    const count = dv.getUint32(block + BLOCK_NUM_PKTS, true);
    let off = block + dv.getUint32(block + BLOCK_FIRST_PKT, true);
    let delivered = 0;
    for (let i = 0; i < count; i++) {
      if (off < block + BLOCK_DESC_SIZE || off + PKT_HDR_SIZE > end) {
        this.#corruptBlocks++;
        break;
      }
      const snaplen = dv.getUint32(off + PKT_SNAPLEN, true);
      const start = off + dv.getUint16(off + PKT_MAC, true);
      if (start < off + PKT_HDR_SIZE || start + snaplen > end) {
        this.#corruptBlocks++;
        break;
      }
      const frame: Frame = {
        tsUs: dv.getUint32(off + PKT_SEC, true) * 1_000_000 + Math.floor(dv.getUint32(off + PKT_NSEC, true) / 1000),
        linkType: this.#linkType,
        data: this.#bytes.subarray(start, start + snaplen),
        origLen: dv.getUint32(off + PKT_LEN, true),
      };
      delivered++;
      try {
        onFrame(frame);
      } catch (err) {
        this.#callbackErrors++;
        this.#lastCallbackError = err;
      }
      if (this.#stopped) break;
      if (i + 1 < count) {
        const next = dv.getUint32(off + PKT_NEXT, true);
        // The next header must lie past this packet's data, or the walk could loop or overlap.
        if (off + next < start + snaplen) {
          this.#corruptBlocks++;
          break;
        }
        off += next;
      }
    }
    return delivered;
  }
}
