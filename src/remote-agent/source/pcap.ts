/**
 * The classic libpcap file format (draft-ietf-opsawg-pcap): a 24-byte file header, then records of
 * a 16-byte header plus the captured bytes. The magic number gives both the byte order of every
 * later field and the timestamp resolution (a1b2c3d4: microseconds, a1b23c4d: nanoseconds).
 */
import { SharkError } from '../../model/errors.ts';
import { isSupportedLinkType, linkTypeName } from './link-types.ts';
import type { CaptureStats } from '../stats.ts';
import { u32 } from './bytes.ts';
import type { CaptureSink, Frame } from './frame.ts';
import { MAX_CAPTURED_LENGTH, type RecordFormat } from './record-format.ts';

const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;

/** Bit 26 of the link-type field: the upper 4 bits hold the FCS length in 16-bit units. */
const FCS_PRESENT = 0x0400_0000;

export interface PcapMagic {
  readonly littleEndian: boolean;
  readonly nanoseconds: boolean;
}

/** Recognises the 4 magic bytes at `b[off]`; null when they are not a pcap magic. */
export function pcapMagic(b: Uint8Array, off: number): PcapMagic | null {
  const be = u32(b, off, false);
  switch (be) {
    case 0xa1b2c3d4:
      return { littleEndian: false, nanoseconds: false };
    case 0xa1b23c4d:
      return { littleEndian: false, nanoseconds: true };
    case 0xd4c3b2a1:
      return { littleEndian: true, nanoseconds: false };
    case 0x4d3cb2a1:
      return { littleEndian: true, nanoseconds: true };
    default:
      return null;
  }
}

export class PcapReader implements RecordFormat {
  readonly #sink: CaptureSink;
  readonly #stats: CaptureStats;
  readonly #le: boolean;
  readonly #nanos: boolean;
  #started = false;
  #linkType = 0;
  #fcsBytes = 0;
  #maxCapLen = MAX_CAPTURED_LENGTH;

  constructor(sink: CaptureSink, stats: CaptureStats, magic: PcapMagic) {
    this.#sink = sink;
    this.#stats = stats;
    this.#le = magic.littleEndian;
    this.#nanos = magic.nanoseconds;
  }

  get headerBytes(): number {
    return this.#started ? RECORD_HEADER_LENGTH : FILE_HEADER_LENGTH;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Link type from the file header (FCS bits removed); 0 before the header was read. */
  get linkType(): number {
    return this.#linkType;
  }

  recordLength(b: Uint8Array, off: number): number {
    if (!this.#started) return FILE_HEADER_LENGTH;
    const capLen = u32(b, off + 8, this.#le);
    if (capLen > this.#maxCapLen) {
      // pcap records have no marker to resynchronise on: a garbage length ends the file.
      throw new SharkError(
        'CAPTURE_BAD_BLOCK',
        `pcap record claims ${capLen} captured bytes (limit ${this.#maxCapLen}): the file is corrupt`,
        { capturedLength: capLen },
      );
    }
    return RECORD_HEADER_LENGTH + capLen;
  }

  record(b: Uint8Array, off: number, len: number): void {
    if (!this.#started) {
      this.#fileHeader(b, off);
      return;
    }
    const le = this.#le;
    const sec = u32(b, off, le);
    const frac = u32(b, off + 4, le);
    const origLen = u32(b, off + 12, le);
    let data = b.subarray(off + RECORD_HEADER_LENGTH, off + len);
    let wireLen = origLen;
    // A frame captured whole still carries its FCS when the header says so: strip it so the link
    // layer sees the same bytes as without one. A snaplen-cut frame lost its FCS already.
    if (this.#fcsBytes !== 0 && data.length === origLen && data.length >= this.#fcsBytes) {
      data = data.subarray(0, data.length - this.#fcsBytes);
      wireLen -= this.#fcsBytes;
    }
    const frame: Frame = {
      tsUs: sec * 1_000_000 + (this.#nanos ? Math.floor(frac / 1000) : frac),
      linkType: this.#linkType,
      data,
      origLen: wireLen,
    };
    this.#stats.packets++;
    this.#stats.bytes += len - RECORD_HEADER_LENGTH;
    this.#sink.frame(frame);
  }

  #fileHeader(b: Uint8Array, off: number): void {
    const le = this.#le;
    const snapLen = u32(b, off + 16, le);
    const field = u32(b, off + 20, le);
    const linkType = field & 0xffff;
    if (!isSupportedLinkType(linkType)) {
      throw new SharkError(
        'CAPTURE_UNKNOWN_LINK_TYPE',
        `unsupported link type ${linkType} (${linkTypeName(linkType)})`,
        { linkType, linkTypeName: linkTypeName(linkType) },
      );
    }
    this.#linkType = linkType;
    this.#fcsBytes = (field & FCS_PRESENT) !== 0 ? (field >>> 28) * 2 : 0;
    // Writers exceed their snaplen a little at times (padding, FCS), never by a factor of two.
    if (snapLen > 0 && snapLen * 2 < MAX_CAPTURED_LENGTH) this.#maxCapLen = snapLen * 2;
    // The version (2.4) is not checked: files in the wild say 2.3 and still follow this layout.
    this.#started = true;
  }
}
