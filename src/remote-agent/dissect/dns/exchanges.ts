/**
 * Pair stage: the DNS messages of one UDP flow or TCP connection, queries paired with responses
 * by message id (dissect/pairing/by-id.ts: responses may come in any order, retransmitted queries
 * are one call), emitted as entries. A zone transfer over TCP (AXFR, IXFR) answers one query with
 * several messages: they make one entry, emitted at the closing SOA (RFC 5936 §2.2).
 *
 * A resolver that retransmits over UDP may do it from a new socket (dig does), which is another
 * flow: a query waiting in one flow that comes again, same client, server, id and question, from
 * another moves there, so the answer to either copy makes one entry, timed from the first.
 *
 * Memory: per flow at most MAX_PENDING_PER_FLOW waiting queries, and all flows of a capture run
 * together hold at most MAX_PENDING_BYTES of waiting queries and transfers; past that a query is
 * emitted at once, unanswered.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import type { CaptureStats } from '../../stats.ts';
import type { Direction, SocketAddress } from '../../tcp/stream.ts';
import type { DissectContext } from '../dissector.ts';
import { IdPairing, type UnansweredReason } from '../pairing/by-id.ts';
import { TYPE, typeName } from './codes.ts';
import { buildDnsEntry, type DnsTransport } from './entry-builder.ts';
import type { DnsEntry } from './entry.ts';
import { parseDnsMessage, type DnsMessage } from './message-parser.ts';

/** Queries waiting for an answer in one flow or connection. */
export const MAX_PENDING_PER_FLOW = 1024;
/** Answered ids remembered per flow, to absorb retransmissions and their second answers. */
const MAX_ANSWERED_PER_FLOW = 16;
/** Bytes of waiting queries and unfinished zone transfers of one capture run, all flows together. */
export const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Records a zone transfer entry keeps (a transfer longer than that is cut, with an error). */
export const MAX_TRANSFER_RECORDS = 20_000;

const AXFR = typeName(TYPE.AXFR);
const IXFR = typeName(TYPE.IXFR);
const SOA = typeName(TYPE.SOA);

interface Query {
  readonly message: DnsMessage;
  readonly tsUs: number;
  readonly clientDir: Direction;
  /** The entry's id, fixed by the flow where the query was first seen. */
  readonly entryId: string;
  /** UDP: the key under which other flows find it (client, server, id, question). */
  readonly acrossKey: string | undefined;
}

/** Where a waiting UDP query is: the exchanges of its flow and its key there. */
interface WaitingAt {
  readonly owner: DnsExchanges;
  readonly key: string;
}

interface Transfer {
  readonly query: Query;
  readonly messages: DnsMessage[];
  readonly firstResponseUs: number;
  records: number;
  bytes: number;
}

/** What all flows of one capture run share (keyed by its stats object). */
interface CaptureShared {
  /** Bytes held by waiting queries and unfinished transfers. */
  bytes: number;
  /** Waiting UDP queries by client, server, id and question (bounded by the bytes budget). */
  readonly waiting: Map<string, WaitingAt>;
}

const shared = new WeakMap<CaptureStats, CaptureShared>();

export interface ExchangeSetup {
  /** Entry ids are `<idPrefix>-<n>`, n counting queries in arrival order. */
  readonly idPrefix: string;
  readonly transport: DnsTransport;
  /** Direction 0 is from `a`. */
  readonly a: SocketAddress;
  readonly b: SocketAddress;
}

export class DnsExchanges {
  readonly #ctx: DissectContext;
  readonly #setup: ExchangeSetup;
  readonly #pairing: IdPairing<string, Query>;
  readonly #transfers = new Map<string, Transfer>();
  readonly #budget: CaptureShared;
  #nextOrdinal = 0;
  /** How a close reads in the error of the queries it leaves unanswered. */
  #closeError: EntryError = { type: 'timeout', msg: 'no response' };

