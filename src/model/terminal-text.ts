/**
 * Captured text on the user's terminal. Every string in an entry is attacker-chosen (a header value,
 * a path, a body, a name record, any field of NDJSON input), and a terminal acts on control
 * characters: ESC starts sequences that set the window title (OSC 0), write the clipboard (OSC 52)
 * or move the cursor; BEL, BS and CR overwrite what is shown; DEL erases; the C1 range
 * (U+0080-U+009F, e.g. U+009B = CSI, the UTF-8 bytes C2 9B) does what ESC does on terminals that
 * read 8-bit controls. So two rules hold for everything kubectl-shark writes to a terminal:
 *
 * - Text shown to a person goes through `sanitizeLine` (one line: a list cell, a header value, a
 *   notice) or `sanitizeBlock` (several lines: a body, a multi-line message). Each replaced
 *   character is shown as `\u` and four lower-case hex digits, `\u001b` for ESC, `\u009b` for CSI:
 *   the spelling JSON uses, so the text view and `-o json` of the same entry read the same. The
 *   replacement is for reading, not for parsing back (a literal backslash-u in the data looks the
 *   same); the exact data is in the JSON output. A replaced character takes six cells, so callers
 *   sanitise first and measure and cut afterwards.
 * - JSON keeps the exact data: `stringifyJson` is JSON.stringify with DEL and C1 (which
 *   JSON.stringify leaves raw; it escapes C0 itself) and U+2028/U+2029 (line breaks to
 *   JavaScript and some line readers) written as \u escapes: the same JSON value, byte for byte
 *   safe on a terminal.
 *
 * It lives in src/model because every layer writes to a terminal and model is the one folder all of
 * them may import: the TUI and the pipeline sinks, cmd, and the agent, whose NDJSON stdout a person
 * may run on a terminal (README, "The capture agent").
 */
import { Buffer } from 'node:buffer';

/** C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F). */
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
/** The same without TAB and LF, which are layout in a block of lines. */
const HAS_BLOCK_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const BLOCK_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** What JSON.stringify leaves raw that a terminal acts on (DEL, C1), plus U+2028/U+2029. */
const HAS_JSON_RAW = /[\u007f-\u009f\u2028\u2029]/;
const JSON_RAW = /[\u007f-\u009f\u2028\u2029]/g;

/** Columns between tab stops, as terminals have them by default. */
export const TAB_STOP = 8;

/** `\u001b` for ESC: the JSON spelling of one UTF-16 unit. */
export function escapeCodeUnit(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** One line of display text: every control character, TAB, CR and LF included, shown escaped. */
export function sanitizeLine(text: string): string {
  return HAS_CONTROL.test(text) ? text.replace(CONTROLS, escapeCodeUnit) : text;
}

/**
 * Several lines of display text: LF stays a line break (CRLF too, as LF), TAB becomes spaces up to
 * the next tab stop (a terminal moves the cursor for it, which no layout engine measures), and
 * every other control character is shown escaped.
 */
export function sanitizeBlock(text: string): string {
  if (!HAS_BLOCK_CONTROL.test(text)) return text;
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  return lines.map((line) => expandTabs(line.replace(BLOCK_CONTROLS, escapeCodeUnit))).join('\n');
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let added = 0;
  return line.replace(/\t/g, (_tab: string, offset: number) => {
    const spaces = TAB_STOP - ((offset + added) % TAB_STOP);
    added += spaces - 1;
    return ' '.repeat(spaces);
  });
}

/**
 * JSON.stringify whose output carries no character a terminal acts on, for NDJSON on stdout.
 * Those characters can only stand inside JSON strings, where a \u escape means the same.
 *
 * This is on the hot path of `read -o json`. Most lines are pure ASCII: then only DEL can be
 * there, and two native scans (a one-character indexOf, a UTF-8 byte count equal to the length)
 * prove it, about 3x faster than the regex scan (measured on 12 KB lines: ~4 µs against ~12 µs,
 * JSON.stringify itself ~25 µs). Other lines get the regex test, and the replace only on a match.
 */
export function stringifyJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json.indexOf('\u007f') === -1 && Buffer.byteLength(json, 'utf8') === json.length) return json;
  return terminalSafeJson(json);
}

/**
 * JSON text (as JSON.stringify wrote it) with DEL, C1 and U+2028/U+2029 written as \u escapes:
 * stringifyJson's second half, for writers that prove the common pure-ASCII case their own way
 * (src/pipeline/sinks/line-writer.ts learns it from the UTF-8 encoder's byte count).
 */
export function terminalSafeJson(json: string): string {
  return HAS_JSON_RAW.test(json) ? json.replace(JSON_RAW, escapeCodeUnit) : json;
}
