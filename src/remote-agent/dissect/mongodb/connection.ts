/**
 * Pair stage of one MongoDB connection: each direction cut into messages by the shared framer
 * (int32 length header, messages over 48 MB refused as MongoDB refuses them, a message start found
 * again after a gap), requests paired with the reply whose `responseTo` is their `requestID`
 * (pairing/by-id.ts), entries emitted.
 *
 * - A request with moreToCome (an unacknowledged write) and the legacy write opcodes get no reply:
 *   they are emitted at once, with no response and no error.
 * - Exhaust (a reply with moreToCome: exhaust cursors, the streaming `hello` of server monitoring):
 *   the next reply answers the previous reply's requestID. Each reply of such a stream is an entry
 *   of its own, with the request it streams for and its place in the stream (`streamIndex`); the
 *   later ones are stamped at their own arrival (elapsedTime 0).
 * - Which side is the client comes from the messages: requests have responseTo 0 (or are legacy
 *   request opcodes), replies name a request.
 *
 * Memory: per connection at most MAX_PENDING requests wait and their kept documents at most
 * MAX_PENDING_CHARS; past either, a request comes out at once, unanswered. At most MAX_STREAMS
 * exhaust streams are followed.
 */
import { isoFromMicros } from '../../../model/entry.ts';
import type { Endpoint, EntryError } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction, type SocketAddress } from '../../tcp/stream.ts';
import type { DissectContext, DissectorStream } from '../dissector.ts';
import { MessageFramer, type FramedMessage } from '../framing/message-framer.ts';
import { IdPairing, type UnansweredReason } from '../pairing/by-id.ts';
import { commandFacts, documentRunText, documentsText, replyFacts, splitNamespace, wireName } from './documents.ts';
import type { MongodbDocuments, MongodbEntry, MongodbRequest, MongodbResponse, MongodbSequence } from './entry.ts';
import { findMessageStart } from './sniff.ts';
import { HEADER_BYTES, OP, opcodeName, parseWireMessage, plausibleHeader, type DocumentBytes, type WireMessage } from './wire.ts';
import { unansweredAtClose } from '../pairing/close-error.ts';

export const MAX_PENDING = 1024;
export const MAX_PENDING_CHARS = 8 * 1024 * 1024;
const MAX_STREAMS = 64;
const MAX_ANSWERED = 16;
/** Bytes of one message kept: enough for the documents shown, bounded whatever --max-body says. */
const MIN_KEEP_BYTES = 1024 * 1024;
const MAX_KEEP_BYTES = 16 * 1024 * 1024;

export function keepBytesFor(maxBodyBytes: number): number {
  return Math.min(MAX_KEEP_BYTES, Math.max(MIN_KEEP_BYTES, 4 * maxBodyBytes));
}

interface Pending {
  readonly request: MongodbRequest;
  readonly clientDir: Direction;
  readonly startUs: number;
  readonly entryId: string;
  readonly chars: number;
}

interface ExhaustStream {
  readonly pending: Pending;
  readonly index: number;
}

function charsOf(request: MongodbRequest): number {
  return (request.document?.text.length ?? 0) + request.sequences.reduce((n, s) => n + s.documents.text.length, 0);
}

function isReply(w: WireMessage): boolean {
  return w.opcode === OP.REPLY || (w.opcode === OP.MSG && w.responseTo !== 0);
}

/** Requests no reply answers: OP_MSG with moreToCome, legacy writes and cursor kills. */
function expectsNoReply(w: WireMessage): boolean {
  if (w.opcode === OP.MSG) return w.flags.includes('moreToCome');
  return w.opcode === OP.INSERT || w.opcode === OP.UPDATE || w.opcode === OP.DELETE || w.opcode === OP.KILL_CURSORS;
}

const LEGACY_COMMANDS: Readonly<Record<number, string>> = {
  [OP.GET_MORE]: 'getMore',
  [OP.INSERT]: 'insert',
  [OP.UPDATE]: 'update',
  [OP.DELETE]: 'delete',
  [OP.KILL_CURSORS]: 'killCursors',
};

