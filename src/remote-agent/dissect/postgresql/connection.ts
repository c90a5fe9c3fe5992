/**
 * One PostgreSQL connection: the client's messages cut into request units, the server's collected
 * into their responses until ReadyForQuery, paired in order (pairing/fifo.ts: the server answers
 * units in the order sent, and a pipelining client's units queue). Direction 0 is the client (the
 * sniff only matches what a client sends).
 *
 * The client's first messages have no type byte (startup packets); after the StartupMessage every
 * message is typed. An SSLRequest answered `S` (or GSSENCRequest answered `G`) means encryption
 * follows: the connection is no longer dissected and is counted as undissected TLS (or unknown).
 * Joined midway, the client side starts at a plausible Query or Parse, and after a gap each side
 * finds its feet again at a plausible message (Query/Parse, ReadyForQuery).
 */
import { countProtocol } from '../../../model/undissected.ts';
import type { EntryError } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction } from '../../tcp/stream.ts';
import type { DissectContext, DissectorStream } from '../dissector.ts';
import { MessageFramer, type FramedMessage, type FrameLength } from '../framing/message-framer.ts';
import { FifoPairing, type FifoSlot } from '../pairing/fifo.ts';
import { ResponseBuilder } from './backend-messages.ts';
import { buildPostgresqlEntry, type Answer } from './entry-builder.ts';
import { findQueryStart, findReadyForQuery, FRONTEND_NAMES, typedLength, untypedLength } from './message-shape.ts';
import { MAX_PARAMETERS, PARAMETER_VALUE_BYTES, PreparedStatements, type RawParameter } from './prepared-statements.ts';
import { QUERY_CHARS, RequestUnit } from './request-unit.ts';
import { WireReader } from './wire-reader.ts';

const PROTOCOL_3_0 = 196608;
const CANCEL_REQUEST = 80877102;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
/** Units waiting for their ReadyForQuery (a pipelining client sends a few). */
const MAX_PENDING_UNITS = 256;
/** Startup parameters read at most. */
const MAX_STARTUP_PARAMETERS = 64;
/** The answer of a unit the server never answers (Terminate, CancelRequest): the entry has no response, and no error. */
const NO_ANSWER_EXPECTED: Answer = Object.freeze({ kind: 'none' as const });

type ClientPhase = 'opening' | 'typed';

