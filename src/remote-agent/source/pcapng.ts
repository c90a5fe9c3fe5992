/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks `type, total length, body, total length`,
 * grouped into sections that each start with a Section Header Block whose byte-order magic sets the
 * byte order of the whole section. Interfaces (IDB) are numbered per section, each with its own
 * link type, snaplen and timestamp resolution. Blocks of unknown types are skipped by length.
 */
import { SharkError } from '../../model/errors.ts';
import { formatIPv4, formatIPv6 } from '../../model/ip-address.ts';
import { isSupportedLinkType, linkTypeName } from './link-types.ts';
import type { CaptureStats } from '../stats.ts';
import { i64, u16, u32 } from './bytes.ts';
import type { CaptureSink, Frame } from './frame.ts';
import { MAX_CAPTURED_LENGTH, type RecordFormat } from './record-format.ts';
import { MICROSECONDS, scaleFromTsresol, toMicroseconds, type TimestampScale } from './timestamp.ts';

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002; // obsolete Packet Block (pcapng appendix)
const BLOCK_SPB = 0x00000003;
const BLOCK_NRB = 0x00000004;
const BLOCK_EPB = 0x00000006;

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

/** Smallest block: type, length, trailing length. */
const MIN_BLOCK = 12;
/** A packet block holds at most one maximal packet plus headers and options. */
const MAX_BLOCK = MAX_CAPTURED_LENGTH + 64 * 1024;

const OPT_ENDOFOPT = 0;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;

const NRB_END = 0;
const NRB_IPV4 = 1;
const NRB_IPV6 = 2;

interface Interface {
  readonly linkType: number;
  readonly supported: boolean;
  readonly snapLen: number;
  readonly scale: TimestampScale;
  readonly offsetUs: number;
  readonly fcsBytes: number;
}

export function isPcapngMagic(b: Uint8Array, off: number): boolean {
  return u32(b, off, false) === BLOCK_SHB;
}

export class PcapngReader implements RecordFormat {
  readonly #sink: CaptureSink;
  readonly #stats: CaptureStats;
  readonly #text = new TextDecoder('utf-8', { fatal: false });
  #le = true;
  #started = false;
  #interfaces: Interface[] = [];
  #sectionHasSupported = false;
  /** Simple Packet Blocks carry no timestamp: they get the previous packet's. */
  #lastTsUs = 0;

  constructor(sink: CaptureSink, stats: CaptureStats) {
    this.#sink = sink;
    this.#stats = stats;
  }

  get headerBytes(): number {
    return MIN_BLOCK;
  }

  get started(): boolean {
    return this.#started;
  }

  recordLength(b: Uint8Array, off: number): number {
    // The SHB type reads the same in both byte orders; its byte-order magic says how to read the rest.
    if (u32(b, off, false) === BLOCK_SHB) {
      const magic = u32(b, off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) this.#le = true;
      else if (magic === BYTE_ORDER_MAGIC_SWAPPED) this.#le = false;
      else throw this.#corrupt(`section header with a bad byte-order magic 0x${magic.toString(16)}`);
    }
    const len = u32(b, off + 4, this.#le);
    if (len < MIN_BLOCK || len % 4 !== 0 || len > MAX_BLOCK) {
      throw this.#corrupt(`block with impossible length ${len}`);
    }
    return len;
  }

  record(b: Uint8Array, off: number, len: number): void {
    const le = this.#le;
    if (u32(b, off + len - 4, le) !== len) {
      throw this.#corrupt(`block length ${len} does not match its trailing copy ${u32(b, off + len - 4, le)}`);
    }
    const type = u32(b, off, le);
    switch (type) {
      case BLOCK_SHB:
        return this.#sectionHeader(b, off, len);
      case BLOCK_IDB:
        return this.#interfaceDescription(b, off, len);
      case BLOCK_EPB:
        return this.#enhancedPacket(b, off, len);
      case BLOCK_SPB:
        return this.#simplePacket(b, off, len);
      case BLOCK_PB:
        return this.#obsoletePacket(b, off, len);
      case BLOCK_NRB:
        return this.#nameResolution(b, off, len);
      default:
        // Interface statistics, decryption secrets, custom blocks ...: nothing for us.
        return;
    }
  }

  #sectionHeader(b: Uint8Array, off: number, len: number): void {
    if (len < 28) throw this.#corrupt(`section header block of ${len} bytes`);
    const major = u16(b, off + 12, this.#le);
    if (major !== 1) throw this.#corrupt(`unsupported pcapng version ${major}.${u16(b, off + 14, this.#le)}`);
    // Interface ids restart in each section (pcapng 4.1).
    this.#interfaces = [];
    this.#sectionHasSupported = false;
    this.#started = true;
  }

  #interfaceDescription(b: Uint8Array, off: number, len: number): void {
    if (len < 20) throw this.#corrupt(`interface description block of ${len} bytes`);
    const le = this.#le;
    const linkType = u16(b, off + 8, le);
    const snapLen = u32(b, off + 12, le);
    let scale = MICROSECONDS;
    let offsetUs = 0;
    let fcsBytes = 0;
    const end = off + len - 4;
    for (let p = off + 16; p + 4 <= end; ) {
      const code = u16(b, p, le);
      const optLen = u16(b, p + 2, le);
      const value = p + 4;
      if (code === OPT_ENDOFOPT || value + optLen > end) break;
      if (code === IF_TSRESOL && optLen >= 1) scale = scaleFromTsresol(b[value]);
      else if (code === IF_TSOFFSET && optLen >= 8) offsetUs = i64(b, value, le) * 1_000_000;
      else if (code === IF_FCSLEN && optLen >= 1) fcsBytes = b[value];
      p = value + ((optLen + 3) & ~3);
    }
    const supported = isSupportedLinkType(linkType);
    if (supported) this.#sectionHasSupported = true;
    this.#interfaces.push({ linkType, supported, snapLen, scale, offsetUs, fcsBytes });
  }