export class MongodbConnection implements DissectorStream {
  readonly #ctx: DissectContext;
  readonly #conn: ConnectionInfo;
  readonly #idPrefix: string;
  readonly #framers: [MessageFramer, MessageFramer];
  readonly #pairing: IdPairing<number, Pending>;
  readonly #streams = new Map<number, ExhaustStream>();
  readonly #maxBody: number;
  readonly #keepBytes: number;
  #nextOrdinal = 0;
  #pendingChars = 0;
  #closeError: EntryError = { type: 'timeout', msg: 'no response' };
  #closed = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#idPrefix = connectionLabel(conn);
    this.#maxBody = ctx.options.maxBodyBytes;
    this.#keepBytes = keepBytesFor(ctx.options.maxBodyBytes);
    const spec = {
      frameLength: (head: Uint8Array) => {
        if (head.length < HEADER_BYTES) return 'more' as const;
        return plausibleHeader(head)?.length ?? ('bad' as const);
      },
      maxKeepBytes: this.#keepBytes,
      resync: findMessageStart,
    };
    const lost = (): void => ctx.violation();
    this.#framers = [
      new MessageFramer(spec, (m) => this.#message(0, m), lost),
      new MessageFramer(spec, (m) => this.#message(1, m), lost),
    ];
    this.#pairing = new IdPairing<number, Pending>(
      { maxPending: MAX_PENDING, timeoutUs: ctx.options.responseTimeoutUs, maxAnswered: MAX_ANSWERED },
      ctx.stats,
      (p) => `${p.request.opcode}|${p.request.size}|${p.request.command}`,
      (p, reason) => this.#unanswered(p, reason),
    );
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#pairing.expire(tsUs);
    this.#framers[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    this.#framers[dir].gap(lostBytes, tsUs);
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = unansweredAtClose(reason);
    this.#streams.clear();
    this.#pairing.closeAll();
    this.#framers[0].reset();
    this.#framers[1].reset();
  }

  /**
   * Exhaust streams are not pending: their next reply is stamped at its own arrival, so it never
   * holds back the entries of other connections (a streaming hello replies every ten seconds, forever).
   */
  oldestPendingUs(): number {
    return this.#pairing.oldestPendingUs();
  }

  #message(dir: Direction, m: FramedMessage): void {
    // A message the capture lost bytes of is not read: its documents would be misread.
    if (m.lostBytes > 0) return;
    const w = parseWireMessage(m.bytes, m.length, m.truncated, { maxKeepBytes: this.#keepBytes });
    if (w.problem !== undefined) this.#ctx.violation();
    if (isReply(w)) this.#reply(w, m);
    else this.#request(dir, w, m);
  }

  #request(dir: Direction, w: WireMessage, m: FramedMessage): void {
    const request = this.#buildRequest(w, m.length);
    const pending: Pending = { request, clientDir: dir, startUs: m.startUs, entryId: `${this.#idPrefix}-${this.#nextOrdinal}`, chars: charsOf(request) };
    if (expectsNoReply(w)) {
      this.#nextOrdinal++;
      this.#emit(pending, null, 0, 0, null);
      return;
    }
    if (this.#pendingChars + pending.chars > MAX_PENDING_CHARS) {
      this.#nextOrdinal++;
      this.#ctx.stats.unpairedRequests++;
      this.#emit(pending, null, 0, 0, { type: 'pair-not-found', msg: 'too many MongoDB requests waiting for a reply' });
      return;
    }
    if (this.#pairing.request(w.requestId, pending, m.startUs) === 'new') {
      this.#nextOrdinal++;
      this.#pendingChars += pending.chars;
    }
  }

  #reply(w: WireMessage, m: FramedMessage): void {
    const stream = this.#streams.get(w.responseTo);
    let pending: Pending;
    let index = 0;
    if (stream !== undefined) {
      this.#streams.delete(w.responseTo);
      pending = stream.pending;
      index = stream.index;
    } else {
      const outcome = this.#pairing.response(w.responseTo, m.startUs);
      if (outcome.kind !== 'paired') return;
      pending = outcome.request;
      this.#pendingChars -= pending.chars;
    }
    const response = this.#buildResponse(w, m.length, index);
    if (response.moreToCome) {
      if (this.#streams.size >= MAX_STREAMS) this.#streams.delete(this.#streams.keys().next().value!);
      this.#streams.set(w.requestId, { pending, index: index + 1 });
    }
    this.#emit(pending, response, m.startUs, m.length, null);
  }

  #unanswered(p: Pending, reason: UnansweredReason): void {
    this.#pendingChars -= p.chars;
    const error: EntryError =
      reason === 'closed' ? this.#closeError
      : reason === 'evicted' ? { type: 'pair-not-found', msg: 'too many MongoDB requests waiting for a reply' }
      : reason === 'superseded' ? { type: 'pair-not-found', msg: 'another request reused its requestID before a reply' }
      : { type: 'timeout', msg: 'no response' };
    this.#emit(p, null, 0, 0, error);
  }

  #documentText(d: DocumentBytes | null): MongodbDocuments | null {
    return d === null ? null : documentsText([d], false, { size: d.size, cut: !d.complete }, this.#maxBody);
  }

  #sequences(w: WireMessage): MongodbSequence[] {
    const out: MongodbSequence[] = w.sequences.map((s) => ({ identifier: wireName(s.identifier), documents: documentRunText(s, this.#maxBody) }));
    // OP_UPDATE's update document: shown as a sequence of one, beside its selector.
    if (w.opcode === OP.UPDATE && w.documents !== null) out.push({ identifier: 'update', documents: documentRunText(w.documents, this.#maxBody) });
    return out;
  }

  #buildRequest(w: WireMessage, size: number): MongodbRequest {
    let facts = commandFacts(w.body);
    const ns = w.fullCollectionName;
    if (ns !== undefined) {
      const { database, collection } = splitNamespace(ns);
      if (w.opcode === OP.QUERY && collection === '$cmd') facts = { ...facts, database: facts.database || database };
      else facts = { command: w.opcode === OP.QUERY ? 'find' : LEGACY_COMMANDS[w.opcode] ?? '', database, collection };
    } else if (w.opcode === OP.KILL_CURSORS) {
      facts = { ...facts, command: 'killCursors' };
    }
    const document = w.opcode === OP.INSERT && w.documents !== null ? documentRunText(w.documents, this.#maxBody) : this.#documentText(w.body);
    return {
      opcode: opcodeName(w.opcode),
      requestId: w.requestId,
      responseTo: w.responseTo,
      flags: w.flags,
      ...(w.compressor === undefined ? {} : { compressor: w.compressor }),
      decoded: w.decoded,
      size,
      command: facts.command,
      database: facts.database,
      collection: facts.collection,
      document,
      sequences: this.#sequences(w),
      moreToCome: w.opcode === OP.MSG && w.flags.includes('moreToCome'),
      ...(ns === undefined ? {} : { fullCollectionName: wireName(ns) }),
    };
  }

  #buildResponse(w: WireMessage, size: number, streamIndex: number): MongodbResponse {
    const legacy = w.opcode === OP.REPLY;
    const docs = w.documents?.documents ?? [];
    const first = legacy ? (docs[0] ?? null) : w.body;
    let facts = replyFacts(first, legacy && w.flags.includes('queryFailure'));
    if (legacy && w.flags.includes('cursorNotFound')) {
      facts = { ...facts, success: false, errorCode: 43, errorCodeName: 'CursorNotFound', errorMessage: facts.errorMessage || 'cursor not found' };
    }
    let document: MongodbDocuments | null;
    if (!legacy) document = this.#documentText(w.body);
    else if (w.documents === null) document = null;
    else if (docs.length === 1) document = this.#documentText(docs[0]!);
    else document = documentRunText(w.documents, this.#maxBody);
    return {
      opcode: opcodeName(w.opcode),
      requestId: w.requestId,
      responseTo: w.responseTo,
      flags: w.flags,
      ...(w.compressor === undefined ? {} : { compressor: w.compressor }),
      decoded: w.decoded,
      size,
      ...facts,
      // A compressed reply that could not be opened: its outcome is unknown, not a failure.
      ...(w.decoded ? {} : { success: true }),
      document,
      sequences: this.#sequences(w),
      ...(legacy ? { cursorId: (w.cursorId ?? 0n).toString(), numberReturned: w.numberReturned ?? 0 } : {}),
      streamIndex,
      moreToCome: w.opcode === OP.MSG && w.flags.includes('moreToCome'),
    };
  }

  #emit(p: Pending, response: MongodbResponse | null, responseUs: number, responseSize: number, error: EntryError | null): void {
    const client = p.clientDir === 0 ? this.#conn.a : this.#conn.b;
    const server = p.clientDir === 0 ? this.#conn.b : this.#conn.a;
    // Later replies of an exhaust stream are entries of their own: ids go on counting.
    const streamed = response !== null && response.streamIndex > 0;
    const id = streamed ? `${this.#idPrefix}-${this.#nextOrdinal++}` : p.entryId;
    // A later reply of an exhaust stream was not asked for again: it starts (and ends) at its arrival.
    const startUs = streamed ? responseUs : p.startUs;
    const entry: MongodbEntry = {
      id,
      protocol: { name: 'mongodb', version: '', abbr: 'MONGODB' },
      src: endpoint(client),
      dst: endpoint(server),
      timestamp: Math.floor(startUs / 1000),
      startTime: isoFromMicros(startUs),
      elapsedTime: response === null ? 0 : Math.max(0, (responseUs - startUs) / 1000),
      requestSize: p.request.size,
      responseSize,
      tls: false,
      request: streamed ? { ...p.request } : p.request,
      response,
      error,
    };
    this.#ctx.emit(entry, {});
  }
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}
