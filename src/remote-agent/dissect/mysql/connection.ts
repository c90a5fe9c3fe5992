/**
 * One MySQL/MariaDB connection: the connection phase (greeting, login, auth exchange) as one
 * HANDSHAKE entry, then one entry per command with everything the server answered to it. The
 * protocol is strictly one command at a time, so a command with sequence id 0 also ends whatever
 * answer was still open (sequence-id driven); pairs leave through the shared FIFO in order.
 *
 * Joined midway (no greeting seen), the client direction waits for a command packet with sequence
 * id 0 and the server direction for an answer with sequence id 1. After an SSLRequest the rest is
 * TLS: nothing more is dissected, and the connection counts as undissected TLS.
 *
 * Auth data (the login's auth response, auth-switch and more-data exchanges, COM_CHANGE_USER's)
 * is never kept: its bytes are only counted.
 */
import { countProtocol } from '../../../model/undissected.ts';
import { isoFromMicros } from '../../../model/entry.ts';
import type { Endpoint, EntryError } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction, type SocketAddress } from '../../tcp/stream.ts';
import type { DissectContext, DissectorStream, SniffResult } from '../dissector.ts';
import { FifoPairing, type FifoSlot } from '../pairing/fifo.ts';
import { CAP, COM, capabilityNames, commandName, isKnownCommand } from './codes.ts';
import { HANDSHAKE_COMMAND, MYSQL_PROTOCOL_NAME, type MysqlEntry, type MysqlRequest, type MysqlResponse } from './entry.ts';
import { PacketJoiner, packetLength, type MysqlPacket } from './packet-joiner.ts';
import { parseChangeUser, parseExecute, parseGreeting, parseLogin, text, type ColumnDef, type ParamType } from './packets.ts';
import { ResponseReader, type AnswerKind } from './response-reader.ts';
import { sniffAnswer, sniffCommand, sniffGreeting } from './sniff.ts';

/** Commands waiting for an answer at most (the protocol has one at a time; a flood of them is hostile). */
export const MAX_PENDING = 64;
/** Prepared statements remembered per connection (id -> text, parameter count and types). */
export const MAX_STATEMENTS = 1024;
/** Payload bytes of one packet kept at least (a query is kept up to maxBodyBytes). */
const MIN_KEEP_BYTES = 4096;
/** Payload bytes of one packet kept at most, whatever maxBodyBytes says. */
const MAX_KEEP_BYTES = 16 * 1024 * 1024;

/** `tls` and `compressed`: the rest of the connection is not dissected. */
type Phase = 'greeting' | 'login' | 'auth' | 'commands' | 'unsynced' | 'tls' | 'compressed';

interface Statement {
  query?: string;
  paramCount: number;
  types?: readonly ParamType[];
  columns: readonly ColumnDef[];
}

/** One command (or the handshake) and what is known of its answer so far. */
interface Pending {
  readonly request: MysqlRequest;
  requestBytes: number;
  responseBytes: number;
  responseStartUs: number;
  responseEndUs: number;
  readonly reader: ResponseReader | null;
  /** COM_STMT_PREPARE's text, to remember with its statement id. */
  readonly prepareQuery?: string;
  /** Malformed client packets of it. */
  problem?: string;
  /** Stream offset (client direction) of its first client packet: names it across captures. */
  clientOffset?: number;
}

interface Answered {
  readonly response: MysqlResponse | null;
}

const COMMAND_ANSWERS: Readonly<Record<number, AnswerKind>> = Object.freeze({
  [COM.QUIT]: 'none',
  [COM.STMT_SEND_LONG_DATA]: 'none',
  [COM.STMT_CLOSE]: 'none',
  [COM.QUERY]: 'results',
  [COM.PROCESS_INFO]: 'results',
  [COM.STMT_EXECUTE]: 'binary-results',
  [COM.STMT_FETCH]: 'fetch',
  [COM.FIELD_LIST]: 'fields',
  [COM.STMT_PREPARE]: 'prepare',
  [COM.STATISTICS]: 'statistics',
  [COM.CHANGE_USER]: 'auth',
});

