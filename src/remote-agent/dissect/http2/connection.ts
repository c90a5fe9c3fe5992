/**
 * One HTTP/2 connection (RFC 9113): a frame reader and an HPACK decoder per direction, the
 * streams in flight, and one entry per stream (a request and its response, pairing by stream id).
 *
 * - Header blocks (HEADERS or PUSH_PROMISE, then CONTINUATION until END_HEADERS) are joined, padding
 *   and priority removed, and bounded (`maxHeaderBlockBytes`); every block is decoded, in order,
 *   by its direction's HPACK decoder, whether or not its stream is followed, so the dynamic table
 *   stays right. SETTINGS_HEADER_TABLE_SIZE applies once the peer acknowledged it (§6.5.3).
 * - A stream's entry leaves when its response is complete (END_STREAM) and its request too, or
 *   when it is reset (RST_STREAM: `http2.reset`, and an error unless the response was whole and the
 *   code NO_ERROR), refused by GOAWAY (streams above the last stream id were not processed), left
 *   unanswered past the response timeout, or the connection ends (timeout/connection errors as
 *   HTTP/1's).
 * - PUSH_PROMISE: a pushed response is an entry of its own; its request is the promised request
 *   (the PUSH_PROMISE's header block, sent by the server), complete at once, without a body.
 * - PRIORITY, PING, WINDOW_UPDATE: read and ignored (flow control does not change what was said);
 *   every frame is counted in the stream's sizes when it is on a stream.
 * - Joined midway, or after lost bytes: the reader hunts for frames; the HPACK decoder starts (or
 *   restarts) unsynchronised, so a block that needs the unknown table fails and its stream is
 *   counted lost (`stats.protocols.http.lost`) instead of getting a wrong header. Streams that were
 *   open in a direction that lost bytes end with a dissection error.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction } from '../../tcp/stream.ts';
import { BodyCollector, bodyLimits, type BodyLimits } from '../body/body-collector.ts';
import { parseContentCodings } from '../body/content-decoding.ts';
import type { DissectContext, DissectorStream, HandOff } from '../dissector.ts';
import type { Http2Reset } from '../http1/entry.ts';
import { countLost } from '../protocol-counters.ts';
import { isUpgradeOpening } from '../http1/upgrade-opening.ts';
import { buildStreamEntry, plainHeaders, statusOf } from './entry-builder.ts';
import { errorCodeName } from './error-codes.ts';
import { Flag, FRAME_HEADER_BYTES, FrameReader, FrameType, type FrameHeader, type FrameSink } from './frames.ts';
import { isGrpcContentType, openGrpcCall } from '../grpc/index.ts';
import { HpackDecoder, type HpackField } from './hpack.ts';
import { fieldOf, isUpgraded, type H2Stream, type Message } from './stream.ts';

export interface Http2Limits {
  /** Streams in flight on one connection; past it the oldest leaves without its response. */
  readonly maxOpenStreams: number;
  /** Bytes of one encoded header block (all its fragments); a longer block is not decoded. */
  readonly maxHeaderBlockBytes: number;
  /** Bytes of one decoded header list (HPACK's bound on what a block may expand to). */
  readonly maxHeaderListBytes: number;
}

export const DEFAULT_HTTP2_LIMITS: Http2Limits = Object.freeze({
  // As HTTP/1's pending requests (DEFAULT_HTTP1_LIMITS): servers allow 100 to 1000 concurrent streams.
  maxOpenStreams: 1000,
  maxHeaderBlockBytes: 256 * 1024,
  maxHeaderListBytes: 256 * 1024,
});

/** SETTINGS parameters (RFC 9113 §6.5.2) this dissector uses. */
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
/** SETTINGS frames awaiting their ACK, per direction (a peer acknowledges in order). */
const MAX_PENDING_SETTINGS = 16;
/** How often (capture time) streams are checked for the response timeout. */
const EXPIRY_INTERVAL_US = 1_000_000;
/** Ids of streams counted lost, remembered so one stream is counted once. */
const MAX_LOST_IDS = 1024;

