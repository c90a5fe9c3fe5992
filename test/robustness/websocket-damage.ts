/**
 * Fuzz cases for the hand-off path: captures of WebSocket connections after an HTTP/1 upgrade,
 * with and without permessage-deflate, whose frames are then damaged: bit flips, cut streams,
 * random bytes, lengths up to 2^63, control frames over 125 bytes, reserved bits and opcodes,
 * decompression bombs and corrupt deflate data. A pure function of (master seed, case index).
 */
import type { Prng } from '../bench/prng.ts';
import { Prng as Rng } from '../bench/prng.ts';
import { BINARY, CLOSE, CONT, DeflateSender, PING, PONG, SWITCHING, TEXT, UPGRADE_REQUEST, closePayload, frame } from '../helpers/websocket-frames.ts';
import zlib from 'node:zlib';
import type { FuzzCase } from './fuzz-cases.ts';
import { splitIntoRuns, TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

/** A zero-filled message that inflates to 96 MiB (past the 64 MiB bound), deflated once per process. */
let bombPayload: Buffer | null = null;
function bomb(): Buffer {
  if (bombPayload === null) {
    const z = zlib.deflateRawSync(Buffer.alloc(96 * 1024 * 1024), { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    bombPayload = z.subarray(0, z.length - 4);
  }
  return bombPayload;
}

function mask(rng: Prng): [number, number, number, number] {
  return [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
}

/** One side's frames: a random mix of messages as a peer would send them. */
function messages(rng: Prng, fromClient: boolean, deflate: DeflateSender | null, what: string[]): Buffer[] {
  const out: Buffer[] = [];
  const m = (): [number, number, number, number] | undefined => (fromClient ? mask(rng) : undefined);
  const n = rng.int(1, 12);
  for (let i = 0; i < n; i++) {
    const kind = rng.int(0, 7);
    // Random bytes as latin1 characters: up to two UTF-8 bytes each once framed.
    const text = Buffer.from(rng.bytes(rng.int(0, 300))).toString('latin1');
    switch (kind) {
      case 0:
        out.push(frame({ opcode: TEXT, payload: text, mask: m() }));
        break;
      case 1:
        out.push(frame({ opcode: BINARY, payload: rng.bytes(rng.int(0, 70_000)), mask: m() }));
        break;
      case 2: {
        // Fragmented, with a ping between the fragments.
        out.push(frame({ opcode: TEXT, payload: 'first ', fin: false, mask: m() }));
        out.push(frame({ opcode: PING, payload: 'x', mask: m() }));
        out.push(frame({ opcode: CONT, payload: text, mask: m() }));
        break;
      }
      case 3:
        out.push(frame({ opcode: rng.pick([PING, PONG]), payload: rng.bytes(rng.int(0, 125)), mask: m() }));
        break;
      case 4:
        out.push(frame({ opcode: CLOSE, payload: closePayload(rng.pick([1000, 1001, 1002, 4000, 0, 65535]), text.slice(0, 61)), mask: m() }));
        break;
      case 5:
        if (deflate !== null) out.push(frame({ opcode: TEXT, rsv: 4, payload: deflate.compress(`{"password":"x","n":${i},"t":${JSON.stringify(text)}}`), mask: m() }));
        break;
      case 6:
        if (deflate !== null && rng.chance(0.15)) {
          out.push(frame({ opcode: BINARY, rsv: 4, payload: bomb(), mask: m() }));
          what.push('bomb');
        } else if (deflate !== null) {
          out.push(frame({ opcode: BINARY, rsv: 4, payload: rng.bytes(rng.int(1, 200)), mask: m() }));
          what.push('corrupt-deflate');
        }
        break;
      default:
        out.push(frame({ opcode: TEXT, payload: text, mask: m(), lengthForm: rng.pick([16, 64] as const) }));
    }
  }
  return out;
}

/** Damage to a side's frame bytes (after the hand-off point). */
function damage(rng: Prng, bytes: Buffer, what: string[]): Buffer {
  if (bytes.length === 0) return bytes;
  const out = Buffer.from(bytes);
  switch (rng.int(0, 6)) {
    case 0: {
      const n = rng.int(1, 16);
      for (let i = 0; i < n; i++) out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      what.push(`bitflips(${n})`);
      return out;
    }
    case 1: {
      const at = rng.int(0, out.length);
      what.push(`cut@${at}`);
      return out.subarray(0, at);
    }
    case 2: {
      const at = rng.int(0, out.length - 1);
      out.set(rng.bytes(Math.min(rng.int(1, 64), out.length - at)), at);
      what.push('random-run');
      return out;
    }
    case 3: {
      // A 64-bit length: legal but enormous, or with the top bit set.
      const len = Buffer.from([0x82, 127, rng.pick([0x00, 0x7f, 0x80, 0xff]), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
      what.push('huge-length');
      return Buffer.concat([out, len, Buffer.from(rng.bytes(rng.int(0, 2000)))]);
    }
    case 4: {
      // Reserved opcodes and bits, an oversized control frame.
      const bad = rng.pick([Buffer.from([0x83, 0x00]), Buffer.from([0xf1, 0x00]), Buffer.from([0x09, 0x00]), Buffer.concat([Buffer.from([0x88, 126, 0x00, 200]), Buffer.alloc(200)])]);
      what.push('reserved');
      return Buffer.concat([out, bad]);
    }
    case 5: {
      what.push('random-tail');
      return Buffer.concat([out, Buffer.from(rng.bytes(rng.int(1, 4000)))]);
    }
    default:
      what.push('intact');
      return out;
  }
}

export function makeWebSocketCase(masterSeed: number, index: number): FuzzCase {
  const rng = new Rng((masterSeed * 1_000_033 + index * 7 + 1) >>> 0);
  const builder = new TcpCaptureBuilder();
  const names: string[] = [];
  const conns = rng.int(1, 3);
  for (let c = 0; c < conns; c++) {
    const what: string[] = [];
    const mode = rng.pick(['off', 'takeover', 'no-takeover'] as const);
    what.push(mode);
    const ext = mode === 'off' ? '' : mode === 'takeover' ? 'permessage-deflate' : 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
    const client = Buffer.concat(messages(rng, true, mode === 'off' ? null : new DeflateSender(mode === 'takeover'), what));
    const server = Buffer.concat(messages(rng, false, mode === 'off' ? null : new DeflateSender(mode === 'takeover'), what));
    const damaged = rng.chance(0.7);
    const cBytes = damaged && rng.chance(0.5) ? damage(rng, client, what) : client;
    const sBytes = damaged && rng.chance(0.7) ? damage(rng, server, what) : server;
    const parts = rng.int(1, 4);
    const cRuns = splitIntoRuns(rng, cBytes, parts);
    const sRuns = splitIntoRuns(rng, sBytes, parts);
    const exchanges: Exchange[] = [{ client: Buffer.from(UPGRADE_REQUEST(ext), 'latin1'), server: Buffer.concat([Buffer.from(SWITCHING(ext), 'latin1'), sRuns[0]!]) }];
    for (let i = 0; i < parts; i++) exchanges.push({ client: cRuns[i]!, server: i + 1 < parts ? sRuns[i + 1]! : Buffer.alloc(0) });
    const bytes = cBytes.length + sBytes.length;
    builder.conversation(rng, c, exchanges, {
      maxSegment: rng.pick(bytes > 50_000 ? [536, 1448, 9000, 65000] : [1, 7, 100, 536, 1448, 9000]),
      handshake: rng.chance(0.9),
      close: rng.chance(0.7),
      clientPort: 41000 + c,
      serverPort: rng.pick([80, 8080, 443, 9000]),
    });
    names.push(what.join(','));
  }
  const data = builder.build(rng, rng.chance(0.3));
  const chunkBytes = rng.pick([1 + rng.int(0, 15), rng.int(16, 4096), 65536]);
  const chunk = data.length > 100_000 && chunkBytes < 512 ? 4096 : chunkBytes;
  return { masterSeed, index, description: `websocket case ${index} (seed ${masterSeed}): ${names.join(' | ')} (${data.length} bytes, chunks of ${chunk})`, data, chunkBytes: chunk };
}
