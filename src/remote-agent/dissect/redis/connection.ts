/**
 * One Redis connection: the client's commands and the server's replies, read as RESP (resp-reader.ts),
 * paired in order (a server answers in command order, pipelined or not: pairing/fifo.ts), with what
 * the connection's state changes about replies:
 * - HELLO 3 switches to RESP3 (`protocol.version`), RESET back;
 * - (P|S)SUBSCRIBE and their UNSUBSCRIBEs are answered by one confirmation per channel; after one,
 *   a RESP2 connection receives `message`/`pmessage`/`smessage` arrays unasked, a RESP3 one `>`
 *   pushes: each is an entry without a request, linked to the SUBSCRIBE entry by `subscriptionId`;
 * - inside MULTI, commands are answered QUEUED, and EXEC's array answers them: the EXEC entry lists
 *   the queued commands with what each got.
 * Joined midway (no SYN), or after lost bytes, the client's stream is taken up again at the next
 * command array, and the server's only once a command was seen after that point (a reply is sent
 * after its command), at the next reply line: replies to commands not seen are dropped, not paired.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import { isoFromMicros } from '../../../model/entry.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction, type SocketAddress } from '../../tcp/stream.ts';
import type { DissectContext, DissectorStream } from '../dissector.ts';
import { FifoPairing, type FifoSlot } from '../pairing/fifo.ts';
import { commandOf } from './command.ts';
import { REDIS_RESP2, REDIS_RESP3, type RedisEntry, type RedisRequest, type RedisResponse, type RedisTransactionResult } from './entry.ts';
import { errorCodeOf, itemText, MAX_VALUE_CHARS, pushKindOf, pushOf, responseOf } from './reply.ts';
import { RespReader, type RespMessage } from './resp-reader.ts';
import { isAggregate, isErrorValue, typeName, type RespNode, type RespValue } from './resp-value.ts';
import { startsCommand, startsReply } from './sniff.ts';
import { render } from './text.ts';

/** Commands waiting for their reply, at most (past it the oldest leaves unanswered). */
export const MAX_PENDING_COMMANDS = 16_384;
/**
 * String bytes all waiting commands of a connection keep together: past it, a new command keeps
 * only its first SMALL_KEEP_BYTES, so a flood of unanswered commands stays small.
 */
export const PENDING_KEEP_BUDGET = 4 * 1024 * 1024;
const SMALL_KEEP_BYTES = 256;
/** Channels and patterns remembered per connection (for `subscriptionId`). */
export const MAX_SUBSCRIPTIONS = 4096;
/** Queued commands of one transaction remembered (EXEC's results are listed for these). */
export const MAX_QUEUED = 1024;

const SUBSCRIBE_KINDS = new Map<string, string>([
  ['SUBSCRIBE', 'c'],
  ['PSUBSCRIBE', 'p'],
  ['SSUBSCRIBE', 's'],
  ['UNSUBSCRIBE', 'c'],
  ['PUNSUBSCRIBE', 'p'],
  ['SUNSUBSCRIBE', 's'],
]);
/** Confirmation kinds a (un)subscribe command is answered with. */
const CONFIRMATIONS = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);
/** Pushes a RESP2 subscribed connection receives unasked. */
const MESSAGES = new Set(['message', 'pmessage', 'smessage']);

/** What waits in the queue: a command, or a push (which leaves as soon as those before it have). */
interface Pending {
  readonly request: RedisRequest | null;
  readonly wireBytes: number;
  readonly keptBytes: number;
  /** TCP sequence number of the command's first byte (EntryMeta.requestSeq). */
  readonly seq: number | undefined;
  /** Replies a (un)subscribe command is answered with (one per channel); 1 for others. */
  readonly expected: number;
}

interface Answer {
  readonly startUs: number;
  wireBytes: number;
  readonly values: RespNode[];
  resp3: boolean;
  /** For a push: the SUBSCRIBE entry it answers to. */
  subscriptionId?: string;
  /** EXEC: the transaction's queued commands (answered per element). */
  transaction?: readonly QueuedCommand[];
}

interface QueuedCommand {
  readonly command: string;
  readonly key: string;
}