  #enhancedPacket(b: Uint8Array, off: number, len: number): void {
    if (len < 32) return this.#malformedBlock();
    const le = this.#le;
    const iface = this.#interfaces[u32(b, off + 8, le)];
    const capLen = u32(b, off + 20, le);
    if (iface === undefined || capLen > len - 32) return this.#malformedBlock();
    const tsUs = toMicroseconds(u32(b, off + 12, le), u32(b, off + 16, le), iface.scale) + iface.offsetUs;
    this.#deliver(iface, tsUs, b, off + 28, capLen, u32(b, off + 24, le));
  }

  #simplePacket(b: Uint8Array, off: number, len: number): void {
    if (len < 16) return this.#malformedBlock();
    // The SPB belongs to interface 0 and its captured length is implied (pcapng 4.4).
    const iface = this.#interfaces[0];
    if (iface === undefined) return this.#malformedBlock();
    const origLen = u32(b, off + 8, this.#le);
    let capLen = len - 16 < origLen ? len - 16 : origLen;
    if (iface.snapLen !== 0 && capLen > iface.snapLen) capLen = iface.snapLen;
    this.#deliver(iface, this.#lastTsUs, b, off + 12, capLen, origLen);
  }

  #obsoletePacket(b: Uint8Array, off: number, len: number): void {
    if (len < 32) return this.#malformedBlock();
    const le = this.#le;
    const iface = this.#interfaces[u16(b, off + 8, le)];
    const capLen = u32(b, off + 20, le);
    if (iface === undefined || capLen > len - 32) return this.#malformedBlock();
    const tsUs = toMicroseconds(u32(b, off + 12, le), u32(b, off + 16, le), iface.scale) + iface.offsetUs;
    this.#deliver(iface, tsUs, b, off + 28, capLen, u32(b, off + 24, le));
  }

  #deliver(iface: Interface, tsUs: number, b: Uint8Array, start: number, capLen: number, origLen: number): void {
    if (capLen > MAX_CAPTURED_LENGTH) {
      throw this.#corrupt(`packet block claims ${capLen} captured bytes (limit ${MAX_CAPTURED_LENGTH})`);
    }
    if (!iface.supported && !this.#sectionHasSupported) {
      // Only when nothing in the section is readable is this fatal; a capture that mixes, say,
      // Ethernet and USB interfaces still yields its Ethernet traffic (the rest counts as ignored).
      const name = linkTypeName(iface.linkType);
      throw new SharkError('CAPTURE_UNKNOWN_LINK_TYPE', `unsupported link type ${iface.linkType} (${name})`, {
        linkType: iface.linkType,
        linkTypeName: name,
      });
    }
    let data = b.subarray(start, start + capLen);
    let wireLen = origLen;
    if (iface.fcsBytes !== 0 && capLen === origLen && capLen >= iface.fcsBytes) {
      data = data.subarray(0, capLen - iface.fcsBytes);
      wireLen -= iface.fcsBytes;
    }
    this.#lastTsUs = tsUs;
    const frame: Frame = { tsUs, linkType: iface.linkType, data, origLen: wireLen };
    this.#stats.packets++;
    this.#stats.bytes += capLen;
    this.#sink.frame(frame);
  }

  #nameResolution(b: Uint8Array, off: number, len: number): void {
    const le = this.#le;
    const end = off + len - 4;
    for (let p = off + 8; p + 4 <= end; ) {
      const type = u16(b, p, le);
      const valueLen = u16(b, p + 2, le);
      const value = p + 4;
      if (type === NRB_END || value + valueLen > end) return;
      if (type === NRB_IPV4 && valueLen > 4) this.#names(formatIPv4(b, value), b, value + 4, value + valueLen);
      else if (type === NRB_IPV6 && valueLen > 16) this.#names(formatIPv6(b, value), b, value + 16, value + valueLen);
      p = value + ((valueLen + 3) & ~3);
    }
  }

  /** Zero-terminated names in `b[start, end)`; empty strings (padding, doubled NULs) are dropped. */
  #names(ip: string, b: Uint8Array, start: number, end: number): void {
    const names: string[] = [];
    let s = start;
    for (let i = start; i <= end; i++) {
      if (i === end || b[i] === 0) {
        if (i > s) names.push(this.#text.decode(b.subarray(s, i)));
        s = i + 1;
      }
    }
    if (names.length > 0) this.#sink.names({ ip, names });
  }

  #malformedBlock(): void {
    // The block's own length is sound, so the file goes on; only this packet is unreadable.
    this.#stats.malformed++;
  }

  #corrupt(message: string): SharkError {
    return new SharkError(this.#started ? 'CAPTURE_BAD_BLOCK' : 'CAPTURE_NOT_A_CAPTURE', `pcapng: ${message}`);
  }
}