  constructor(ctx: DissectContext, setup: ExchangeSetup) {
    this.#ctx = ctx;
    this.#setup = setup;
    let budget = shared.get(ctx.stats);
    if (budget === undefined) shared.set(ctx.stats, (budget = { bytes: 0, waiting: new Map() }));
    this.#budget = budget;
    this.#pairing = new IdPairing<string, Query>(
      { maxPending: MAX_PENDING_PER_FLOW, timeoutUs: ctx.options.responseTimeoutUs, maxAnswered: MAX_ANSWERED_PER_FLOW },
      ctx.stats,
      (q) => fingerprint(q.message),
      (q, reason) => this.#unanswered(q, reason),
    );
  }

  /** One whole message sent in direction `dir`. */
  message(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    const message = parseDnsMessage(bytes);
    if (message === null) {
      this.#ctx.violation();
      return;
    }
    if (message.problem !== undefined) this.#ctx.violation();
    if (message.isResponse) this.#response(dir, message, tsUs);
    else this.#query(dir, message, tsUs);
  }

  /** Capture time moved on (a datagram of another flow, a live tick): unanswered queries time out. */
  expire(nowUs: number): void {
    this.#pairing.expire(nowUs);
  }

  close(error: EntryError): void {
    this.#closeError = error;
    this.#pairing.closeAll();
    const transfers = [...this.#transfers.values()];
    this.#transfers.clear();
    for (const t of transfers) this.#finishTransfer(t, { type: error.type, msg: `zone transfer cut: ${error.msg}` });
  }

  oldestPendingUs(): number {
    let oldest = this.#pairing.oldestPendingUs();
    for (const t of this.#transfers.values()) oldest = Math.min(oldest, t.query.tsUs);
    return oldest;
  }

  #query(dir: Direction, message: DnsMessage, tsUs: number): void {
    const key = keyOf(dir, message.id);
    const acrossKey = this.#setup.transport === 'udp' ? this.#acrossKey(dir, message) : undefined;
    const elsewhere = acrossKey === undefined ? undefined : this.#budget.waiting.get(acrossKey);
    if (elsewhere !== undefined && elsewhere.owner !== this) {
      const moved = elsewhere.owner.#pairing.withdraw(elsewhere.key);
      if (moved !== undefined) {
        // The same query again from another socket: it waits here now, still as its first sending.
        this.#pairing.request(key, { ...moved.request, clientDir: dir }, moved.startUs);
        this.#budget.waiting.set(acrossKey!, { owner: this, key });
        return;
      }
    }
    const query: Query = { message, tsUs, clientDir: dir, entryId: `${this.#setup.idPrefix}-${this.#nextOrdinal}`, acrossKey };
    if (this.#budget.bytes + message.size > MAX_PENDING_BYTES) {
      // Too much waiting everywhere: this query is not kept, it comes out at once, unanswered.
      this.#nextOrdinal++;
      this.#ctx.stats.unpairedRequests++;
      this.#emit(query, [], 0, { type: 'pair-not-found', msg: 'too many DNS queries waiting for a response' });
      return;
    }
    if (this.#pairing.request(key, query, tsUs) === 'new') {
      this.#nextOrdinal++;
      this.#budget.bytes += message.size;
      if (acrossKey !== undefined) this.#budget.waiting.set(acrossKey, { owner: this, key });
    }
  }

  #acrossKey(clientDir: Direction, message: DnsMessage): string {
    const client = clientDir === 0 ? this.#setup.a : this.#setup.b;
    const server = clientDir === 0 ? this.#setup.b : this.#setup.a;
    return `${client.ip}|${server.ip}|${server.port}|${message.id}|${fingerprint(message)}`;
  }

  /** The query no longer waits: other flows stop finding it. */
  #settled(q: Query): void {
    if (q.acrossKey === undefined) return;
    const at = this.#budget.waiting.get(q.acrossKey);
    if (at?.owner === this) this.#budget.waiting.delete(q.acrossKey);
  }

  #response(dir: Direction, message: DnsMessage, tsUs: number): void {
    const clientDir: Direction = dir === 0 ? 1 : 0;
    const key = keyOf(clientDir, message.id);
    const transfer = this.#transfers.get(key);
    if (transfer !== undefined) return this.#continueTransfer(key, transfer, message);
    const outcome = this.#pairing.response(key, tsUs);
    if (outcome.kind !== 'paired') return;
    const query = outcome.request;
    this.#settled(query);
    if (this.#setup.transport === 'tcp' && isTransfer(query.message) && !transferDone(message, query.message)) {
      // The budget keeps the query's bytes while the transfer runs, and its messages' too.
      this.#transfers.set(key, { query, messages: [message], firstResponseUs: tsUs, records: recordsOf(message), bytes: message.size });
      this.#budget.bytes += message.size;
      return;
    }
    this.#budget.bytes -= query.message.size;
    this.#emit(query, [message], tsUs, null);
  }

  #continueTransfer(key: string, t: Transfer, message: DnsMessage): void {
    const records = recordsOf(message);
    if (t.records + records > MAX_TRANSFER_RECORDS) {
      this.#transfers.delete(key);
      this.#finishTransfer(t, { type: 'dissection', msg: `zone transfer longer than ${MAX_TRANSFER_RECORDS} records: cut there` });
      return;
    }
    t.messages.push(message);
    t.records += records;
    t.bytes += message.size;
    this.#budget.bytes += message.size;
    if (!transferDone(message, null)) return;
    this.#transfers.delete(key);
    this.#finishTransfer(t, null);
  }

  #finishTransfer(t: Transfer, error: EntryError | null): void {
    this.#budget.bytes -= t.query.message.size + t.bytes;
    this.#emit(t.query, t.messages, t.firstResponseUs, error);
  }

  #unanswered(q: Query, reason: UnansweredReason): void {
    this.#settled(q);
    this.#budget.bytes -= q.message.size;
    this.#emit(q, [], 0, unansweredError(reason, this.#ctx.options.responseTimeoutUs, this.#closeError));
  }

  #emit(q: Query, responses: readonly DnsMessage[], responseUs: number, error: EntryError | null): void {
    const { a, b } = this.#setup;
    const entry: DnsEntry = buildDnsEntry({
      id: q.entryId,
      transport: this.#setup.transport,
      client: q.clientDir === 0 ? a : b,
      server: q.clientDir === 0 ? b : a,
      query: q.message,
      queryUs: q.tsUs,
      responses,
      responseUs,
      error,
    });
    this.#ctx.emit(entry, {});
  }
}

