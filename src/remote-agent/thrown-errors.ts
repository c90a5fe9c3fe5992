/**
 * Bugs are not bad input. Two kinds of exception can come out of a stage that handles captured
 * bytes, and they are counted apart:
 *
 * - `ProtocolViolation`: the bytes break the protocol (a length past any limit, a frame type that
 *   cannot occur). A dissector throws it to give up on a connection it cannot follow; it is bad
 *   input, counted in `dissectionErrors` like the violations a parser resynchronises after, and
 *   by the registry under the protocol of the dissector that threw it (dissect/protocol-counters.ts).
 * - Anything else (TypeError, RangeError, a failed assertion) is a bug in kubectl-shark: counted in
 *   `internalErrors`, and the first stack of each distinct throw site reported once (the agent as an
 *   INTERNAL_ERROR warning frame, `read` as one stderr line), so it gets noticed and fixed instead
 *   of passing for hostile traffic. Tests fail on any.
 *
 * Either way the connection it came from is dropped and the capture goes on with the rest.
 */
import { sanitizeLine } from '../model/terminal-text.ts';
import type { CaptureStats } from './stats.ts';

/** Thrown by a dissector for captured bytes that violate its protocol (bad input, not a bug). */
export class ProtocolViolation extends Error {
  /** The dissector's id ("http/1"), for messages. */
  readonly protocol: string;

  constructor(protocol: string, message: string) {
    super(message);
    this.name = 'ProtocolViolation';
    this.protocol = protocol;
  }
}

/** One distinct internal error, ready to show: a single line, sanitised, bounded. */
export interface InternalErrorReport {
  /** Where it was caught and where it was thrown (error name and first stack frame). */
  readonly site: string;
  /** `internal error (a bug: please report) in <where>: <name>: <message> | at <frame> | ...`. */
  readonly message: string;
}

/** Distinct sites reported per capture run; further ones are only counted (bounded output and memory). */
export const MAX_REPORTED_SITES = 10;
/** The error's own message may quote captured bytes: cut to this many characters. */
const MAX_MESSAGE_CHARS = 200;
const MAX_STACK_FRAMES = 8;
const MAX_FRAME_CHARS = 200;

/** Counts internal errors of one capture run and reports each distinct site once. */
export class InternalErrors {
  readonly #stats: CaptureStats;
  readonly #report: ((report: InternalErrorReport) => void) | undefined;
  readonly #sites = new Set<string>();

  constructor(stats: CaptureStats, report?: (report: InternalErrorReport) => void) {
    this.#stats = stats;
    this.#report = report;
  }

  /** A bug surfaced at `where` (a short fixed text such as "http/1 stream data"). */
  record(err: unknown, where: string): void {
    this.#stats.internalErrors++;
    if (this.#sites.size >= MAX_REPORTED_SITES) return;
    const { name, message, frames } = describe(err);
    const site = `${where}: ${name} ${frames[0] ?? '(no stack)'}`;
    if (this.#sites.has(site)) return;
    this.#sites.add(site);
    const more = this.#sites.size === MAX_REPORTED_SITES ? ' (further distinct internal errors are only counted)' : '';
    const text = [`internal error (a bug: please report) in ${where}: ${name}: ${message}`, ...frames].join(' | ');
    this.#report?.({ site: sanitizeLine(site), message: sanitizeLine(text) + more });
  }
}

/**
 * Counts an exception a stage caught from code that handles captured bytes: a ProtocolViolation as
 * bad input, anything else as a bug.
 */
export function countThrown(err: unknown, stats: CaptureStats, internal: InternalErrors, where: string): void {
  if (err instanceof ProtocolViolation) stats.dissectionErrors++;
  else internal.record(err, where);
}

function describe(err: unknown): { name: string; message: string; frames: string[] } {
  if (!(err instanceof Error)) return { name: typeof err, message: cut(String(err), MAX_MESSAGE_CHARS), frames: [] };
  const frames: string[] = [];
  for (const line of (err.stack ?? '').split('\n')) {
    const t = line.trim();
    if (!t.startsWith('at ')) continue;
    frames.push(cut(t, MAX_FRAME_CHARS));
    if (frames.length === MAX_STACK_FRAMES) break;
  }
  return { name: cut(err.name, 40), message: cut(err.message, MAX_MESSAGE_CHARS), frames };
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
