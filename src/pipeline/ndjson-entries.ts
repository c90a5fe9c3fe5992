/**
 * Reads entries back from NDJSON (what `read -o json` writes), so saved output can be filtered
 * again: `kubectl shark read saved.ndjson --filter '...'`. The capture agent's own output (its
 * wire protocol frames) reads the same way: entry frames are unwrapped, its other frames skipped.
 * Lines are split on the bytes, so a chunk boundary may fall anywhere; a line that is neither is
 * counted as malformed and skipped.
 */
import type { Entry } from '../model/entry.ts';
import type { CaptureStats } from '../remote-agent/stats.ts';

/** True when the input starts (after blanks) with "{": NDJSON, never a pcap/pcapng magic. */
export function looksLikeNdjson(firstChunk: Uint8Array): boolean {
  for (const byte of firstChunk) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b;
  }
  return false;
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['id'] === 'string' && typeof v['protocol'] === 'object' && typeof v['request'] === 'object' && typeof v['src'] === 'object';
}

const AGENT_FRAME_TYPES = new Set(['hello', 'stats', 'warning', 'error', 'filter', 'bye']);

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

export class NdjsonEntryReader {
  readonly #emit: (entry: Entry) => void;
  readonly #stats: CaptureStats;
  readonly #onRedactionOff: (() => void) | undefined;
  #redactionOff = false;
  readonly #decoder = new TextDecoder('utf-8');
  #carry = '';

  /** `onRedactionOff` is called once if the input is agent output captured with --no-redact. */
  constructor(emit: (entry: Entry) => void, stats: CaptureStats, onRedactionOff?: () => void) {
    this.#emit = emit;
    this.#stats = stats;
    this.#onRedactionOff = onRedactionOff;
  }

  push(chunk: Uint8Array): void {
    const text = this.#carry + this.#decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#line(text.slice(start, nl));
      start = nl + 1;
    }
    this.#carry = text.slice(start);
  }

  /** A last line without its newline is still read; `truncated` when it was not a whole entry. */
  end(): { truncated: boolean; trailingBytes: number } {
    const rest = this.#carry + this.#decoder.decode();
    this.#carry = '';
    if (rest.trim() === '') return { truncated: false, trailingBytes: 0 };
    const ok = this.#line(rest);
    return { truncated: !ok, trailingBytes: ok ? 0 : rest.length };
  }

  #line(line: string): boolean {
    if (line.trim() === '') return true;
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
        this.#onRedactionOff?.();
      }
      return true;
    }
    if (entry === null) {
      this.#stats.malformed++;
      return false;
    }
    this.#stats.entries++;
    this.#emit(entry);
    return true;
  }
}