/** A header block being joined (HEADERS or PUSH_PROMISE, then CONTINUATION). */
interface HeaderBlock {
  readonly streamId: number;
  readonly type: number;
  /** PUSH_PROMISE: the stream it reserves. */
  readonly promisedId: number;
  readonly endStream: boolean;
  readonly startUs: number;
  readonly startOffset: number;
  readonly parts: Uint8Array[];
  bytes: number;
  /** Bytes of its frames, headers included (a stream it opens counts them). */
  frameBytes: number;
  /** Longer than maxHeaderBlockBytes: the rest is only counted, the block is not decoded. */
  tooLong: boolean;
}

/** One direction: its frames, its sender's HPACK encoder mirrored, its block and DATA in progress. */
interface Side {
  readonly reader: FrameReader;
  decoder: HpackDecoder;
  block: HeaderBlock | null;
  /** SETTINGS this direction's sender sent, not yet acknowledged: their header table size, if any. */
  readonly unacked: (number | undefined)[];
  /** The header table size the other side's encoder may use, as acknowledged (-1: the default). */
  tableSize: number;
  /** The stream and message the current DATA frame feeds (null: not followed). */
  dataStream: H2Stream | null;
  dataMessage: Message | null;
}

export class Http2Connection implements DissectorStream {
  readonly #conn: ConnectionInfo;
  readonly #ctx: DissectContext;
  readonly #limits: Http2Limits;
  readonly #body: BodyLimits;
  readonly #sides: readonly [Side, Side];
  /** Streams in flight, in order of their requests (so the first is the oldest). */
  readonly #streams = new Map<number, H2Stream>();
  /** The highest stream id opened by a request (per parity: client odd, pushed even). */
  readonly #highest = [0, 0];
  readonly #lostIds = new Set<number>();
  /** The client's direction: from the preface, the hand-off, the SYN, or the first request. */
  #clientDir: Direction | -1;
  #nextOrdinal: number;
  #closed = false;
  #nowUs = 0;
  #nextExpiryUs = 0;

