/**
 * Content-Encoding decoding (RFC 9110 §8.4.1) with node:zlib.
 *
 * Why the one-shot sync calls and not a zlib stream: the pipeline is synchronous (an entry is
 * emitted inside the `data`/`close` call that completes it), and Node's streaming zlib only
 * delivers output asynchronously. Memory stays bounded because the encoded input is capped by
 * the caller and the output by `maxOutputLength`; the decoded buffer is transient (one decode at
 * a time on this thread) and only the kept prefix survives it.
 */
import zlib from 'node:zlib';

export type DecodeResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/** Codings we can undo; 'identity' never reaches here. */
const KNOWN = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/** Parses a Content-Encoding value into codings in the order they were applied. */
export function parseContentCodings(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

export function canDecode(codings: readonly string[]): boolean {
  return codings.length > 0 && codings.every((c) => KNOWN.has(c));
}

/**
 * Undoes `codings` (last applied first). Truncated input decodes as far as it goes (sync flush),
 * because a capture often ends mid-body.
 */
export function decodeContent(input: Uint8Array, codings: readonly string[], maxOutputLength: number): DecodeResult {
  let bytes = input;
  try {
    for (let i = codings.length - 1; i >= 0; i--) bytes = decodeOne(bytes, codings[i], maxOutputLength);
    return { ok: true, bytes };
  } catch (err) {
    // zlib reports corrupt or over-long input with a string code (Z_DATA_ERROR, ERR_BUFFER_TOO_LARGE):
    // that is bad input. Anything else is a bug and goes up to be counted as one.
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') throw err;
    return { ok: false, reason: code };
  }
}

function decodeOne(input: Uint8Array, coding: string, maxOutputLength: number): Uint8Array {
  const zopts = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(input, zopts);
    case 'deflate':
      // "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate.
      return hasZlibHeader(input) ? zlib.inflateSync(input, zopts) : zlib.inflateRawSync(input, zopts);
    case 'br':
      return zlib.brotliDecompressSync(input, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength });
    default:
      throw new Error(`unsupported coding ${coding}`);
  }
}

/** RFC 1950 §2.2: CM = 8 and the 16-bit header is a multiple of 31. */
function hasZlibHeader(b: Uint8Array): boolean {
  return b.length >= 2 && (b[0] & 0x0f) === 8 && ((b[0] << 8) | b[1]) % 31 === 0;
}