export class PostgresqlConnection implements DissectorStream {
  readonly #ctx: DissectContext;
  readonly #conn: ConnectionInfo;
  readonly #idPrefix: string;
  readonly #pairing: FifoPairing<RequestUnit, Answer>;
  readonly #framers: [MessageFramer, MessageFramer];
  readonly #statements = new PreparedStatements();
  readonly #maxBodyBytes: number;
  #phase: ClientPhase = 'opening';
  /** SSLRequest/GSSENCRequest sent, their one-byte answer not yet seen. */
  #encryptionAnswers = 0;
  /** Encryption was accepted: nothing more is read of the connection. */
  #stopped = false;
  #closed = false;
  /** The extended-query run not yet ended by Sync. */
  #openExtended: FifoSlot<RequestUnit, Answer> | null = null;
  /** The unit the server is answering now. */
  #answering: FifoSlot<RequestUnit, Answer> | null = null;
  /** The last unit sent (COPY data and password messages belong to it). */
  #last: FifoSlot<RequestUnit, Answer> | null = null;
  #database = '';
  #user = '';
  /** Client stream offset of the next message, while the client framing was never lost. */
  #clientOffset: number | undefined = 0;
  /** A gap was just reported: the framing lost with it is not a protocol violation. */
  #inGap = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#idPrefix = connectionLabel(conn);
    this.#maxBodyBytes = ctx.options.maxBodyBytes;
    this.#pairing = new FifoPairing<RequestUnit, Answer>(
      { maxPending: MAX_PENDING_UNITS, timeoutUs: ctx.options.responseTimeoutUs },
      ctx.stats,
      (slot, missing) => this.#emit(slot, missing),
    );
    const maxKeepBytes = Math.min(16 * 1024 * 1024, Math.max(64 * 1024, this.#maxBodyBytes + 4096));
    this.#framers = [
      new MessageFramer(
        { frameLength: (h) => this.#clientLength(h), maxKeepBytes, resync: (w) => findQueryStart(w) },
        (m) => this.#frontend(m),
        () => this.#lost(0),
      ),
      new MessageFramer(
        { frameLength: (h) => this.#serverLength(h), maxKeepBytes, resync: (w) => findReadyForQuery(w) },
        (m) => this.#backend(m),
        () => this.#lost(1),
      ),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    if (this.#stopped) return;
    this.#pairing.expire(tsUs);
    this.#framers[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    if (this.#stopped) return;
    this.#inGap = true;
    this.#framers[dir].gap(lostBytes, tsUs);
    this.#inGap = false;
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    this.#closed = true;
    // A response the server broke off (a FATAL error during startup, then the close) is shown as far as it went.
    const a = this.#answering;
    if (a !== null && a.response === null && a.request.response !== null) this.#pairing.respond(a, { kind: 'partial', response: a.request.response });
    this.#pairing.close(reason);
    this.#framers[0].reset();
    this.#framers[1].reset();
  }

  oldestPendingUs(): number {
    return this.#pairing.oldestPendingUs();
  }

  #clientLength(head: Uint8Array): FrameLength {
    if (this.#phase === 'opening') {
      // Startup packets begin with a length below 10000: a first byte 0. Anything else is a typed
      // message of a connection joined midway (or TLS after an SSLRequest, which never gets here).
      if (head[0] === 0) return untypedLength(head);
      this.#phase = 'typed';
    }
    return typedLength(head, 'frontend');
  }

  #serverLength(head: Uint8Array): FrameLength {
    if (this.#encryptionAnswers > 0 && (head[0] === 0x4e || head[0] === 0x53 || head[0] === 0x47)) return 1;
    return typedLength(head, 'backend');
  }

  #lost(dir: Direction): void {
    if (!this.#inGap) this.#ctx.violation();
    if (dir === 0) {
      this.#clientOffset = undefined;
      this.#openExtended = null;
    } else if (this.#answering !== null) {
      // The response being read lost its middle; the ReadyForQuery the framing finds again ends it.
      this.#answering.request.damaged = true;
    }
  }

  /** A new unit of the client, queued for its answer. */
  #unit(kind: RequestUnit['kind'], m: FramedMessage): FifoSlot<RequestUnit, Answer> {
    const offset = this.#clientOffset === undefined ? undefined : this.#clientOffset - m.length;
    const unit = new RequestUnit(kind, m.startUs, offset);
    const slot = this.#pairing.request(unit, m.startUs);
    this.#last = slot;
    return slot;
  }

  #frontend(m: FramedMessage): void {
    if (this.#clientOffset !== undefined) this.#clientOffset += m.length;
    const b = m.bytes;
    if (this.#phase === 'opening') return this.#startupPacket(m);
    const type = b[0]!;
    const name = FRONTEND_NAMES.get(type) ?? 'Unknown';
    const r = new WireReader(b, 5);
    switch (type) {
      case 0x51: { // Query
        const slot = this.#unit('simple-query', m);
        slot.request.setQuery(r.cstring(QUERY_CHARS));
        return this.#done(slot, name, m);
      }
      case 0x46: // FunctionCall
        return this.#done(this.#unit('function-call', m), name, m);
      case 0x58: { // Terminate: nothing answers it.
        const slot = this.#unit('terminate', m);
        this.#done(slot, name, m);
        this.#pairing.answer(slot);
        return this.#pairing.respond(slot, NO_ANSWER_EXPECTED);
      }
      case 0x70: { // PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse: named, never read.
        const last = this.#last;
        if (last === null || last.request.kind !== 'startup') return;
        const unit = last.request;
        unit.message(passwordMessageName(unit.response?.authMethod ?? '', unit.passwordMessages++), m.length, m.endUs);
        return;
      }
      case 0x64: case 0x63: case 0x66: // CopyData, CopyDone, CopyFail
        return this.#copy(type, m, r);
      case 0x53: { // Sync ends an extended-query run.
        const slot = this.#openExtended ?? this.#unit('extended-query', m);
        this.#openExtended = null;
        return this.#done(slot, name, m);
      }
      default:
        return this.#extended(type, name, m, r);
    }
  }

  /** A unit received whole at `m`'s end. */
  #done(slot: FifoSlot<RequestUnit, Answer>, name: string, m: FramedMessage): void {
    slot.request.message(name, m.length, m.endUs);
    this.#pairing.requestDone(slot, m.endUs);
  }

  #startupPacket(m: FramedMessage): void {
    const r = new WireReader(m.bytes, 4);
    const code = r.int32() >>> 0;
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.#encryptionAnswers++;
      const slot = this.#unit(code === SSL_REQUEST ? 'ssl-request' : 'gssenc-request', m);
      return this.#done(slot, code === SSL_REQUEST ? 'SSLRequest' : 'GSSENCRequest', m);
    }
    if (code === CANCEL_REQUEST) {
      const slot = this.#unit('cancel', m);
      slot.request.setCancel(r.int32() >>> 0);
      this.#done(slot, 'CancelRequest', m);
      this.#pairing.answer(slot);
      return this.#pairing.respond(slot, NO_ANSWER_EXPECTED);
    }
    this.#phase = 'typed';
    if (code >>> 16 !== PROTOCOL_3_0 >>> 16) {
      // Protocol 2 or something else: not what this dissector reads.
      this.#ctx.violation();
      return;
    }
    const params: Record<string, string> = {};
    for (let i = 0; i < MAX_STARTUP_PARAMETERS && r.remaining > 1 && !r.short; i++) {
      const key = r.cstring(256);
      if (key === '') break;
      const value = r.cstring(1024);
      if (key === '__proto__') continue;
      // A password passed as a startup option is never kept.
      params[key] = /password/i.test(key) ? '[REDACTED]' : value;
    }
    this.#database = params['database'] ?? params['user'] ?? '';
    this.#user = params['user'] ?? '';
    const slot = this.#unit('startup', m);
    slot.request.setStartupParameters(params);
    this.#done(slot, 'StartupMessage', m);
  }

  #copy(type: number, m: FramedMessage, r: WireReader): void {
    const slot = this.#answering?.request.response?.copyIn === true ? this.#answering : this.#last;
    if (slot === null) return;
    const unit = slot.request;
    if (type === 0x64) {
      unit.copyData(m.bytes.subarray(5), m.length - 5, this.#maxBodyBytes);
      unit.bytes += m.length;
      unit.endUs = m.endUs;
    } else if (type === 0x66) {
      unit.copyFail(r.cstring(1024), this.#maxBodyBytes);
      unit.message('CopyFail', m.length, m.endUs);
    } else unit.message('CopyDone', m.length, m.endUs);
  }

  /** Parse, Bind, Describe, Execute, Close, Flush: part of the open extended-query run. */
  #extended(type: number, name: string, m: FramedMessage, r: WireReader): void {
    const slot = (this.#openExtended ??= this.#unit('extended-query', m));
    const unit = slot.request;
    unit.message(name, m.length, m.endUs);
    switch (type) {
      case 0x50: { // Parse
        const statement = r.cstring(256);
        const query = r.cstring(QUERY_CHARS);
        const n = Math.min(Math.max(0, r.int16()), MAX_PARAMETERS);
        const parameterTypes: number[] = [];
        for (let i = 0; i < n && !r.short; i++) parameterTypes.push(r.int32() >>> 0);
        const parsed = { query, parameterTypes };
        this.#statements.parse(statement, parsed);
        unit.prepare(statement, parsed);
        return;
      }
      case 0x42: { // Bind
        const portal = r.cstring(256);
        const statementName = r.cstring(256);
        const nFormats = Math.min(Math.max(0, r.int16()), MAX_PARAMETERS);
        const formats: number[] = [];
        for (let i = 0; i < nFormats && !r.short; i++) formats.push(r.int16());
        const n = Math.min(Math.max(0, r.int16()), MAX_PARAMETERS);
        const parameters: RawParameter[] = [];
        for (let i = 0; i < n && !r.short; i++) {
          const len = r.int32();
          // One format for all, or one each (0 text, 1 binary).
          const format = formats.length === 1 ? formats[0]! : (formats[i] ?? 0);
          if (len < 0) parameters.push({ format, bytes: null, length: 0 });
          // A copy of the first bytes (the message's bytes are not kept beyond this call).
          else parameters.push({ format, bytes: new Uint8Array(r.bytes(len).subarray(0, PARAMETER_VALUE_BYTES)), length: len });
        }
        this.#statements.bind(portal, { statementName, statement: this.#statements.statement(statementName), parameters });
        return;
      }
      case 0x44: { // Describe
        const kind = r.byte();
        const target = r.cstring(256);
        if (kind === 0x53) unit.describedStatements.push(target);
        return;
      }
      case 0x45: { // Execute
        const portal = r.cstring(256);
        const maxRows = r.int32();
        unit.execute(portal, this.#statements.portal(portal), maxRows);
        return;
      }
      case 0x43: { // Close
        const kind = r.byte();
        const target = r.cstring(256);
        if (kind === 0x53 || kind === 0x50) this.#statements.close(kind === 0x53 ? 'S' : 'P', target);
        return;
      }
    }
  }

  #backend(m: FramedMessage): void {
    const b = m.bytes;
    if (m.length === 1) return this.#encryptionAnswer(b[0]!, m);
    const type = b[0]!;
    let slot = this.#answering;
    if (slot === null) {
      const next = this.#pairing.nextUnanswered();
      // An answer cannot start before its request: such messages answer one the capture missed.
      if (next === undefined || next.request.startUs > m.startUs || next.response !== null) {
        if (type === 0x5a) this.#pairing.orphan();
        return;
      }
      slot = next;
      this.#answering = slot;
      this.#pairing.answer(slot);
    }
    const unit = slot.request;
    const res = (unit.response ??= new ResponseBuilder(m.startUs, this.#maxBodyBytes));
    const oids = res.message(b, m.length, m.endUs);
    if (oids !== null) {
      const name = unit.describedStatements[res.parameterDescriptions - 1];
      if (name !== undefined) this.#statements.describe(name, oids);
    }
    if (type === 0x5a) {
      this.#answering = null;
      this.#pairing.respond(slot, { kind: 'response', response: res });
    }
  }

  /** The one-byte answer to SSLRequest/GSSENCRequest: `N` goes on in the clear, `S`/`G` stops here. */
  #encryptionAnswer(answer: number, m: FramedMessage): void {
    this.#encryptionAnswers = Math.max(0, this.#encryptionAnswers - 1);
    const slot = this.#pairing.nextUnanswered();
    if (slot !== undefined && (slot.request.kind === 'ssl-request' || slot.request.kind === 'gssenc-request')) {
      this.#pairing.answer(slot);
      const res = new ResponseBuilder(m.startUs, this.#maxBodyBytes);
      res.bytes = 1;
      res.encryption(String.fromCharCode(answer));
      this.#pairing.respond(slot, { kind: 'response', response: res });
    }
    if (answer === 0x4e) return;
    // Encrypted from here: counted by what it is (TLS for SSLRequest), not read.
    this.#stopped = true;
    countProtocol(this.#ctx.stats.undissected.connections, answer === 0x53 ? 'tls' : 'unknown');
  }

  #emit(slot: FifoSlot<RequestUnit, Answer>, missing: EntryError | null): void {
    const unit = slot.request;
    const entry = buildPostgresqlEntry({
      id: `${this.#idPrefix}-${slot.ordinal}`,
      client: this.#conn.a,
      server: this.#conn.b,
      unit,
      who: { database: this.#database, user: this.#user },
      answer: slot.response,
      missing,
    });
    const requestSeq = unit.offset === undefined ? undefined : this.#conn.sequenceAt?.(0, unit.offset);
    this.#ctx.emit(entry, requestSeq === undefined ? {} : { requestSeq });
  }
}

/** What a `p` message is, from the method the server asked for and how many came before it. */
function passwordMessageName(method: string, before: number): string {
  if (method === 'SASL') return before === 0 ? 'SASLInitialResponse' : 'SASLResponse';
  if (method === 'GSS') return 'GSSResponse';
  return 'PasswordMessage';
}
