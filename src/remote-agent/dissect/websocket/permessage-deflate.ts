/**
 * permessage-deflate (RFC 7692): what the 101 response negotiated, and inflating messages.
 *
 * Why node:zlib's one-shot inflateRawSync with a preset dictionary, and not a zlib stream: the
 * pipeline is synchronous (see ../body/content-decoding.ts) and Node's zlib streams deliver output
 * asynchronously. With context takeover, a message may refer back into the previous messages'
 * data (the LZ77 window, at most 32 KiB); handing the inflater the last 32 KiB of earlier output
 * as its dictionary makes exactly those references resolve, so each message decodes on its own.
 * Memory stays bounded: the window is at most 32 KiB per direction, the compressed input is capped
 * by the caller, and the output by `maxOutputLength` (a decompression bomb stops there).
 */
import zlib from 'node:zlib';

export interface DeflateParams {
  /** The client resets its compressor after every message (client_no_context_takeover). */
  readonly clientNoContextTakeover: boolean;
  /** The server resets its compressor after every message (server_no_context_takeover). */
  readonly serverNoContextTakeover: boolean;
}

/**
 * The permessage-deflate parameters the server accepted, from the 101 response's
 * Sec-WebSocket-Extensions (RFC 7692 §5, RFC 6455 §9.1: `name; param; param=value, name2`), or
 * null when it did not accept the extension (then RSV1 on a frame is a protocol violation).
 */
export function negotiatedDeflate(extensionsHeader: string | undefined): DeflateParams | null {
  if (extensionsHeader === undefined) return null;
  // The server accepts at most one offer per extension; the first permessage-deflate is it.
  for (const ext of extensionsHeader.split(',')) {
    const parts = ext.split(';').map((p) => p.trim().toLowerCase());
    if (parts[0] !== 'permessage-deflate') continue;
    const names = new Set(parts.slice(1).map((p) => p.split('=')[0].trim()));
    return {
      clientNoContextTakeover: names.has('client_no_context_takeover'),
      serverNoContextTakeover: names.has('server_no_context_takeover'),
    };
  }
  return null;
}

/** The 32 KiB LZ77 window: the most any deflate back-reference reaches (RFC 1951 §2). */
const WINDOW_BYTES = 32 * 1024;
/** Appended to every message before inflating (RFC 7692 §7.2.2). */
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

export type InflateResult =
  /**
   * `bytes`: the message, or its first bytes when `complete` is false (the input was cut, or the
   * output passed `maxOutputLength`: then `overflow` is true and the size is unknown).
   */
  | { readonly ok: true; readonly bytes: Uint8Array; readonly complete: boolean; readonly overflow: boolean }
  | { readonly ok: false; readonly reason: string };

/** Inflates the messages of one direction, in order. */
export class MessageInflater {
  readonly #takeover: boolean;
  /** The last output bytes (context takeover only), or null before the first message. */
  #window: Buffer | null = null;
  /** Set when the window is unknown (a message could not be inflated whole): later ones cannot be. */
  #lost: string | null = null;

  /** `contextTakeover`: the sender keeps its compression context from message to message. */
  constructor(contextTakeover: boolean) {
    this.#takeover = contextTakeover;
  }

  /**
   * `compressed`: the message's payload (frames joined); `inputComplete`: false when the caller
   * kept only a prefix of it. At most `maxOutputLength` bytes are produced; past that, the first
   * `prefixBytes` of the output are returned (found cheaply, see #prefix).
   */
  inflate(compressed: Uint8Array, inputComplete: boolean, maxOutputLength: number, prefixBytes: number): InflateResult {
    if (this.#lost !== null) return { ok: false, reason: this.#lost };
    // The tail closes the message's last block; a cut input has no end to close.
    const input = inputComplete ? Buffer.concat([compressed, TAIL]) : Buffer.from(compressed);
    const dictionary = this.#takeover ? this.#window : null;
    let out: Buffer;
    let overflow = false;
    try {
      out = inflate(input, dictionary, maxOutputLength);
    } catch (err) {
      const reason = zlibFailure(err);
      if (reason !== 'ERR_BUFFER_TOO_LARGE') return this.#fail(`permessage-deflate: ${reason}`);
      out = this.#prefix(compressed, dictionary, prefixBytes);
      overflow = true;
    }
    const complete = inputComplete && !overflow;
    if (this.#takeover) {
      // Later messages refer back into this one: the window must be exact, or they cannot decode.
      if (!complete) this.#lost = 'permessage-deflate: an earlier message could not be inflated whole';
      else this.#window = slideWindow(this.#window, out);
    }
    return { ok: true, bytes: out, complete, overflow };
  }

  /**
   * The first bytes of a message whose output is too large (a decompression bomb): the longest
   * input prefix whose output fits in `max` bytes, by binary search. Each try stops once its output
   * passes `max` bytes, so the work is bounded by log2(input) tries of about `max` bytes each.
   */
  #prefix(compressed: Uint8Array, dictionary: Buffer | null, max: number): Buffer {
    let fits: Buffer = Buffer.alloc(0);
    let lo = 0;
    let hi = compressed.length;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      try {
        fits = inflate(Buffer.from(compressed.subarray(0, mid)), dictionary, max);
        lo = mid;
      } catch (err) {
        if (zlibFailure(err) !== 'ERR_BUFFER_TOO_LARGE') return fits;
        hi = mid;
      }
    }
    return fits;
  }

  #fail(reason: string): InflateResult {
    if (this.#takeover) this.#lost = `${reason} in an earlier message`;
    return { ok: false, reason };
  }
}

/** Inflates raw deflate data, stopping quietly where the input ends (sync flush), never past `max` bytes. */
function inflate(input: Buffer, dictionary: Buffer | null, max: number): Buffer {
  const options: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, max) };
  if (dictionary !== null) options.dictionary = dictionary;
  return zlib.inflateRawSync(input, options);
}

/**
 * zlib reports corrupt input and over-long output with a string code (Z_DATA_ERROR,
 * ERR_BUFFER_TOO_LARGE): that is bad input. Anything else is a bug and goes up to be counted as one.
 */
function zlibFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') throw err;
  return code;
}

function slideWindow(window: Buffer | null, out: Buffer): Buffer {
  if (out.length >= WINDOW_BYTES) return Buffer.from(out.subarray(out.length - WINDOW_BYTES));
  if (window === null) return Buffer.from(out);
  const joined = Buffer.concat([window, out]);
  return joined.length > WINDOW_BYTES ? Buffer.from(joined.subarray(joined.length - WINDOW_BYTES)) : joined;
}
