/**
 * KFL errors: thrown internally as KflCompileError (so the lexer, parser and compiler can stop at
 * the first problem), turned into the KflError value of api.ts at the boundary by compileKfl.
 * Positions are 0-based offsets internally; the public column is 1-based.
 */
import type { KflError, KflErrorCode } from './api.ts';

export class KflCompileError extends Error {
  readonly code: KflErrorCode;
  /** 0-based offset into the query. */
  readonly start: number;
  readonly length: number;

  constructor(code: KflErrorCode, message: string, start: number, length: number) {
    super(message);
    this.code = code;
    this.start = start;
    this.length = Math.max(1, length);
  }
}

/** Longest token text quoted in a message; long strings would drown the point of the message. */
const MAX_QUOTED = 24;

/** `"text"` for messages, shortened with an ellipsis when long. */
export function quote(text: string): string {
  const short = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED - 1)}…` : text;
  return `"${short}"`;
}

/**
 * The public error value. The display is exactly three lines: the query (tabs and line breaks
 * shown as spaces so the caret stays under the right column), the caret line, the message.
 */
export function toKflError(query: string, code: KflErrorCode, message: string, start: number, length: number): KflError {
  const column = start + 1;
  const width = Math.max(1, length);
  const shown = query.replace(/[\t\r\n\v\f]/g, ' ');
  const carets = `${' '.repeat(start)}${'^'.repeat(width)}`;
  return { code, message, column, length: width, display: `${shown}\n${carets}\nerror: ${message}` };
}