  constructor(conn: ConnectionInfo, ctx: DissectContext, handOff: HandOff | null = null, limits: Http2Limits = DEFAULT_HTTP2_LIMITS) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#limits = limits;
    this.#body = bodyLimits(ctx.options.maxBodyBytes);
    this.#nextOrdinal = handOff?.nextOrdinal ?? 0;
    this.#clientDir = handOff !== null ? handOff.clientDir : conn.aIsClientKnown ? 0 : -1;
    const atBoundary = handOff !== null || conn.aIsClientKnown;
    const side = (dir: Direction): Side => ({
      reader: new FrameReader(this.#sinkFor(dir), { atBoundary, maxPayloadBytes: limits.maxHeaderBlockBytes, startOffset: handOff?.offsets[dir] ?? 0 }),
      decoder: new HpackDecoder({ synchronised: atBoundary, maxHeaderListBytes: limits.maxHeaderListBytes }),
      block: null,
      unacked: [],
      tableSize: -1,
      dataStream: null,
      dataMessage: null,
    });
    this.#sides = [side(0), side(1)];
    if (handOff !== null && isUpgradeOpening(handOff.opening)) this.#openUpgraded(handOff);
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    if (this.#closed) return;
    this.#tick(tsUs);
    this.#sides[dir].reader.push(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    if (this.#closed) return;
    this.#tick(tsUs);
    this.#sides[dir].reader.gap(lostBytes);
  }

  end(_dir: Direction, tsUs: number): void {
    if (this.#closed) return;
    this.#tick(tsUs);
  }

  close(reason: CloseReason, tsUs: number): void {
    if (this.#closed) return;
    this.#nowUs = tsUs;
    this.#closed = true;
    const before = reason === 'end-of-capture' ? 'capture ended' : `connection closed (${reason})`;
    for (const s of [...this.#streams.values()]) {
      const missing = s.response?.ended === true ? null : s.response === null ? `${before} before the response` : `${before} inside the response`;
      this.#emit(s, missing === null ? null : { type: 'connection', msg: missing });
    }
  }

  oldestPendingUs(): number {
    let oldest = Infinity;
    for (const s of this.#streams.values()) {
      oldest = s.request.startUs;
      break;
    }
    // A request still in its header block will become an entry too.
    for (const side of this.#sides) if (side.block !== null) oldest = Math.min(oldest, side.block.startUs);
    return oldest;
  }

  /** h2c: stream 1 is the HTTP/1.1 upgrade request, already complete (RFC 7540 §3.2). */
  #openUpgraded(handOff: HandOff): void {
    const opening = handOff.opening;
    if (!isUpgradeOpening(opening)) return;
    opening.claim();
    const s = this.#newStream(1, handOff.clientDir, opening, opening.ordinal);
    s.requestEndUs = opening.startUs;
    this.#highest[1] = 1;
    // The HTTP2-Settings header carries the client's SETTINGS (acknowledged by the 101, §3.2.1).
    const settings = headerIn(opening.request.headers, 'http2-settings');
    const size = settings === undefined ? undefined : tableSizeIn(Buffer.from(settings, 'base64url'));
    if (size !== undefined) this.#applyTableSize(handOff.clientDir === 0 ? 1 : 0, size);
  }

  #tick(tsUs: number): void {
    this.#nowUs = tsUs;
    if (tsUs >= this.#nextExpiryUs) {
      this.#nextExpiryUs = tsUs + EXPIRY_INTERVAL_US;
      this.#expire(tsUs);
    }
  }

  /** Requests complete and unanswered for longer than the response timeout leave with a timeout error. */
  #expire(nowUs: number): void {
    const timeout = this.#ctx.options.responseTimeoutUs;
    for (const s of this.#streams.values()) {
      if (s.response === null && nowUs - s.requestEndUs > timeout) this.#emit(s, { type: 'timeout', msg: `no response within ${timeout / 1e6} s` });
    }
  }

  #sinkFor(dir: Direction): FrameSink {
    return {
      preface: () => {
        if (this.#clientDir === -1) this.#clientDir = dir;
      },
      frame: (h, payload) => this.#frame(dir, h, payload),
      dataStart: (h) => this.#dataStart(dir, h),
      data: (_h, bytes) => this.#dataBytes(dir, bytes),
      dataLost: (_h, n) => this.#dataLost(dir, n),
      dataEnd: (h) => this.#dataEnd(dir, h),
      syncLost: (lost) => this.#syncLost(dir, lost),
      resynced: () => undefined,
      violation: () => this.#ctx.violation(),
    };
  }

  #frame(dir: Direction, h: FrameHeader, payload: Uint8Array | null): void {
    const side = this.#sides[dir];
    if (h.streamId !== 0) {
      const s = this.#streams.get(h.streamId);
      if (s !== undefined) s.frameBytes[dir] += FRAME_HEADER_BYTES + h.length;
    }
    if (side.block !== null && h.type !== FrameType.CONTINUATION) {
      // RFC 9113 §6.10: nothing may come between a block's frames. The block is lost, and the table with it.
      this.#ctx.violation();
      this.#blockFailed(dir, side.block);
      side.block = null;
    }
    switch (h.type) {
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE:
        return this.#blockStart(dir, h, payload);
      case FrameType.CONTINUATION:
        return this.#continuation(dir, h, payload);
      case FrameType.RST_STREAM:
        if (payload !== null && payload.length === 4) this.#reset(dir, h.streamId, u32(payload, 0));
        return;
      case FrameType.SETTINGS:
        if (payload !== null) this.#settings(dir, h, payload);
        return;
      case FrameType.GOAWAY:
        if (payload !== null && payload.length >= 8) this.#goaway(dir, u32(payload, 0) & 0x7fffffff, u32(payload, 4));
        return;
      default:
        // PRIORITY, PING, WINDOW_UPDATE, and extension frames (ignored, RFC 9113 §5.5).
        return;
    }
  }

  #blockStart(dir: Direction, h: FrameHeader, payload: Uint8Array | null): void {
    const side = this.#sides[dir];
    const push = h.type === FrameType.PUSH_PROMISE;
    let fragment: Uint8Array | null = null;
    let promisedId = 0;
    if (payload !== null) {
      let start = 0;
      let pad = 0;
      if ((h.flags & Flag.PADDED) !== 0) {
        pad = payload[0] ?? 0;
        start = 1;
      }
      if (!push && (h.flags & Flag.PRIORITY) !== 0) start += 5;
      if (push) {
        promisedId = start + 4 <= payload.length ? u32(payload, start) & 0x7fffffff : 0;
        start += 4;
      }
      if (start + pad <= payload.length) fragment = payload.subarray(start, payload.length - pad);
      else this.#ctx.violation(); // padding longer than the payload (RFC 9113 §6.2): the block is unreadable
    }
    const block: HeaderBlock = {
      streamId: h.streamId,
      type: h.type,
      promisedId,
      endStream: !push && (h.flags & Flag.END_STREAM) !== 0,
      startUs: h.tsUs,
      startOffset: h.offset,
      parts: [],
      bytes: fragment?.length ?? 0,
      frameBytes: FRAME_HEADER_BYTES + h.length,
      tooLong: fragment === null,
    };
    if ((h.flags & Flag.END_HEADERS) !== 0) return this.#blockEnd(dir, block, fragment);
    if (fragment !== null) block.parts.push(fragment.slice());
    side.block = block;
  }