export class MysqlConnection implements DissectorStream {
  readonly #conn: ConnectionInfo;
  readonly #ctx: DissectContext;
  readonly #label: string;
  readonly #pairs: FifoPairing<Pending, Answered>;
  readonly #joiners: [PacketJoiner, PacketJoiner];
  #clientDir: Direction;
  #phase: Phase;
  /** Capabilities both sides agreed on (0 until the login is seen). */
  #caps = 0;
  #deprecateEof: boolean | undefined;
  #serverVersion = '';
  /** The handshake's slot while the connection phase lasts. */
  #current: FifoSlot<Pending, Answered> | null = null;
  /** The command whose answer the server is sending (answers come in command order). */
  #answering: FifoSlot<Pending, Answered> | null = null;
  /** Sequence id of the server's last packet of the answer being read. */
  #lastAnswerSeq = -1;
  readonly #statements = new Map<number, Statement>();
  /** Server capabilities from the greeting. */
  #serverCaps = 0;
  #sawPacket = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#label = connectionLabel(conn);
    this.#clientDir = conn.aIsClientKnown || conn.a.port !== 3306 || conn.b.port === 3306 ? 0 : 1;
    this.#phase = conn.aIsClientKnown ? 'greeting' : 'unsynced';
    this.#pairs = new FifoPairing<Pending, Answered>(
      { maxPending: MAX_PENDING, timeoutUs: ctx.options.responseTimeoutUs },
      ctx.stats,
      (slot, missing) => this.#emit(slot, missing),
    );
    const keep = Math.min(MAX_KEEP_BYTES, Math.max(MIN_KEEP_BYTES, ctx.options.maxBodyBytes + 64));
    const joiner = (dir: Direction): PacketJoiner =>
      new PacketJoiner(
        keep,
        {
          trusted: () => this.#phase !== 'unsynced',
          plausible: (head) => this.#plausibleStart(dir, head),
          resync: (w) => this.#resync(dir, w),
        },
        (p) => this.#packet(dir, p),
        // Joined midway, the bytes before the first packet found are not a violation.
        () => {
          if (this.#phase !== 'unsynced') ctx.violation();
        },
      );
    this.#joiners = [joiner(0), joiner(1)];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#pairs.expire(tsUs);
    if (this.#phase === 'tls' || this.#phase === 'compressed') return;
    this.#joiners[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    if (this.#phase === 'tls' || this.#phase === 'compressed') return;
    this.#joiners[dir].gap(lostBytes, tsUs);
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    this.#settleAnswer('the connection ended during the answer');
    this.#pairs.close(reason);
  }

  oldestPendingUs(): number {
    return this.#pairs.oldestPendingUs();
  }

  /**
   * Where a packet may start when the framing is not trusted (joined midway, or lost): a client
   * command with sequence id 0; a server greeting, or the first packet (sequence id 1) of an answer.
   */
  #plausibleStart(dir: Direction, head: Uint8Array): SniffResult {
    if (dir === this.#clientDir) return sniffCommand(head);
    const greeting = sniffGreeting(head);
    return greeting === 'no' ? sniffAnswer(head) : greeting;
  }

  /** After the framing of `dir` was lost: where a packet plausibly starts again. */
  #resync(dir: Direction, w: Uint8Array): number {
    for (let i = 0; i + 5 <= w.length; i++) {
      const at = w.subarray(i);
      if (this.#plausibleStart(dir, at) !== 'match') continue;
      // An answer's next packet, when it is in the window, carries the next sequence id.
      const len = packetLength(at);
      if (dir !== this.#clientDir && len !== 'more' && at.length >= len + 4 && at[len + 3] !== ((at[3]! + 1) & 0xff)) continue;
      return i;
    }
    return -1;
  }

  #packet(dir: Direction, p: MysqlPacket): void {
    if (!this.#sawPacket) {
      this.#sawPacket = true;
      // Without the SYN the sides are a guess: a greeting says which one is the server.
      if (!this.#conn.aIsClientKnown && p.seq === 0 && parseGreeting(p.payload) !== null) this.#clientDir = dir === 0 ? 1 : 0;
    }
    if (dir === this.#clientDir) this.#clientPacket(p);
    else this.#serverPacket(p);
  }

  #clientPacket(p: MysqlPacket): void {
    switch (this.#phase) {
      case 'greeting':
        // The greeting was not seen (or the capture joined midway): a command resynchronises.
        if (p.seq === 0) return this.#command(p);
        this.#ctx.violation();
        this.#phase = 'unsynced';
        return;
      case 'login':
        return this.#login(p);
      case 'auth': {
        // Auth data: counted, never kept.
        const cur = this.#current;
        if (cur !== null) cur.request.requestBytes += p.wireBytes;
        return;
      }
      case 'unsynced':
        if (p.seq === 0 && isKnownCommand(p.payload[0] ?? -1)) return this.#command(p);
        return;
      case 'commands':
        if (p.seq === 0) return this.#command(p);
        // Data the answer asked for (auth data of COM_CHANGE_USER, a LOCAL INFILE file): counted.
        if (this.#answering !== null) this.#answering.request.requestBytes += p.wireBytes;
        else this.#ctx.violation();
        return;
      default:
        return;
    }
  }

  #serverPacket(p: MysqlPacket): void {
    const first = p.payload[0] ?? -1;
    if ((this.#phase === 'greeting' || this.#phase === 'unsynced') && p.seq === 0) {
      const g = parseGreeting(p.payload);
      if (g !== null) return this.#greeting(p, g);
      if (first === 0xff && this.#phase === 'greeting') return this.#refusedAtConnect(p);
    }
    switch (this.#phase) {
      case 'login':
      case 'auth':
        return this.#authAnswer(p);
      case 'commands':
      case 'unsynced':
      case 'greeting':
        return this.#answer(p);
      default:
        return;
    }
  }

  #greeting(p: MysqlPacket, g: NonNullable<ReturnType<typeof parseGreeting>>): void {
    this.#serverVersion = g.serverVersion;
    this.#serverCaps = g.capabilities;
    const request: MysqlRequest = {
      command: HANDSHAKE_COMMAND,
      commandCode: -1,
      handshake: {
        protocolVersion: g.protocolVersion,
        serverVersion: g.serverVersion,
        connectionId: g.connectionId,
        serverCapabilities: capabilityNames(g.capabilities),
        clientCapabilities: [],
        authPlugin: g.authPlugin,
        ssl: false,
      },
    };
    const pending: Pending = { request, requestBytes: 0, responseBytes: p.wireBytes, responseStartUs: 0, responseEndUs: 0, reader: null };
    this.#current = this.#pairs.request(pending, p.startUs);
    this.#phase = 'login';
  }

  /** The server refused the connection outright (ERR instead of a greeting). */
  #refusedAtConnect(p: MysqlPacket): void {
    const request: MysqlRequest = { command: HANDSHAKE_COMMAND, commandCode: -1 };
    const pending: Pending = { request, requestBytes: 0, responseBytes: 0, responseStartUs: p.startUs, responseEndUs: p.endUs, reader: null };
    const slot = this.#pairs.request(pending, p.startUs);
    this.#pairs.requestDone(slot, p.startUs);
    const reader = new ResponseReader('auth', this.#readerOptions());
    reader.packet(p.payload, p.length);
    pending.responseBytes += p.wireBytes;
    this.#pairs.answer(slot);
    this.#pairs.respond(slot, { response: reader.finish() });
    this.#phase = 'unsynced';
  }

  #login(p: MysqlPacket): void {
    const slot = this.#current;
    const login = parseLogin(p.payload);
    if (slot === null || login === null) {
      this.#ctx.violation();
      this.#phase = 'unsynced';
      if (slot !== null) {
        // The handshake leaves as it is, so that it does not wait for an answer in the queue.
        slot.request.problem = 'malformed login';
        this.#pairs.requestDone(slot, p.endUs);
        this.#pairs.answer(slot);
        this.#pairs.respond(slot, { response: null });
        this.#current = null;
      }
      return;
    }
    const pending = slot.request;
    pending.requestBytes += p.wireBytes;
    if (p.offset !== undefined) pending.clientOffset = p.offset;
    const hs = pending.request.handshake!;
    hs.clientCapabilities = capabilityNames(login.capabilities);
    if (login.authPlugin !== '') hs.authPlugin = login.authPlugin;
    if (login.user !== '') pending.request.user = login.user;
    if (login.database !== undefined && login.database !== '') pending.request.database = login.database;
    this.#caps = (login.capabilities & (this.#serverCaps || 0xffffffff)) >>> 0;
    this.#deprecateEof = (this.#caps & CAP.DEPRECATE_EOF) !== 0;
    this.#pairs.requestDone(slot, p.endUs);
    if (login.sslRequest) {
      hs.ssl = true;
      this.#pairs.answer(slot);
      this.#pairs.respond(slot, { response: { success: true, results: [], affectedRows: 0, rowCount: 0, warnings: 0, tls: true } });
      this.#current = null;
      this.#phase = 'tls';
      this.#countTls();
      return;
    }
    this.#phase = 'auth';
  }

  /** The connection continues in TLS: counted like a TLS connection no dissector took. */
  #countTls(): void {
    const shared = this.#ctx.undissected;
    if (shared !== undefined) shared(this.#conn, 'tls');
    else countProtocol(this.#ctx.stats.undissected.connections, 'tls');
  }

  /** The server's side of the auth exchange: OK or ERR ends it; auth switch and more data go on. */
  #authAnswer(p: MysqlPacket): void {
    const slot = this.#current;
    if (slot === null) return;
    const pending = slot.request;
    if (pending.responseStartUs === 0) {
      pending.responseStartUs = p.startUs;
      this.#pairs.answer(slot);
    }
    pending.responseBytes += p.wireBytes;
    pending.responseEndUs = p.endUs;
    const first = p.payload[0] ?? -1;
    if (first === 0xfe && p.payload.length > 1) {
      // Auth switch: the plugin's name is kept, its data (a nonce) is not.
      const name = p.payload.subarray(1, Math.max(1, p.payload.indexOf(0, 1)));
      if (name.length > 0 && name.length < 64) pending.request.handshake!.authPlugin = text(name);
    }
    if (first !== 0x00 && first !== 0xff) return;
    const reader = new ResponseReader('auth', this.#readerOptions());
    reader.packet(p.payload, p.length);
    this.#pairs.respond(slot, { response: reader.finish() });
    this.#current = null;
    // With CLIENT_COMPRESS agreed, packets after the login are compressed: not decoded (docs/mysql.md).
    this.#phase = first === 0x00 && (this.#caps & CAP.COMPRESS) !== 0 ? 'compressed' : 'commands';
  }

  #readerOptions(columns?: readonly ColumnDef[]): ConstructorParameters<typeof ResponseReader>[1] {
    return { capabilities: this.#caps, deprecateEof: this.#deprecateEof, maxBodyBytes: this.#ctx.options.maxBodyBytes, ...(columns ? { columns } : {}) };
  }

  /**
   * The answer being read ends as it is: the next answer began, or the connection closed. An
   * answer that may end here (an optional EOF not come) is whole; one cut short says `why`.
   */
  #settleAnswer(why: string): void {
    const slot = this.#answering;
    if (slot === null) return;
    this.#answering = null;
    const reader = slot.request.reader;
    if (reader === null || slot.response !== null) return;
    if (!reader.done && !reader.canEnd) slot.request.problem ??= why;
    this.#finishAnswer(slot);
  }

  #command(p: MysqlPacket): void {
    this.#phase = 'commands';
    const code = p.payload[0] ?? -1;
    const request: MysqlRequest = { command: commandName(code), commandCode: code };
    let kind: AnswerKind = COMMAND_ANSWERS[code] ?? 'generic';
    let columns: readonly ColumnDef[] | undefined;
    let prepareQuery: string | undefined;
    let problem: string | undefined;
    const maxBody = this.#ctx.options.maxBodyBytes;
    const body = p.payload.subarray(1);
    const textArg = (): { value: string; truncated: boolean } => {
      const kept = body.length > maxBody ? body.subarray(0, maxBody) : body;
      return { value: text(kept), truncated: p.truncated || body.length > maxBody };
    };
    switch (code) {
      case COM.QUERY:
      case COM.STMT_PREPARE: {
        const q = textArg();
        request.query = q.value;
        if (q.truncated) request.queryTruncated = true;
        if (code === COM.STMT_PREPARE && !q.truncated) prepareQuery = q.value;
        break;
      }
      case COM.INIT_DB:
      case COM.CREATE_DB:
      case COM.DROP_DB:
        request.database = textArg().value;
        break;
      case COM.FIELD_LIST: {
        const nul = body.indexOf(0);
        request.table = text(nul < 0 ? body : body.subarray(0, nul));
        break;
      }
      case COM.PROCESS_KILL:
        if (body.length >= 4) request.processId = (body[0]! | (body[1]! << 8) | (body[2]! << 16)) + body[3]! * 0x1000000;
        break;
      case COM.CHANGE_USER: {
        const cu = parseChangeUser(p.payload, this.#caps);
        if (cu !== null) {
          request.user = cu.user;
          if (cu.database !== '') request.database = cu.database;
        } else problem = 'malformed COM_CHANGE_USER';
        break;
      }
      case COM.STMT_EXECUTE: {
        const id = body.length >= 4 ? (body[0]! | (body[1]! << 8) | (body[2]! << 16)) + body[3]! * 0x1000000 : -1;
        const st = this.#statements.get(id);
        const ex = parseExecute(p.payload, st?.paramCount, st?.types, this.#caps);
        if (ex === null) {
          problem = 'malformed COM_STMT_EXECUTE';
          if (id >= 0) request.statementId = id;
          break;
        }
        request.statementId = ex.statementId;
        if (st?.query !== undefined) request.query = st.query;
        if (ex.params !== null) request.params = ex.params;
        if (st !== undefined && ex.types !== null) st.types = ex.types;
        break;
      }
      case COM.STMT_SEND_LONG_DATA:
      case COM.STMT_CLOSE:
      case COM.STMT_RESET:
      case COM.STMT_FETCH: {
        if (body.length < 4) {
          problem = `malformed ${request.command}`;
          break;
        }
        const id = (body[0]! | (body[1]! << 8) | (body[2]! << 16)) + body[3]! * 0x1000000;
        request.statementId = id;
        const st = this.#statements.get(id);
        if (st?.query !== undefined) request.query = st.query;
        if (code === COM.STMT_CLOSE) this.#statements.delete(id);
        if (code === COM.STMT_FETCH) columns = st?.columns;
        break;
      }
      default:
        if (!isKnownCommand(code)) {
          problem = `unknown command 0x${(code & 0xff).toString(16)}`;
          kind = 'generic';
        }
    }
    if (p.damaged) problem ??= 'the capture lost bytes of the command';
    if (problem !== undefined) this.#ctx.violation();
    const reader = kind === 'none' ? null : new ResponseReader(kind, this.#readerOptions(columns));
    const pending: Pending = {
      request,
      requestBytes: p.wireBytes,
      responseBytes: 0,
      responseStartUs: 0,
      responseEndUs: 0,
      reader,
      ...(prepareQuery !== undefined ? { prepareQuery } : {}),
      ...(problem !== undefined ? { problem } : {}),
      ...(p.offset !== undefined ? { clientOffset: p.offset } : {}),
    };
    const slot = this.#pairs.request(pending, p.startUs);
    this.#pairs.requestDone(slot, p.endUs);
    if (reader === null) {
      // No answer comes (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA): complete as sent.
      this.#pairs.answer(slot);
      this.#pairs.respond(slot, { response: null });
    }
  }

  /**
   * A server packet of a command's answer. Answers come in command order (a client may pipeline,
   * as MariaDB Connector/J does with prepare and execute): each answers the oldest command not yet
   * answered. Sequence ids drive it: within an answer they count up from 1, so a packet 1 that does
   * not follow packet 0 (the count wrapping past 255) begins the next answer.
   */
  #answer(p: MysqlPacket): void {
    let slot = this.#answering;
    if (slot !== null && p.seq === 1 && this.#lastAnswerSeq !== 0) {
      this.#settleAnswer('the answer was cut short by the next one');
      slot = null;
    }
    if (slot === null) {
      slot = this.#pairs.nextUnanswered() ?? null;
      if (slot === null || slot.request.reader === null) {
        this.#pairs.orphan();
        return;
      }
      this.#answering = slot;
      this.#pairs.answer(slot);
      slot.request.responseStartUs = p.startUs;
    }
    this.#lastAnswerSeq = p.seq;
    const pending = slot.request;
    pending.responseBytes += p.wireBytes;
    pending.responseEndUs = p.endUs;
    const reader = pending.reader!;
    const before = reader.malformed;
    reader.packet(p.payload, p.length);
    if (reader.malformed > before) this.#ctx.violation();
    if (!reader.done) return;
    this.#answering = null;
    this.#finishAnswer(slot);
  }

  #finishAnswer(slot: FifoSlot<Pending, Answered>): FifoSlot<Pending, Answered> {
    const pending = slot.request;
    const response = pending.reader!.finish();
    if (pending.request.commandCode === COM.STMT_PREPARE) this.#remember(pending, pending.reader!);
    if (pending.request.commandCode === COM.STMT_EXECUTE && pending.request.statementId !== undefined) {
      const st = this.#statements.get(pending.request.statementId);
      const cols = pending.reader!.lastColumns;
      if (st !== undefined && cols.length > 0) st.columns = cols;
    }
    this.#pairs.respond(slot, { response });
    return slot;
  }

  #remember(pending: Pending, reader: ResponseReader): void {
    const prepared = reader.prepared;
    if (prepared === null) return;
    const id = prepared.ok.statementId;
    this.#statements.delete(id);
    if (this.#statements.size >= MAX_STATEMENTS) this.#statements.delete(this.#statements.keys().next().value!);
    this.#statements.set(id, {
      ...(pending.prepareQuery !== undefined ? { query: pending.prepareQuery } : {}),
      paramCount: prepared.ok.paramCount,
      columns: prepared.columns,
    });
  }

  #emit(slot: FifoSlot<Pending, Answered>, missing: EntryError | null): void {
    const p = slot.request;
    const answered = slot.response !== null;
    const response = slot.response?.response ?? null;
    // The handshake's "request" starts with the server's greeting; its sizes are each side's bytes.
    const startUs = slot.startUs;
    const responseUs = p.responseStartUs > 0 ? p.responseStartUs : startUs;
    const entry: MysqlEntry = {
      id: `${this.#label}-${slot.ordinal}`,
      protocol: { name: MYSQL_PROTOCOL_NAME, version: this.#serverVersion, abbr: 'MYSQL' },
      src: endpoint(this.#clientDir === 0 ? this.#conn.a : this.#conn.b),
      dst: endpoint(this.#clientDir === 0 ? this.#conn.b : this.#conn.a),
      timestamp: Math.floor(startUs / 1000),
      startTime: isoFromMicros(startUs),
      elapsedTime: answered && response !== null ? Math.max(0, (responseUs - startUs) / 1000) : 0,
      requestSize: p.requestBytes,
      responseSize: p.responseBytes,
      tls: false,
      request: p.request,
      response,
      error: missing ?? (p.problem !== undefined ? { type: 'dissection', msg: p.problem } : null),
    };
    const requestSeq = p.clientOffset === undefined ? undefined : this.#conn.sequenceAt?.(this.#clientDir, p.clientOffset);
    this.#ctx.emit(entry, requestSeq === undefined ? {} : { requestSeq });
  }
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}

