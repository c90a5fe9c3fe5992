/**
 * Push parser for one direction of an HTTP/1.x connection (RFC 9112), with explicit states so
 * chunks may split anywhere, one byte at a time included. It finds message boundaries and body
 * bytes; pairing and entries are the connection's job (connection.ts), reached through hooks.
 */
import { BodyCollector, type BodyLimits } from '../body/body-collector.ts';
import type { EntryError } from '../../../model/entry.ts';
import { parseContentCodings } from '../body/content-decoding.ts';
import { fieldValue, parseHead, type HeaderField, type MessageHead } from './head.ts';
import type { BodyPlan } from './framing.ts';
import { MessageStartScanner, type AcceptedKinds } from './start-scanner.ts';
import { ChunkedBodyDecoder } from './chunked-body.ts';

/** One parsed (or cut short) message, handed to the connection. */
export interface ParsedMessage {
  readonly head: MessageHead;
  /** Capture time of the first byte of the start line. */
  readonly startUs: number;
  /** Where the start line begins in this direction's stream (bytes delivered and lost before it). */
  readonly startOffset: number;
  /** Wire bytes: head, body with transfer framing, trailers (lost bytes included). */
  wireBytes: number;
  readonly body: BodyCollector;
  /** Set when the message is incomplete (gap, truncation, bad framing). */
  problem: EntryError | null;
  /** Opaque slot for the connection (the pending request this response answers). */
  link: unknown;
}

export interface ParserHooks {
  /** A head was parsed: the hooks decide the body framing (a response depends on its request). */
  head(msg: ParsedMessage): BodyPlan;
  /** The message is over (complete, or cut short with `problem` set). */
  message(msg: ParsedMessage): void;
  /** The grammar broke (garbage, bad head); the parser resynchronises by itself. */
  dissectionError(reason: string): void;
}

export type { AcceptedKinds } from './start-scanner.ts';

export interface ParserLimits {
  readonly maxHeadBytes: number;
  readonly body: BodyLimits;
}

const State = {
  /** At a message boundary (strict) or resynchronising (loose). */
  START: 0,
  HEAD: 1,
  BODY_LENGTH: 2,
  CHUNKED: 3,
  BODY_CLOSE: 4,
  /** Not HTTP any more (upgrade, CONNECT tunnel) or ended. */
  DEAD: 5,
  /** Not HTTP any more, and the bytes go on to another dissector (a hand-off). */
  DIVERTED: 6,
} as const;
type State = (typeof State)[keyof typeof State];

const LF = 0x0a;
const CR = 0x0d;

export class MessageParser {
  readonly #hooks: ParserHooks;
  readonly #limits: ParserLimits;
  readonly #scanner: MessageStartScanner;
  #state: State = State.START;
  /** HEAD: copied pieces of the header block so far. */
  #headParts: Uint8Array[] = [];
  /** The fields of the last head parsed on this side, whose strings the next one may share. */
  #previousFields: readonly HeaderField[] = [];
  #headLen = 0;
  #headStartUs = 0;
  #headStartOffset = 0;
  /** Stream offset of the next byte pushed: every byte pushed or lost so far. */
  #offset = 0;
  /** HEAD/TRAILERS: bytes of the current line so far and its first byte (blank-line detection). */
  #lineLen = 0;
  #lineFirst = 0;
  #msg: ParsedMessage | null = null;
  #remaining = 0;
  #chunked: ChunkedBodyDecoder | null = null;
  /** DIVERTED: where the bytes after the switch go. */
  #divertTo: ((bytes: Uint8Array, tsUs: number) => void) | null = null;
  /** Hands chunk data to the current message's body (one closure per parser, not per chunk). */
  readonly #toBody = (view: Uint8Array): void => this.#msg!.body.push(view);

  /**
   * `atBoundary`: the stream is known to start at a message (its SYN was captured), so garbage at
   * the start is an error; otherwise the capture may have started mid-message and we resync.
   */
  constructor(hooks: ParserHooks, limits: ParserLimits, atBoundary: boolean) {
    this.#hooks = hooks;
    this.#limits = limits;
    this.#scanner = new MessageStartScanner(atBoundary, (reason) => hooks.dissectionError(reason));
  }

  /** Which start lines this direction may carry, once the connection knows the client side. */
  setAccepted(kinds: AcceptedKinds): void {
    this.#scanner.setAccepted(kinds);
  }

  /** Stops parsing for good (protocol switched). */
  kill(): void {
    this.#state = State.DEAD;
    this.#msg = null;
    this.#scanner.resync(false);
    this.#headParts = [];
  }

  /**
   * Stops parsing for good (protocol switched) and sends the bytes that follow, from the rest of
   * the chunk being parsed on, to `to`. Called from the `message` hook of the last HTTP message.
   */
  divert(to: (bytes: Uint8Array, tsUs: number) => void): void {
    this.kill();
    this.#state = State.DIVERTED;
    this.#divertTo = to;
  }

