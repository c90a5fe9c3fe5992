/** Turning kept body bytes into HAR text: UTF-8 when valid, else base64. */
import { isUtf8 } from 'node:buffer';
import type { BodyEncoding } from '../../../model/entry.ts';

export interface BodyText {
  readonly text: string;
  readonly encoding?: BodyEncoding;
}

/**
 * Length of `bytes` without a UTF-8 sequence cut at the end. Used only when the body was
 * truncated at the keep limit, so a character split by the limit does not make the whole body
 * look binary.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const len = bytes.length;
  for (let i = len - 1; i >= 0 && i >= len - 4; i--) {
    const b = bytes[i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > len ? i : len;
  }
  return len;
}

export function bodyText(bytes: Uint8Array, truncated: boolean): BodyText {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) return { text: '' };
  const utf8Len = truncated ? completeUtf8Length(buf) : buf.length;
  const utf8 = buf.subarray(0, utf8Len);
  if (isUtf8(utf8)) return { text: utf8.toString('utf8') };
  return { text: buf.toString('base64'), encoding: 'base64' };
}