export class RedisConnection implements DissectorStream {
  readonly #ctx: DissectContext;
  readonly #label: string;
  readonly #client: SocketAddress;
  readonly #server: SocketAddress;
  readonly #fifo: FifoPairing<Pending, Answer>;
  readonly #readers: [RespReader, RespReader];
  readonly #conn: ConnectionInfo;
  #pendingKept = 0;
  #resp3 = false;
  /** A RESP2 connection after a subscribe: arrays of `message` kinds are pushes. */
  #subscribed = false;
  /** `c:`/`p:`/`s:` + channel or pattern -> id of the entry that subscribed to it. */
  readonly #subscriptions = new Map<string, string>();
  /** Commands queued since MULTI was answered OK; null outside a transaction. */
  #multi: QueuedCommand[] | null = null;
  /** The reply being collected for a (un)subscribe command of several channels. */
  #collecting: { slot: FifoSlot<Pending, Answer>; answer: Answer } | null = null;
  /** Server bytes are not read until a command is seen after this time (joined midway, a gap). */
  #serverWaitsAfterUs = -1;
  #closed = false;
  /** Capture time of the bytes being read. */
  #nowUs = 0;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#label = connectionLabel(conn);
    this.#client = conn.a;
    this.#server = conn.b;
    this.#fifo = new FifoPairing<Pending, Answer>(
      { maxPending: MAX_PENDING_COMMANDS, timeoutUs: ctx.options.responseTimeoutUs },
      ctx.stats,
      (slot, missing) => this.#emit(slot, missing),
    );
    const midway = !conn.aIsClientKnown;
    if (midway) this.#serverWaitsAfterUs = 0;
    this.#readers = [
      new RespReader(
        { client: true, maxKeepBytes: () => this.#commandBudget(), startsMessage: startsCommand, unsynced: midway },
        { message: (m) => this.#command(m), violation: () => this.#violation(0) },
      ),
      new RespReader(
        { client: false, maxKeepBytes: () => ctx.options.maxBodyBytes, startsMessage: startsReply, unsynced: midway },
        { message: (m) => this.#reply(m), violation: () => this.#violation(1) },
      ),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#nowUs = tsUs;
    this.#fifo.expire(tsUs);
    if (dir === 1 && this.#serverWaitsAfterUs >= 0) {
      // Replies to commands we did not see: dropped until a command seen since then was sent.
      const next = this.#fifo.nextUnanswered();
      if (next === undefined || next.request.request === null || next.startUs < this.#serverWaitsAfterUs) return;
      this.#serverWaitsAfterUs = -1;
    }
    this.#readers[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    this.#readers[dir].gap(lostBytes);
    if (dir === 0) this.#readers[1].gap(0);
    this.#lostPlace(tsUs);
  }

  /**
   * Replies can no longer be matched to commands by order (bytes lost or not RESP): the commands
   * waiting leave unanswered, and the server's stream is read again only for commands sent from now on.
   */
  #lostPlace(tsUs: number): void {
    this.#collecting = null;
    this.#multi = null;
    for (let s = this.#fifo.nextUnanswered(); s !== undefined; s = this.#fifo.nextUnanswered()) {
      this.#fifo.answer(s);
      this.#fifo.respond(s, { startUs: tsUs, wireBytes: 0, values: [], resp3: this.#resp3 });
    }
    this.#serverWaitsAfterUs = tsUs;
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#collecting !== null) {
      // Some confirmations came: the command was answered, if not by all.
      const { slot, answer } = this.#collecting;
      this.#collecting = null;
      this.#fifo.answer(slot);
      this.#fifo.respond(slot, answer);
    }
    this.#fifo.close(reason);
  }

  oldestPendingUs(): number {
    return this.#fifo.oldestPendingUs();
  }

  /** Bytes that are not RESP (the reader looks for a start again): counted, and pairing starts afresh. */
  #violation(dir: Direction): void {
    this.#ctx.violation();
    if (dir === 0) this.#readers[1].gap(0);
    this.#lostPlace(this.#nowUs);
  }

  #commandBudget(): number {
    const max = this.#ctx.options.maxBodyBytes;
    return this.#pendingKept < PENDING_KEEP_BUDGET ? max : Math.min(max, SMALL_KEEP_BYTES);
  }

  #command(m: RespMessage): void {
    const request = commandOf(m);
    if (request === null) return this.#violation(0);
    let expected = 1;
    const family = SUBSCRIBE_KINDS.get(request.command);
    if (family !== undefined) {
      if (request.argCount > 0) expected = request.argCount;
      else if (request.command.includes('UNSUBSCRIBE')) expected = Math.max(1, this.#subscribedCount(family));
    }
    const seq = this.#conn.sequenceAt?.(0, m.offset);
    const slot = this.#fifo.request({ request, wireBytes: m.wireBytes, keptBytes: m.keptBytes, seq, expected }, m.startUs);
    this.#pendingKept += m.keptBytes;
    this.#fifo.requestDone(slot, m.endUs);
  }

  #subscribedCount(family: string): number {
    let n = 0;
    for (const k of this.#subscriptions.keys()) if (k.startsWith(`${family}:`)) n++;
    return n;
  }

  #reply(m: RespMessage): void {
    const v = m.value;
    const kind = pushKindOf(v);
    const isPush = v.kind === 'push' || (this.#subscribed && !this.#resp3 && MESSAGES.has(kind));
    if (CONFIRMATIONS.has(kind) && (v.kind === 'push' || this.#subscribed || this.#collecting !== null || this.#awaitsConfirmation())) {
      if (this.#confirm(m, kind)) return;
      return this.#push(m, kind);
    }
    if (isPush) return this.#push(m, kind);
    const slot = this.#fifo.nextUnanswered();
    const request = slot?.request.request;
    if (slot === undefined || request == null) return this.#fifo.orphan();
    this.#fifo.answer(slot);
    this.#afterReply(request, v);
    const answer: Answer = { startUs: m.startUs, wireBytes: m.wireBytes, values: [v], resp3: this.#resp3 };
    if (request.command === 'EXEC') answer.transaction = this.#endTransaction();
    this.#fifo.respond(slot, answer);
  }

  /** The next command to answer is a (un)subscribe. */
  #awaitsConfirmation(): boolean {
    const next = this.#fifo.nextUnanswered();
    const request = next?.request.request;
    return request != null && SUBSCRIBE_KINDS.has(request.command);
  }

  /** A confirmation: part of the answer of the (un)subscribe waiting; false when none waits. */
  #confirm(m: RespMessage, kind: string): boolean {
    let c = this.#collecting;
    if (c === null) {
      const slot = this.#fifo.nextUnanswered();
      const request = slot?.request.request;
      if (slot === undefined || request == null || !SUBSCRIBE_KINDS.has(request.command)) return false;
      c = { slot, answer: { startUs: m.startUs, wireBytes: 0, values: [], resp3: this.#resp3 } };
      this.#collecting = c;
    }
    c.answer.values.push(m.value);
    c.answer.wireBytes += m.wireBytes;
    this.#track(kind, m.value, `${this.#label}-${c.slot.ordinal}`);
    if (c.answer.values.length >= c.slot.request.expected) {
      this.#collecting = null;
      this.#fifo.answer(c.slot);
      this.#fifo.respond(c.slot, c.answer);
    }
    return true;
  }

  /** Remembers who subscribed to what; a RESP2 connection is in subscribed mode while the count is above 0. */
  #track(kind: string, v: RespValue, entryId: string): void {
    const family = kind === 'psubscribe' || kind === 'punsubscribe' ? 'p' : kind === 'ssubscribe' || kind === 'sunsubscribe' ? 's' : 'c';
    const name = itemText(v, 1);
    const count = Number(itemText(v, 2));
    if (kind.endsWith('unsubscribe')) this.#subscriptions.delete(`${family}:${name}`);
    else if (this.#subscriptions.size < MAX_SUBSCRIPTIONS || this.#subscriptions.has(`${family}:${name}`)) this.#subscriptions.set(`${family}:${name}`, entryId);
    this.#subscribed = Number.isFinite(count) ? count > 0 : this.#subscriptions.size > 0;
  }

  /** A push: an entry of its own, in order with the commands around it. */
  #push(m: RespMessage, kind: string): void {
    const answer: Answer = { startUs: m.startUs, wireBytes: m.wireBytes, values: [m.value], resp3: this.#resp3 };
    const channelKey = kind === 'pmessage' ? `p:${itemText(m.value, 1)}` : kind === 'smessage' ? `s:${itemText(m.value, 1)}` : `c:${itemText(m.value, 1)}`;
    const subscriptionId = MESSAGES.has(kind) ? this.#subscriptions.get(channelKey) : undefined;
    if (subscriptionId !== undefined) answer.subscriptionId = subscriptionId;
    const slot = this.#fifo.request({ request: null, wireBytes: 0, keptBytes: 0, seq: undefined, expected: 1 }, m.startUs);
    this.#fifo.answer(slot);
    this.#fifo.requestDone(slot, m.endUs);
    this.#fifo.respond(slot, answer);
  }

  /** What a reply changes: the RESP version, transactions, RESET. */
  #afterReply(request: RedisRequest, v: RespValue): void {
    const failed = isErrorValue(v);
    switch (request.command) {
      case 'HELLO':
        if (!failed && (request.key === '2' || request.key === '3')) this.#resp3 = request.key === '3';
        return;
      case 'MULTI':
        if (!failed) this.#multi = [];
        return;
      case 'DISCARD':
        this.#multi = null;
        return;
      case 'RESET':
        this.#multi = null;
        this.#resp3 = false;
        this.#subscribed = false;
        this.#subscriptions.clear();
        return;
      default:
        if (this.#multi !== null && v.kind === 'simple' && v.text === 'QUEUED') {
          request.inTransaction = true;
          if (this.#multi.length < MAX_QUEUED) this.#multi.push({ command: request.command, key: request.key });
        }
    }
  }

  #endTransaction(): readonly QueuedCommand[] {
    const queued = this.#multi ?? [];
    this.#multi = null;
    return queued;
  }

  #emit(slot: FifoSlot<Pending, Answer>, missing: EntryError | null): void {
    const p = slot.request;
    if (p.request !== null) this.#pendingKept -= p.keptBytes;
    const a = slot.response;
    const lost = a !== null && a.values.length === 0;
    const startUs = p.request === null && a !== null ? a.startUs : slot.startUs;
    const entry: RedisEntry = {
      id: `${this.#label}-${slot.ordinal}`,
      protocol: (a?.resp3 ?? this.#resp3) ? REDIS_RESP3 : REDIS_RESP2,
      src: { ip: this.#client.ip, port: this.#client.port, name: '', namespace: '' },
      dst: { ip: this.#server.ip, port: this.#server.port, name: '', namespace: '' },
      timestamp: Math.floor(startUs / 1000),
      startTime: isoFromMicros(startUs),
      elapsedTime: a === null || lost || p.request === null ? 0 : Math.max(0, (a.startUs - slot.startUs) / 1000),
      requestSize: p.wireBytes,
      responseSize: a === null ? 0 : a.wireBytes,
      tls: false,
      request: p.request,
      response: a === null || lost ? null : this.#response(p.request, a),
      error: lost ? { type: 'dissection', msg: 'bytes of the connection were lost before the reply' } : missing,
    };
    if (a?.subscriptionId !== undefined) entry.subscriptionId = a.subscriptionId;
    this.#ctx.stats.entries++;
    this.#ctx.emit(entry, p.seq === undefined ? {} : { requestSeq: p.seq });
  }

  #response(request: RedisRequest | null, a: Answer): RedisResponse {
    const first = a.values[0]!;
    if (request === null) {
      const kind = pushKindOf(first);
      const res = responseOf(first);
      if (kind !== '') res.push = pushOf(first, kind);
      return res;
    }
    if (a.values.length > 1 || SUBSCRIBE_KINDS.has(request.command)) {
      // One confirmation per channel: shown together.
      const res = responseOf(first);
      res.value = a.values.map((v) => render(v, MAX_VALUE_CHARS / a.values.length)).join(' ');
      res.confirmations = a.values.length;
      return res;
    }
    const res = responseOf(first);
    if (a.transaction !== undefined) {
      if (first.kind === 'null' || isErrorValue(first)) res.aborted = true;
      else if (isAggregate(first)) res.results = transactionResults(a.transaction, first.items);
    }
    return res;
  }
}

/** EXEC's array, element by element, beside the commands it answers. */
function transactionResults(queued: readonly QueuedCommand[], items: readonly RespValue[]): RedisTransactionResult[] {
  const out: RedisTransactionResult[] = [];
  for (let i = 0; i < items.length && i < queued.length; i++) {
    const v = items[i]!;
    out.push({ command: queued[i]!.command, key: queued[i]!.key, type: typeName(v), value: render(v, 256), errorCode: isErrorValue(v) ? errorCodeOf(v) : '' });
  }
  return out;
}
