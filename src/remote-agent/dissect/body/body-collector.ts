/**
 * Collects one message body (after transfer decoding) within memory bounds, then produces the
 * HAR text and sizes. Hot path: `push` copies only what is kept and counts the rest.
 */
import type { BodyEncoding } from '../../../model/entry.ts';
import { bodyText } from './body-text.ts';
import { canDecode, decodeContent } from './content-decoding.ts';

export interface BodyLimits {
  /** Decoded bytes kept as text. */
  readonly maxKeepBytes: number;
  /** Encoded (compressed) bytes kept as decoder input. */
  readonly maxEncodedBytes: number;
  /** Transient ceiling on one decoder output. */
  readonly maxDecodedBytes: number;
}

/** Derives the decoder bounds from the kept-body option. */
export function bodyLimits(maxKeepBytes: number): BodyLimits {
  const keep = Math.max(0, Math.floor(maxKeepBytes));
  return { maxKeepBytes: keep, maxEncodedBytes: Math.max(4 * 1024 * 1024, keep), maxDecodedBytes: Math.max(64 * 1024 * 1024, keep) };
}

export interface BodySummary {
  /** Bytes after transfer decoding (lost bytes included). */
  readonly bodySize: number;
  /** Bytes after content decoding (equal to bodySize when not encoded or not decodable). */
  readonly decodedSize: number;
  readonly text: string;
  readonly encoding?: BodyEncoding;
  readonly truncated?: boolean;
}

export class BodyCollector {
  readonly #limits: BodyLimits;
  readonly #codings: readonly string[];
  readonly #cap: number;
  readonly #parts: Uint8Array[] = [];
  #kept = 0;
  #size = 0;
  /** Some bytes were not kept (cap reached or lost in a gap). */
  #cut = false;
  #holed = false;

  constructor(limits: BodyLimits, codings: readonly string[]) {
    this.#limits = limits;
    this.#codings = canDecode(codings) ? codings : [];
    this.#cap = this.#codings.length > 0 ? limits.maxEncodedBytes : limits.maxKeepBytes;
  }

  get size(): number {
    return this.#size;
  }

  push(view: Uint8Array): void {
    this.#size += view.length;
    if (this.#cut) return;
    const room = this.#cap - this.#kept;
    if (view.length <= room) {
      this.#parts.push(view.slice());
      this.#kept += view.length;
    } else {
      if (room > 0) this.#parts.push(view.slice(0, room));
      this.#kept += room;
      this.#cut = true;
    }
  }

  /** `n` body bytes were lost in the capture: count them, keep nothing after the hole. */
  lose(n: number): void {
    this.#size += n;
    this.#cut = true;
    this.#holed = true;
  }

  get incomplete(): boolean {
    return this.#holed;
  }

  finish(): BodySummary {
    const raw = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#kept);
    const keep = this.#limits.maxKeepBytes;
    if (this.#codings.length > 0 && raw.length > 0) {
      const decoded = decodeContent(raw, this.#codings, this.#limits.maxDecodedBytes);
      if (decoded.ok) {
        const bytes = decoded.bytes;
        const truncated = bytes.length > keep || this.#cut;
        // When the encoded input was cut, only the decoded prefix is known: its size is reported.
        return { bodySize: this.#size, decodedSize: bytes.length, ...textOf(bytes.subarray(0, keep), truncated) };
      }
      // Decoding failed (corrupt data, unknown coding variant): keep the raw bytes, nothing fatal.
    }
    const truncated = this.#cut || raw.length > keep;
    return { bodySize: this.#size, decodedSize: this.#size, ...textOf(raw.subarray(0, keep), truncated) };
  }
}

function textOf(bytes: Uint8Array, truncated: boolean): { text: string; encoding?: BodyEncoding; truncated?: boolean } {
  const t = bodyText(bytes, truncated);
  const out: { text: string; encoding?: BodyEncoding; truncated?: boolean } = { text: t.text };
  if (t.encoding !== undefined) out.encoding = t.encoding;
  if (truncated) out.truncated = true;
  return out;
}
