/**
 * Reads entries back from NDJSON (what `read -o json` writes), so saved output can be filtered
 * again: `kubectl shark read saved.ndjson --filter '...'`. The capture agent's own output (its
 * wire protocol frames) reads the same way: entry frames are unwrapped, its other frames skipped.
 * Lines are split on the bytes by the bounded LineSplitter, so a chunk boundary may fall anywhere
 * and a line longer than the limit is skipped and counted (memory stays bounded by the limit, time
 * linear in the input); a line that is neither an entry nor a frame is counted as malformed.
 */
import type { Entry } from '../model/entry.ts';
import { LineSplitter } from '../model/line-splitter.ts';
import type { CaptureStats } from '../remote-agent/stats.ts';
import { AGENT_FRAME_TYPES } from '../remote-agent/wire/protocol.ts';

/**
 * Longest NDJSON line read by default. An entry's line is mostly its two bodies (each at most the
 * --max-body it was captured with; base64 when binary, 4/3 larger) plus two heads of at most
 * 64 KiB: 16 MiB holds entries captured with --max-body up to 4 MiB (2 x 4 MiB x 4/3 + 128 KiB is
 * about 10.8 MiB) with room for JSON escaping, 50 times the largest entry at the default 64 KiB. A
 * line is held until its end shows whether it fits, so the limit is also the memory a line can
 * cost; `read --max-line` raises it for bigger bodies.
 */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** True when the input starts (after blanks) with "{": NDJSON, never a pcap/pcapng magic. */
export function looksLikeNdjson(firstChunk: Uint8Array): boolean {
  for (const byte of firstChunk) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b;
  }
  return false;
}

/**
 * The fields that make a parsed line an entry, read through `get`: an id, a protocol and a request,
 * and both endpoints as objects (naming writes into them; a line without them is not an entry).
 * The one definition for the full parse and for NdjsonQuickReject's scan.
 */
export function hasEntryShape(get: (key: string) => unknown): boolean {
  const src = get('src');
  const dst = get('dst');
  return typeof get('id') === 'string' && typeof get('protocol') === 'object' && typeof get('request') === 'object'
    && typeof src === 'object' && src !== null && typeof dst === 'object' && dst !== null;
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return hasEntryShape((key) => v[key]);
}

/** The entry of an agent entry frame, 'other' for the agent's other frames, else null. */
function agentFrame(value: unknown): Entry | 'other' | null {
  if (typeof value !== 'object' || value === null) return null;
  const { type, entry } = value as { type?: unknown; entry?: unknown };
  if (type === 'entry') return isEntry(entry) ? entry : null;
  return typeof type === 'string' && AGENT_FRAME_TYPES.has(type) ? 'other' : null;
}

/** An agent's hello saying redaction is off, or its REDACTION_OFF warning. */
function saysRedactionOff(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; redaction?: { enabled?: unknown }; code?: unknown };
  return (v.type === 'hello' && v.redaction?.enabled === false) || (v.type === 'warning' && v.code === 'REDACTION_OFF');
}

export interface NdjsonReaderOptions {
  /** Lines longer than this many bytes are skipped and counted (default DEFAULT_MAX_LINE_BYTES). */
  readonly maxLineBytes?: number;
  /** Called for each line skipped as too long: its 1-based line number and length in bytes. */
  readonly onOversizedLine?: (lineNumber: number, bytes: number) => void;
  /** Called once if the input is agent output captured with --no-redact. */
  readonly onRedactionOff?: () => void;
  /**
   * Entries it rejects are counted and not handed out (NdjsonQuickReject: the entries a filter
   * certainly drops, known before redaction and naming).
   */
  readonly quickReject?: { rejects(entry: Entry): boolean };
}

export class NdjsonEntryReader {
  readonly #emit: (entry: Entry) => void;
  readonly #stats: CaptureStats;
  readonly #options: NdjsonReaderOptions;
  readonly #lines: LineSplitter;
  #redactionOff = false;
  /** Set while end() flushes the last line: a line without its newline that fails is a truncation. */
  #atEnd = false;
  #tail: { truncated: boolean; trailingBytes: number } = { truncated: false, trailingBytes: 0 };

  constructor(emit: (entry: Entry) => void, stats: CaptureStats, options: NdjsonReaderOptions = {}) {
    this.#emit = emit;
    this.#stats = stats;
    this.#options = options;
    this.#lines = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, {
      line: (text) => {
        if (!this.#line(text) && this.#atEnd) this.#tail = { truncated: true, trailingBytes: Buffer.byteLength(text) };
      },
      overlong: (bytes, lineNumber) => {
        this.#stats.oversizedLines++;
        this.#options.onOversizedLine?.(lineNumber, bytes);
      },
    });
  }

  push(chunk: Uint8Array): void {
    this.#lines.push(chunk);
  }

  /** A last line without its newline is still read; `truncated` when it was not a whole entry. */
  end(): { truncated: boolean; trailingBytes: number } {
    this.#atEnd = true;
    this.#lines.end();
    return this.#tail;
  }

  #line(line: string): boolean {
    // Entries and frames are objects. Anything else is rejected before JSON.parse, whose exception
    // costs microseconds: a stream of short garbage lines must not take minutes.
    if (line.trimStart().charCodeAt(0) !== 0x7b) {
      this.#stats.malformed++;
      return false;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.#stats.malformed++;
      return false;
    }
    const entry = isEntry(value) ? value : agentFrame(value);
    if (entry === 'other') {
      if (!this.#redactionOff && saysRedactionOff(value)) {
        this.#redactionOff = true;
        this.#options.onRedactionOff?.();
      }
      return true;
    }
    if (entry === null) {
      this.#stats.malformed++;
      return false;
    }
    this.#stats.entries++;
    if (this.#options.quickReject?.rejects(entry) !== true) this.#emit(entry);
    return true;
  }
}