  /** Stream offset of the next byte: every byte pushed or lost so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Capture time of the first byte of the message in progress; Infinity when none. */
  messageStartUs(): number {
    if (this.#msg !== null) return this.#msg.startUs;
    if (this.#state === State.HEAD) return this.#headStartUs;
    return this.#scanner.pendingStartUs();
  }

  push(bytes: Uint8Array, tsUs: number): void {
    const base = this.#offset;
    this.#offset += bytes.length;
    this.#run(bytes, 0, tsUs, base);
  }

  /** The state loop: each step consumes what it can and returns the new position (`base`: the stream offset of bytes[0]). */
  #run(bytes: Uint8Array, pos: number, tsUs: number, base: number): void {
    const len = bytes.length;
    while (pos < len) {
      switch (this.#state) {
        case State.START:
          pos = this.#start(bytes, pos, tsUs, base);
          break;
        case State.HEAD:
          pos = this.#head(bytes, pos);
          break;
        case State.BODY_LENGTH:
          pos = this.#counted(bytes, pos);
          break;
        case State.CHUNKED:
          pos = this.#chunkedBody(bytes, pos);
          break;
        case State.BODY_CLOSE:
          this.#msg!.body.push(bytes.subarray(pos));
          this.#msg!.wireBytes += len - pos;
          pos = len;
          break;
        case State.DIVERTED:
          this.#divertTo!(bytes.subarray(pos), tsUs);
          return;
        default:
          return; // DEAD
      }
    }
  }

  /**
   * `lost` bytes of this direction will never arrive. Whatever state the hole leaves us in, the
   * bytes after it are looked at as a possible message start first: a segment, and so a hole,
   * often ends where a message does (a keep-alive client or server writes one message at a time).
   */
  gap(lost: number): void {
    this.#offset += lost;
    const msg = this.#msg;
    switch (this.#state) {
      case State.BODY_LENGTH: {
        // Inside a Content-Length body the framing survives the hole: account for it.
        const inBody = Math.min(lost, this.#remaining);
        msg!.body.lose(inBody);
        msg!.wireBytes += inBody;
        this.#remaining -= inBody;
        msg!.problem ??= { type: 'dissection', msg: `${msg!.head.kind} body incomplete: ${inBody} bytes lost in capture` };
        if (this.#remaining > 0) return;
        this.#finish();
        if (this.#isDead()) return;
        this.#resync(true);
        return;
      }
      case State.BODY_CLOSE:
        msg!.body.lose(lost);
        msg!.wireBytes += lost;
        msg!.problem ??= { type: 'dissection', msg: `${msg!.head.kind} body incomplete: ${lost} bytes lost in capture` };
        return;
      case State.HEAD:
        this.#headParts = [];
        this.#hooks.dissectionError('capture gap inside a header block');
        this.#resync(true);
        return;
      case State.CHUNKED:
        // Chunk framing cannot be recovered across a hole: end the message here, keep pairing.
        msg!.body.lose(lost);
        msg!.problem ??= { type: 'dissection', msg: `${msg!.head.kind} body incomplete: ${lost} bytes lost in capture` };
        this.#finish();
        if (!this.#isDead()) this.#resync(true);
        return;
      case State.START:
        this.#resync(true);
        return;
      default:
    }
  }

  /** The sender finished (FIN) or the connection closed: ends the message in progress. */
  end(): void {
    const msg = this.#msg;
    switch (this.#state) {
      case State.BODY_CLOSE:
        this.#finish(); // close-delimited: this is the normal end (RFC 9112 §6.3 item 8)
        break;
      case State.BODY_LENGTH:
      case State.CHUNKED: {
        const what = this.#state === State.BODY_LENGTH ? `${this.#remaining} bytes of Content-Length missing` : 'chunked body not finished';
        msg!.problem = { type: 'connection', msg: `${msg!.head.kind} truncated: ${what}` };
        this.#finish();
        break;
      }
      case State.HEAD:
        this.#hooks.dissectionError('connection ended inside a header block');
        break;
      case State.START:
        this.#scanner.end();
        break;
      default:
    }
    this.kill();
  }

  /** A method, not an inline comparison: hooks called in between may have killed the parser. */
  #isDead(): boolean {
    return this.#state === State.DEAD;
  }

  #resync(atLineStart: boolean): void {
    this.#msg = null;
    this.#headParts = [];
    this.#state = State.START;
    this.#scanner.resync(atLineStart);
  }

  #start(bytes: Uint8Array, pos: number, tsUs: number, base: number): number {
    const found = this.#scanner.scan(bytes, pos, tsUs);
    if (found === null) return bytes.length;
    const startOffset = base + found.chunkOffset;
    if (found.bytes === bytes) return this.#beginHead(bytes, found.offset, found.startUs, startOffset);
    // Joined with a carried partial start line: parse the joined bytes to their end. One level
    // only: a carried candidate holds no LF, so any new carry is the tail of `joined`.
    const afterHead = this.#beginHead(found.bytes, found.offset, found.startUs, startOffset);
    this.#run(found.bytes, afterHead, tsUs, startOffset - found.offset);
    return bytes.length;
  }

  #beginHead(bytes: Uint8Array, pos: number, startUs: number, startOffset: number): number {
    this.#state = State.HEAD;
    this.#headParts = [];
    this.#headLen = 0;
    this.#headStartUs = startUs;
    this.#headStartOffset = startOffset;
    this.#lineLen = 0;
    this.#lineFirst = 0;
    return this.#head(bytes, pos);
  }

  /** Accumulates the header block until a blank line (CRLF CRLF, or lone LFs). */
  #head(bytes: Uint8Array, pos: number): number {
    const len = bytes.length;
    let lineStart = pos;
    let lf = bytes.indexOf(LF, pos);
    while (lf >= 0) {
      const lineLen = this.#lineLen + (lf - lineStart);
      const first = this.#lineLen > 0 ? this.#lineFirst : bytes[lineStart];
      // The first line is a verified start line, so a blank line here ends the block.
      if (lineLen === 0 || (lineLen === 1 && first === CR)) {
        return this.#headDone(bytes, pos, lf + 1);
      }
      this.#lineLen = 0;
      lineStart = lf + 1;
      lf = bytes.indexOf(LF, lineStart);
    }
    if (lineStart < len) {
      if (this.#lineLen === 0) this.#lineFirst = bytes[lineStart];
      this.#lineLen += len - lineStart;
    }
    this.#headLen += len - pos;
    if (this.#headLen > this.#limits.maxHeadBytes) {
      this.#hooks.dissectionError(`header block larger than ${this.#limits.maxHeadBytes} bytes`);
      this.#resync(false);
      return len;
    }
    this.#headParts.push(bytes.slice(pos));
    return len;
  }

  #headDone(bytes: Uint8Array, pos: number, end: number): number {
    const size = this.#headLen + (end - pos);
    if (size > this.#limits.maxHeadBytes) {
      this.#hooks.dissectionError(`header block larger than ${this.#limits.maxHeadBytes} bytes`);
      this.#resync(true); // right after the blank line: the next message may start here
      return end;
    }
    const tail = Buffer.from(bytes.buffer, bytes.byteOffset + pos, end - pos);
    const block = this.#headParts.length === 0 ? tail : Buffer.concat([...this.#headParts, tail], size);
    this.#headParts = [];
    const parsed = parseHead(block.toString('latin1'), size, this.#previousFields);
    if (!parsed.ok) {
      this.#hooks.dissectionError(parsed.reason);
      this.#resync(true);
      return end;
    }
    const head = parsed.head;
    this.#previousFields = head.fields;
    const msg: ParsedMessage = {
      head,
      startUs: this.#headStartUs,
      startOffset: this.#headStartOffset,
      wireBytes: size,
      body: new BodyCollector(this.#limits.body, parseContentCodings(fieldValue(head, 'content-encoding'))),
      problem: null,
      link: null,
    };
    this.#msg = msg;
    const plan = this.#hooks.head(msg);
    return this.#enterBody(msg, plan, end);
  }

  #enterBody(msg: ParsedMessage, plan: BodyPlan, pos: number): number {
    switch (plan.kind) {
      case 'none':
        this.#finish();
        return pos;
      case 'length':
        this.#state = State.BODY_LENGTH;
        this.#remaining = plan.length;
        return pos;
      case 'chunked':
        this.#state = State.CHUNKED;
        this.#chunked = new ChunkedBodyDecoder(this.#limits.maxHeadBytes);
        return pos;
      case 'close':
        this.#state = State.BODY_CLOSE;
        return pos;
      default:
        // Invalid framing: the message is unrecoverable (RFC 9112 §6.3 items 4-5).
        this.#hooks.dissectionError(plan.reason);
        msg.problem = { type: 'dissection', msg: plan.reason };
        this.#resync(true);
        return pos;
    }
  }

  #finish(): void {
    const msg = this.#msg!;
    this.#msg = null;
    this.#state = State.START;
    this.#hooks.message(msg); // may kill() this parser (upgrade)
  }

  /** BODY_LENGTH: a counted run of body bytes. */
  #counted(bytes: Uint8Array, pos: number): number {
    const msg = this.#msg!;
    const take = Math.min(this.#remaining, bytes.length - pos);
    msg.body.push(bytes.subarray(pos, pos + take));
    msg.wireBytes += take;
    this.#remaining -= take;
    if (this.#remaining === 0) this.#finish();
    return pos + take;
  }

  #chunkedBody(bytes: Uint8Array, pos: number): number {
    const dec = this.#chunked!;
    const next = dec.push(bytes, pos, this.#toBody);
    this.#msg!.wireBytes += next - pos;
    if (dec.error !== null) return this.#badChunk(dec.error, next);
    if (dec.done) this.#finish();
    return next;
  }

  /** Broken chunk framing: the message ends here (marked), then resync. */
  #badChunk(reason: string, pos: number): number {
    const msg = this.#msg!;
    this.#hooks.dissectionError(reason);
    msg.problem ??= { type: 'dissection', msg: `${msg.head.kind} body: ${reason}` };
    this.#finish();
    if (!this.#isDead()) this.#resync(false);
    return pos;
  }
}