  #continuation(dir: Direction, h: FrameHeader, payload: Uint8Array | null): void {
    const side = this.#sides[dir];
    const block = side.block;
    if (block === null || block.streamId !== h.streamId) {
      // Midway a CONTINUATION may follow a HEADERS we did not see; anywhere else it is a violation.
      if (block !== null) {
        this.#ctx.violation();
        this.#blockFailed(dir, block);
        side.block = null;
      }
      return;
    }
    const n = payload?.length ?? 0;
    block.bytes += n;
    block.frameBytes += FRAME_HEADER_BYTES + h.length;
    if (payload === null || block.bytes > this.#limits.maxHeaderBlockBytes) {
      block.tooLong = true;
      block.parts.length = 0;
    } else if (!block.tooLong) {
      block.parts.push(payload.slice());
    }
    if ((h.flags & Flag.END_HEADERS) !== 0) {
      side.block = null;
      this.#blockEnd(dir, block, null);
    }
  }

  /** A whole block: decoded, then given to its stream. `single` is the one fragment when there was one frame. */
  #blockEnd(dir: Direction, block: HeaderBlock, single: Uint8Array | null): void {
    if (block.tooLong) {
      this.#ctx.violation();
      return this.#blockFailed(dir, block);
    }
    const bytes = single ?? (block.parts.length === 1 ? block.parts[0]! : Buffer.concat(block.parts, block.bytes));
    const side = this.#sides[dir];
    const result = side.decoder.decode(bytes);
    if (!result.ok) {
      if (result.desynchronised) this.#desync(dir);
      return this.#blockFailed(dir, block);
    }
    if (block.type === FrameType.PUSH_PROMISE) return this.#promised(dir, block, result.fields);
    this.#headers(dir, block, result.fields);
  }

  /** A block that could not be read: its stream is lost (a request) or ends with an error (a response). */
  #blockFailed(dir: Direction, block: HeaderBlock): void {
    // Whatever the block held never reached the table: what follows cannot be trusted to decode.
    if (block.tooLong) this.#desync(dir);
    const id = block.type === FrameType.PUSH_PROMISE ? block.promisedId : block.streamId;
    const s = this.#streams.get(id);
    if (s === undefined || block.type === FrameType.PUSH_PROMISE) return this.#lost(id);
    if (dir !== s.clientDir && s.response === null) {
      s.problem ??= { type: 'dissection', msg: 'the response header block could not be decoded (HPACK state unknown)' };
      this.#emit(s, null);
    }
  }

  #headers(dir: Direction, block: HeaderBlock, fields: readonly HpackField[]): void {
    const id = block.streamId;
    let s = this.#streams.get(id);
    if (s === undefined) {
      if (fieldOf(fields, ':method') === undefined) {
        // A response or trailers of a stream whose request we did not see (joined midway), or of one already gone.
        if (fieldOf(fields, ':status') !== undefined && id > this.#highest[id & 1]!) this.#lost(id);
        return;
      }
      if (this.#clientDir === -1) this.#clientDir = dir;
      if (id <= this.#highest[id & 1]!) {
        // A new request on a stream id already used breaks RFC 9113 §5.1.1: not followed.
        this.#ctx.violation();
        return;
      }
      this.#highest[id & 1] = id;
      s = this.#newStream(id, dir, this.#message(block, fields), this.#nextOrdinal++);
      s.frameBytes[dir] += block.frameBytes; // its frames came before the stream was known
      this.#openGrpc(s, fields);
    } else if (dir === s.clientDir) {
      // Request trailers: nothing in the entry shows them; they may end the request.
    } else if (s.response === null) {
      const status = statusOf(fields);
      if (status >= 100 && status < 200 && status !== 101) return; // informational: the final response follows
      if (status === 0) return this.#headlessResponse(s, block, fields);
      s.response = this.#message(block, fields);
      if (s.grpc === null) this.#openGrpc(s, fields);
      s.grpc?.responseHeaders(plainHeaders(fields));
    } else {
      s.trailers = s.trailers === null ? [...fields] : [...s.trailers, ...fields];
      s.grpc?.trailers(plainHeaders(fields));
    }
    if (block.endStream) this.#sideEnded(s, dir);
  }

  /**
   * A block without `:status` where the response should start: the trailers of a response whose
   * HEADERS were lost in the capture (or a malformed response, RFC 9113 §8.3.2). Never shown as a
   * response with made-up fields: the entry has none, and says why; gRPC still gets its status.
   */
  #headlessResponse(s: H2Stream, block: HeaderBlock, fields: readonly HpackField[]): void {
    s.problem ??= { type: 'dissection', msg: 'the response header block is missing (lost in the capture, or no :status)' };
    s.grpc?.trailers(plainHeaders(fields));
    if (block.endStream) this.#emit(s, null);
  }

  /** PUSH_PROMISE: the promised stream's request, sent by the server on the client's behalf. */
  #promised(dir: Direction, block: HeaderBlock, fields: readonly HpackField[]): void {
    const id = block.promisedId;
    if (id === 0 || this.#streams.has(id) || id <= this.#highest[id & 1]!) {
      this.#ctx.violation();
      return;
    }
    this.#highest[id & 1] = id;
    const clientDir: Direction = dir === 0 ? 1 : 0;
    const s = this.#newStream(id, clientDir, this.#message(block, fields), this.#nextOrdinal++, true);
    // The PUSH_PROMISE stands for the request: its frames are the request's size.
    s.frameBytes[clientDir] += block.frameBytes;
    this.#sideEnded(s, clientDir);
  }

  #message(block: HeaderBlock, fields: readonly HpackField[]): Message {
    const codings = parseContentCodings(fieldOf(fields, 'content-encoding'));
    return {
      startUs: block.startUs,
      startOffset: block.startOffset,
      fields,
      headersSize: block.bytes,
      body: new BodyCollector(this.#body, codings),
      ended: false,
    };
  }

  #openGrpc(s: H2Stream, fields: readonly HpackField[]): void {
    if (!isGrpcContentType(fieldOf(fields, 'content-type'))) return;
    const req = s.request;
    if (isUpgraded(req)) return;
    s.grpc = openGrpcCall(plainHeaders(req.fields), this.#ctx.options);
  }

  #newStream(id: number, clientDir: Direction, request: H2Stream['request'], ordinal: number, pushed = false): H2Stream {
    if (this.#streams.size >= this.#limits.maxOpenStreams) {
      const oldest = this.#streams.values().next().value!;
      this.#emit(oldest, { type: 'pair-not-found', msg: `more than ${this.#limits.maxOpenStreams} streams open on the connection` });
    }
    const s: H2Stream = {
      id,
      ordinal,
      clientDir,
      pushed,
      request,
      requestEndUs: Infinity,
      response: null,
      trailers: null,
      frameBytes: [0, 0],
      reset: null,
      problem: null,
      grpc: null,
    };
    this.#streams.set(id, s);
    return s;
  }

  #dataStart(dir: Direction, h: FrameHeader): void {
    const side = this.#sides[dir];
    side.dataStream = null;
    side.dataMessage = null;
    if (side.block !== null) {
      this.#ctx.violation();
      this.#blockFailed(dir, side.block);
      side.block = null;
    }
    const s = this.#streams.get(h.streamId);
    if (s === undefined) return;
    s.frameBytes[dir] += FRAME_HEADER_BYTES + h.length;
    const msg = dir === s.clientDir ? s.request : s.response;
    if (msg === null || isUpgraded(msg) || msg.ended) return;
    side.dataStream = s;
    side.dataMessage = msg;
  }

  #dataBytes(dir: Direction, bytes: Uint8Array): void {
    const side = this.#sides[dir];
    const msg = side.dataMessage;
    if (msg === null) return;
    msg.body.push(bytes);
    const s = side.dataStream!;
    if (s.grpc !== null) {
      if (dir === s.clientDir) s.grpc.requestData(bytes);
      else s.grpc.responseData(bytes);
    }
  }

  #dataLost(dir: Direction, n: number): void {
    const side = this.#sides[dir];
    const msg = side.dataMessage;
    if (msg === null) return;
    msg.body.lose(n);
    const s = side.dataStream!;
    s.problem ??= { type: 'dissection', msg: `${n} body bytes lost in the capture` };
    s.grpc?.gap(dir === s.clientDir ? 'request' : 'response', n);
  }

  #dataEnd(dir: Direction, h: FrameHeader): void {
    const side = this.#sides[dir];
    const s = side.dataStream;
    side.dataStream = null;
    side.dataMessage = null;
    if (s !== null && (h.flags & Flag.END_STREAM) !== 0) this.#sideEnded(s, dir);
  }

  /** The frame boundary of `dir` is lost: its block, its table and its open messages with it. */
  #syncLost(dir: Direction, lost: number): void {
    this.#ctx.violation();
    const side = this.#sides[dir];
    if (side.block !== null) this.#blockFailed(dir, side.block);
    side.block = null;
    side.dataStream = null;
    side.dataMessage = null;
    this.#desync(dir);
    for (const s of this.#streams.values()) {
      const msg = dir === s.clientDir ? s.request : s.response;
      if (msg !== null && !isUpgraded(msg) && !msg.ended) {
        s.problem ??= { type: 'dissection', msg: `${lost} bytes lost in the capture` };
        s.grpc?.gap(dir === s.clientDir ? 'request' : 'response', lost);
      }
    }
  }

  /** The table of `dir` is unknown from here: a fresh decoder that refuses blocks needing it. */
  #desync(dir: Direction): void {
    const side = this.#sides[dir];
    side.decoder = new HpackDecoder({ synchronised: false, maxHeaderListBytes: this.#limits.maxHeaderListBytes });
    if (side.tableSize >= 0) side.decoder.setMaxTableSize(side.tableSize);
  }

  #sideEnded(s: H2Stream, dir: Direction): void {
    if (dir === s.clientDir) {
      if (s.requestEndUs === Infinity) s.requestEndUs = this.#nowUs;
      const req = s.request;
      if (!isUpgraded(req)) req.ended = true;
    } else if (s.response !== null) {
      s.response.ended = true;
    }
    if (s.response?.ended === true && s.requestEndUs !== Infinity) this.#emit(s, null);
  }

  #reset(dir: Direction, id: number, code: number): void {
    const s = this.#streams.get(id);
    if (s === undefined) return;
    const reset: Http2Reset = { by: dir === s.clientDir ? 'client' : 'server', code, name: errorCodeName(code) };
    s.reset = reset;
    const whole = s.response?.ended === true;
    this.#emit(s, whole && code === 0 ? null : { type: 'connection', msg: `stream reset by the ${reset.by} (${reset.name})` });
  }

  #settings(dir: Direction, h: FrameHeader, payload: Uint8Array): void {
    const side = this.#sides[dir];
    const other = this.#sides[dir === 0 ? 1 : 0];
    if ((h.flags & Flag.ACK) !== 0) {
      // The sender of `dir` acknowledges the other side's oldest SETTINGS: its encoder may now use that table size.
      if (other.unacked.length === 0) return;
      const size = other.unacked.shift();
      if (size !== undefined) this.#applyTableSize(dir, size);
      return;
    }
    if (side.unacked.length < MAX_PENDING_SETTINGS) side.unacked.push(tableSizeIn(payload));
  }

  /** The encoder of `dir`'s sender may use a table of `size` bytes. */
  #applyTableSize(dir: Direction, size: number): void {
    const side = this.#sides[dir];
    side.tableSize = size;
    side.decoder.setMaxTableSize(size);
  }

  /** GOAWAY: streams the receiver opened above `last` were not processed (RFC 9113 §6.8). */
  #goaway(dir: Direction, last: number, code: number): void {
    const byServer = this.#clientDir === -1 ? true : dir !== this.#clientDir;
    const parity = byServer ? 1 : 0; // client streams are odd, pushed ones even
    const msg = `the ${byServer ? 'server' : 'client'} sent GOAWAY (${errorCodeName(code)}, last stream ${last}): stream not processed`;
    for (const s of [...this.#streams.values()]) {
      if ((s.id & 1) === parity && s.id > last) this.#emit(s, { type: 'connection', msg });
    }
  }

  /** A stream we cannot follow (its request unseen or undecodable): counted once, never emitted. */
  #lost(id: number): void {
    if (this.#lostIds.has(id)) return;
    if (this.#lostIds.size >= MAX_LOST_IDS) this.#lostIds.clear();
    this.#lostIds.add(id);
    countLost(this.#ctx.stats, 'http');
  }

  #emit(s: H2Stream, missing: EntryError | null): void {
    if (!this.#streams.delete(s.id)) return;
    const clientIsA = s.clientDir === 0;
    const { a, b } = this.#conn;
    const req = s.request;
    const requestDir: Direction = s.pushed ? (s.clientDir === 0 ? 1 : 0) : s.clientDir;
    const requestSeq = isUpgraded(req) ? req.requestSeq : this.#conn.sequenceAt?.(requestDir, req.startOffset);
    if (s.response === null) this.#ctx.stats.unpairedRequests++;
    const entry = buildStreamEntry({
      id: `${connectionLabel(this.#conn)}-${s.ordinal}`,
      client: clientIsA ? a : b,
      server: clientIsA ? b : a,
      stream: s,
      error: missing ?? s.problem,
    });
    this.#ctx.emit(entry, requestSeq === undefined ? {} : { requestSeq });
  }
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/** SETTINGS_HEADER_TABLE_SIZE in a SETTINGS payload (the last one wins), or undefined. */
function tableSizeIn(payload: Uint8Array): number | undefined {
  let size: number | undefined;
  for (let i = 0; i + 6 <= payload.length; i += 6) {
    if (((payload[i]! << 8) | payload[i + 1]!) === SETTINGS_HEADER_TABLE_SIZE) size = u32(payload, i + 2);
  }
  return size;
}

/** A header of a HAR header map, by name in any case. */
function headerIn(headers: Readonly<Record<string, string>>, lowerName: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lowerName) return v;
  return undefined;
}