function keyOf(clientDir: Direction, id: number): string {
  return `${clientDir}:${id}`;
}

/** What makes a retransmission: the same opcode and questions (names compared case-insensitively). */
function fingerprint(m: DnsMessage): string {
  let s = String(m.opcode);
  for (const q of m.questions.slice(0, 4)) s += `|${q.name.toLowerCase()} ${q.type} ${q.class}`;
  return s;
}

function isTransfer(m: DnsMessage): boolean {
  const type = m.questions[0]?.type;
  return type === AXFR || type === IXFR;
}

/**
 * Whether a zone transfer response message ends it: an error, an empty answer, or a closing SOA.
 * The first message (`firstOf`: its query) opens the transfer with an SOA, so there the last record
 * must be a second SOA, unless an IXFR answer is that SOA alone (the zone is current, RFC 1995 §4).
 */
function transferDone(m: DnsMessage, firstOf: DnsMessage | null): boolean {
  if (m.rcode !== 0 || m.answers.length === 0 || m.problem !== undefined) return true;
  const last = m.answers[m.answers.length - 1]!;
  if (last.type !== SOA) return false;
  return firstOf === null || m.answers.length > 1 || firstOf.questions[0]?.type === IXFR;
}

function recordsOf(m: DnsMessage): number {
  return m.answers.length + m.authorities.length + m.additionals.length;
}

function unansweredError(reason: UnansweredReason, timeoutUs: number, closeError: EntryError): EntryError {
  switch (reason) {
    case 'timeout':
      return { type: 'timeout', msg: `no response within ${timeoutUs / 1e6} s` };
    case 'evicted':
      return { type: 'pair-not-found', msg: `more than ${MAX_PENDING_PER_FLOW} queries waiting for a response` };
    case 'superseded':
      return { type: 'pair-not-found', msg: 'its id was used by another query before a response came' };
    case 'closed':
      return closeError;
  }
}
