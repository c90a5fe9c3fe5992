/**
 * Builds small Ethernet/IPv4/TCP pcap captures around arbitrary application bytes, so HTTP-level
 * damage (bad lengths, chunk sizes, header floods) can be sent through the whole reader.
 * Checksums are left zero (readers do not verify them).
 */
import type { Prng } from '../bench/prng.ts';

export interface Exchange {
  readonly client: Uint8Array;
  readonly server: Uint8Array;
}

export interface ConversationOptions {
  /** Largest segment; segments are cut at random sizes up to it. */
  readonly maxSegment: number;
  /** Send SYN/SYN-ACK/ACK first (else the stream starts mid-connection). */
  readonly handshake: boolean;
  /** Send FIN/FIN at the end. */
  readonly close: boolean;
  readonly clientPort: number;
  readonly serverPort: number;
}

interface Frame {
  readonly tsUs: number;
  readonly bytes: Uint8Array;
}

export class TcpCaptureBuilder {
  readonly #frames: Frame[] = [];
  #tsUs = 1_700_000_000_000_000;

  /** Adds one connection's packets (client = 10.0.0.1, server = 10.0.0.2 + index). */
  conversation(rng: Prng, index: number, exchanges: readonly Exchange[], opts: ConversationOptions): void {
    const cIp = [10, 0, (index >> 8) & 0xff, index & 0xff];
    const sIp = [10, 9, 0, 2];
    let cSeq = rng.u32();
    let sSeq = rng.u32();
    const frame = (fromClient: boolean, flags: number, payload: Uint8Array): void => {
      const seq = fromClient ? cSeq : sSeq;
      const ack = fromClient ? sSeq : cSeq;
      this.#frames.push({
        tsUs: (this.#tsUs += rng.int(1, 2000)),
        bytes: tcpFrame(fromClient ? cIp : sIp, fromClient ? sIp : cIp, fromClient ? opts.clientPort : opts.serverPort, fromClient ? opts.serverPort : opts.clientPort, seq, ack, flags, payload),
      });
      const adv = payload.length + (flags & 0x03 ? 1 : 0);
      if (fromClient) cSeq = (cSeq + adv) >>> 0;
      else sSeq = (sSeq + adv) >>> 0;
    };
    const empty = new Uint8Array(0);
    if (opts.handshake) {
      frame(true, 0x02, empty);
      frame(false, 0x12, empty);
      frame(true, 0x10, empty);
    }
    const send = (fromClient: boolean, bytes: Uint8Array): void => {
      for (let off = 0; off < bytes.length; ) {
        const n = Math.min(bytes.length - off, rng.int(1, Math.max(1, opts.maxSegment)));
        frame(fromClient, 0x18, bytes.subarray(off, off + n));
        off += n;
      }
    };
    for (const ex of exchanges) {
      send(true, ex.client);
      send(false, ex.server);
    }
    if (opts.close) {
      frame(true, 0x11, empty);
      frame(false, 0x11, empty);
      frame(true, 0x10, empty);
    }
  }

  /** Interleaves frames of different conversations a little, then writes the pcap. */
  build(rng: Prng, interleave: boolean): Uint8Array {
    const frames = this.#frames.slice();
    if (interleave) {
      for (let i = frames.length - 1; i > 0; i--) {
        if (!rng.chance(0.2)) continue;
        const j = Math.max(0, i - rng.int(1, 8));
        const t = frames[i]!;
        frames[i] = frames[j]!;
        frames[j] = t;
      }
    }
    let total = 24;
    for (const f of frames) total += 16 + f.bytes.length;
    const out = new Uint8Array(total);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, 262_144, true);
    v.setUint32(20, 1, true);
    let p = 24;
    for (const f of frames) {
      v.setUint32(p, Math.floor(f.tsUs / 1e6), true);
      v.setUint32(p + 4, f.tsUs % 1e6, true);
      v.setUint32(p + 8, f.bytes.length, true);
      v.setUint32(p + 12, f.bytes.length, true);
      out.set(f.bytes, p + 16);
      p += 16 + f.bytes.length;
    }
    return out;
  }
}

export function tcpFrame(src: number[], dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(14 + 20 + 20 + payload.length);
  const v = new DataView(out.buffer);
  out.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  out[14] = 0x45;
  v.setUint16(16, Math.min(0xffff, 40 + payload.length));
  v.setUint16(20, 0x4000);
  out[22] = 64;
  out[23] = 6;
  out.set(src, 26);
  out.set(dst, 30);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  v.setUint32(38, seq >>> 0);
  v.setUint32(42, ack >>> 0);
  out[46] = 5 << 4;
  out[47] = flags;
  v.setUint16(48, 65535);
  out.set(payload, 54);
  return out;
}

/**
 * Splits one side's bytes into `parts` runs at random cuts, so a damage generator's two directions
 * can alternate as in a conversation (exchange i: client run i, server run i).
 */
export function splitIntoRuns(rng: Prng, bytes: Buffer, parts: number): Buffer[] {
  const cuts = Array.from({ length: parts - 1 }, () => rng.int(0, bytes.length)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}
