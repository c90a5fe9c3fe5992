/**
 * Test support: WebSocket frames and permessage-deflate messages as a peer would send them, and
 * the HTTP/1 upgrade that opens a connection. Frames are encoded here independently of the parser
 * (RFC 6455 §5.2 written out), so a parser bug is not mirrored by the encoder.
 */
import zlib from 'node:zlib';

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: string | Uint8Array;
  /** Default true. */
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). */
  readonly rsv?: number;
  /** Masking key (client frames); none for server frames. */
  readonly mask?: readonly [number, number, number, number];
  /** Forces the 16- or 64-bit length form even for short payloads. */
  readonly lengthForm?: 7 | 16 | 64;
}

export const TEXT = 0x1;
export const BINARY = 0x2;
export const CONT = 0x0;
export const CLOSE = 0x8;
export const PING = 0x9;
export const PONG = 0xa;

/** A masking key as clients use (any 4 bytes). */
export const KEY: readonly [number, number, number, number] = [0x37, 0xfa, 0x21, 0x3d];

export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : Buffer.from(spec.payload ?? new Uint8Array(0));
  const n = payload.length;
  const form = spec.lengthForm ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = spec.mask !== undefined ? 0x80 : 0;
  if (form === 7) head.push(maskBit | n);
  else if (form === 16) head.push(maskBit | 126, (n >> 8) & 0xff, n & 0xff);
  else {
    head.push(maskBit | 127);
    const hi = Math.floor(n / 0x1_0000_0000);
    for (const v of [hi, n >>> 0]) head.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  const body = Buffer.from(payload);
  if (spec.mask !== undefined) {
    head.push(...spec.mask);
    for (let i = 0; i < body.length; i++) body[i] ^= spec.mask[i % 4];
  }
  return Buffer.concat([Buffer.from(head), body]);
}

/** A close payload: status code and reason. */
export function closePayload(code: number, reason = ''): Buffer {
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8')]);
}

/**
 * A permessage-deflate sender (RFC 7692 §7.2.1): one raw deflate stream, sync-flushed after each
 * message, the trailing 00 00 ff ff removed. With `takeover` false it starts afresh per message.
 */
export class DeflateSender {
  readonly #takeover: boolean;
  #history = Buffer.alloc(0);

  constructor(takeover: boolean) {
    this.#takeover = takeover;
  }

  compress(text: string | Uint8Array): Buffer {
    const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
    // Compressing history + message in one sync-flushed stream and cutting the history's part
    // would not be byte-exact; instead the previous messages are the preset dictionary, which is
    // what a compressor with context takeover may refer back into.
    const options: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (this.#takeover && this.#history.length > 0) options.dictionary = this.#history.subarray(-32768);
    const out = zlib.deflateRawSync(data, options);
    if (this.#takeover) this.#history = Buffer.concat([this.#history, data]).subarray(-32768);
    const tail = out.subarray(out.length - 4);
    if (!tail.equals(Buffer.from([0, 0, 0xff, 0xff]))) throw new Error('deflate output does not end in a sync flush');
    return out.subarray(0, out.length - 4);
  }
}

export const UPGRADE_REQUEST = (extensions = ''): string =>
  'GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  (extensions === '' ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
  '\r\n';

export const SWITCHING = (extensions = ''): string =>
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  (extensions === '' ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
  '\r\n';
