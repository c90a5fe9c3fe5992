/**
 * Chooses a dissector per connection by content (ports are only hints for the order of tries),
 * then pins it: the undecided prefix is buffered (bounded) and replayed into the chosen stream.
 * Design after Wireshark's heuristic dissectors (doc/README.heuristic) and Zeek's PIA buffer (pia/PIA.h).
 * A dissector whose opening alone is ambiguous declares `confirmReply` (Zeek's
 * requires-reverse-signature): its match waits, still undecided and bounded, for the other
 * direction's first bytes; a refusal moves on to the next dissector, then to the guess.
 *
 * A connection no dissector takes is named by a guess of its protocol (guess/: TLS, HTTP/2, ...)
 * and counted once in `stats.undissected`, so traffic we cannot show is not mistaken for silence.
 * When the connection's start was captured, a sniffer's match also ends the search for a dissector
 * at once: a TLS or HTTP/2 opening is never HTTP/1, and waiting for the HTTP/1 sniffer to give up
 * would leave the count at zero for as long as a kept-alive connection lasts. Joined midway, the
 * first bytes may be the middle of an HTTP body, so there the guess only names what HTTP/1 gives up.
 */
import { countProtocol } from '../../model/undissected.ts';
import { dissectContextFor, type DissectContext, type Dissector, type DissectorStream, type HandOff, type SharedDissectContext, type SniffResult } from './dissector.ts';
import { countThrownViolation, ViolationCountingStream } from './protocol-counters.ts';
import { countEntry } from '../stats.ts';
import type { CloseReason, ConnectionInfo, Direction, StreamFactory, StreamHandler } from '../tcp/stream.ts';
import { StreamGuess, UNKNOWN_PROTOCOL, type SniffDirection } from './guess/index.ts';
import { amqpDissector } from './amqp/index.ts';
import { dnsStreamDissector } from './dns/index.ts';
import { http1Dissector } from './http1/index.ts';
import { http2Dissector } from './http2/index.ts';
import { kafkaDissector } from './kafka/index.ts';
import { mongodbDissector } from './mongodb/index.ts';
import { mysqlDissector } from './mysql/index.ts';
import { postgresqlDissector } from './postgresql/index.ts';
import { redisDissector } from './redis/index.ts';
import { websocketDissector } from './websocket/index.ts';

/**
 * Every dissector, tried in this order after the port hints. HTTP/2 comes first: its sniff is
 * strict (the preface, or binary frame headers text never passes), while HTTP/1's finds a start
 * line anywhere, even inside an HTTP/2 DATA payload. WebSocket is never chosen by content (its
 * sniff says no): it is here to take connections over after an HTTP/1 upgrade; HTTP/2 also takes
 * over h2c upgrades.
 */
export const DEFAULT_DISSECTORS: readonly Dissector[] = Object.freeze([
  http2Dissector,
  http1Dissector,
  dnsStreamDissector,
  // The data protocols (issue 16): binary openings, each strict and confirmed by the reply.
  postgresqlDissector,
  mysqlDissector,
  redisDissector,
  kafkaDissector,
  amqpDissector,
  mongodbDissector,
  websocketDissector,
]);

/** Bytes per direction buffered while no dissector has decided. */
export const SNIFF_PREFIX_BYTES = 4096;
/**
 * Without a captured SYN the stream may start mid-message, so after a 'no' we keep sniffing on a
 * sliding window (cheap: a line scan per chunk) until this many bytes went by, then give up.
 */
export const SNIFF_GIVE_UP_BYTES = 64 * 1024;
/** Bytes after the last LF kept when the window slides (a start line cut by the window edge). */
const WINDOW_TAIL_BYTES = 1024;
/**
 * All undecided connections together buffer at most this much; past it, a connection that wants
 * to buffer more is given up (its bytes counted in `droppedBytes`), so memory stays bounded however
 * many connections open at once.
 */
export const MAX_UNDECIDED_BYTES = 64 * 1024 * 1024;

/** Where a connection's sniffing stands after new bytes. */
type SniffOutcome = 'pinned' | 'waiting' | 'more' | 'no';

interface Waiting {
  readonly dissector: Dissector;
  /** The direction its `sniff` matched; the other one must confirm. */
  readonly dir: Direction;
}

type Buffered =
  | { readonly kind: 'data'; readonly dir: Direction; readonly bytes: Uint8Array; readonly tsUs: number }
  | { readonly kind: 'gap'; readonly dir: Direction; readonly lost: number; readonly tsUs: number }
  | { readonly kind: 'end'; readonly dir: Direction; readonly tsUs: number };

export class DissectorRegistry implements StreamFactory {
  readonly #ctx: SharedDissectContext;
  readonly #dissectors: readonly Dissector[];
  /** Each dissector's context: its violations are counted under its protocol. */
  readonly #contexts: Map<Dissector, DissectContext>;
  readonly #live = new Set<DissectorStream>();
  readonly #undecided = new Set<UndecidedConnection>();
  /** Every port some dissector names (Dissector.ports). */
  readonly #hintedPorts: ReadonlySet<number>;
  /** The order of tries on a connection with one hinted port, by that port (#orderFor). */
  readonly #orderByPort = new Map<number, readonly Dissector[]>();
  /** Latest capture time seen by any connection. */
  #nowUs = 0;
  /** Bytes buffered by all undecided connections. */
  #undecidedBytes = 0;

  constructor(ctx: SharedDissectContext, dissectors: readonly Dissector[] = DEFAULT_DISSECTORS) {
    // Every entry a dissector emits is counted under its protocol on the way out.
    this.#ctx = {
      ...ctx,
      emit: (entry, meta) => {
        countEntry(ctx.stats, entry);
        ctx.emit(entry, meta);
      },
    };
    this.#dissectors = dissectors;
    this.#contexts = new Map(dissectors.map((d) => [d, this.#contextFor(d)]));
    this.#hintedPorts = new Set(dissectors.flatMap((d) => d.ports));
  }

  /** A dissector's context: its violations counted under its protocol, hand-offs found here. */
  #contextFor(d: Dissector): DissectContext {
    // Dissectors reach each other only through this: the registry finds who takes a hand-off.
    return { ...dissectContextFor(this.#ctx, d.protocol), handOff: (conn, h) => this.#handOff(conn, h) };
  }

  /**
   * The stream of the dissector that continues a connection under `h.to`; null when none does.
   * It is not in #live: the stream that handed off owns it and reports its pending entries. What it
   * throws is counted under its own protocol (once: the pinned stream's count skips it).
   */
  #handOff(conn: ConnectionInfo, h: HandOff): DissectorStream | null {
    for (const d of this.#dissectors) {
      if (d.takeOver === undefined || d.handOffs?.includes(h.to) !== true) continue;
      const ctx = this.#contexts.get(d) ?? this.#contextFor(d);
      return new ViolationCountingStream(d.takeOver(conn, ctx, h), this.#ctx.stats, d.protocol);
    }
    return null;
  }

  open(conn: ConnectionInfo): StreamHandler {
    const handler = new UndecidedConnection(conn, this.#orderFor(conn.a.port, conn.b.port), this);
    this.#undecided.add(handler);
    return handler;
  }

  /**
   * The order dissectors are tried in on a connection between these ports: those registered on one
   * of them first, each group in registration order. Most connections are a well-known port and an
   * ephemeral one, so the order of a port no dissector names is the default order itself, and the
   * order of a single hinted port is made once (a connection used to build two filtered arrays).
   */
  #orderFor(portA: number, portB: number): readonly Dissector[] {
    const hintedA = this.#hintedPorts.has(portA);
    const hintedB = this.#hintedPorts.has(portB);
    if (!hintedA && !hintedB) return this.#dissectors;
    if (hintedA !== hintedB || portA === portB) {
      const port = hintedA ? portA : portB;
      let order = this.#orderByPort.get(port);
      if (order === undefined) {
        order = hintedOrder(this.#dissectors, [port]);
        this.#orderByPort.set(port, order);
      }
      return order;
    }
    return hintedOrder(this.#dissectors, [portA, portB]);
  }

  /**
   * Capture time of the oldest data that may still become an entry: pending requests of live
   * streams and buffered prefixes of undecided connections. An undecided prefix older than the
   * response timeout is ignored so a silent non-HTTP connection cannot hold back the orderer.
   */
  oldestPendingUs(): number {
    let oldest = Infinity;
    for (const s of this.#live) oldest = Math.min(oldest, s.oldestPendingUs());
    const horizon = this.#nowUs - this.#ctx.options.responseTimeoutUs;
    for (const u of this.#undecided) {
      const first = u.firstBufferedUs();
      if (first >= horizon) oldest = Math.min(oldest, first);
    }
    return oldest;
  }

  get liveStreams(): number {
    return this.#live.size;
  }

  get undecidedBytes(): number {
    return this.#undecidedBytes;
  }

  /** @internal may an undecided connection buffer `bytes` more? */
  hasRoomFor(bytes: number): boolean {
    return this.#undecidedBytes + bytes <= MAX_UNDECIDED_BYTES;
  }

  /** @internal `delta` bytes more (or fewer) buffered by undecided connections. */
  account(delta: number): void {
    this.#undecidedBytes += delta;
  }

  /** @internal bytes of an undecided connection thrown away because the budget ran out. */
  countDropped(bytes: number): void {
    this.#ctx.stats.droppedBytes += bytes;
  }

  /** @internal a connection no dissector took, by the guess of its protocol (once per connection). */
  countUndissected(conn: ConnectionInfo, protocol: string): void {
    if (this.#ctx.undissected !== undefined) this.#ctx.undissected(conn, protocol);
    else countProtocol(this.#ctx.stats.undissected.connections, protocol);
  }

  /** @internal used by UndecidedConnection */
  saw(tsUs: number): void {
    if (tsUs > this.#nowUs) this.#nowUs = tsUs;
  }

  /**
   * @internal `err` came out of a stream pinned to `d`: a ProtocolViolation is counted under its
   * protocol (reassembly, which catches it, counts it in dissectionErrors and drops the connection).
   */
  thrownBy(d: Dissector, err: unknown): unknown {
    countThrownViolation(this.#ctx.stats, d.protocol, err);
    return err;
  }

  /** @internal */
  pin(u: UndecidedConnection, d: Dissector, conn: ConnectionInfo): DissectorStream {
    this.#undecided.delete(u);
    const stream = d.open(conn, this.#contexts.get(d)!);
    this.#live.add(stream);
    return stream;
  }

  /** @internal */
  forget(u: UndecidedConnection, stream: DissectorStream | null): void {
    this.#undecided.delete(u);
    if (stream !== null) this.#live.delete(stream);
  }
}

/** The handler the assembler talks to; it forwards to the chosen stream once decided. */
class UndecidedConnection implements StreamHandler {
  readonly #conn: ConnectionInfo;
  readonly #order: readonly Dissector[];
  readonly #registry: DissectorRegistry;
  #events: Buffered[] = [];
  /** Per direction: copies of the bytes since the last gap or window slide, for sniffing. */
  readonly #prefix: [Uint8Array[], Uint8Array[]] = [[], []];
  readonly #prefixLen = [0, 0];
  readonly #seen = [0, 0];
  /** Bytes held in #events (what the registry's budget counts for this connection). */
  #held = 0;
  #target: DissectorStream | null = null;
  /** The dissector of #target: what its violations are counted under. */
  #pinned: Dissector | null = null;
  #abandoned = false;
  /**
   * What the connection looks like, until it is pinned to a dissector or counted as undissected;
   * made on first use (most connections are pinned at their first bytes and never need one).
   */
  #guess: StreamGuess | null | undefined;
  #sawBytes = false;
  /** A dissector that matched one direction and waits for the other to confirm it (confirmReply). */
  #waiting: Waiting | null = null;
  /** Dissectors whose reply refused them on this connection (made on the first refusal). */
  #refused: Set<Dissector> | null = null;

  constructor(conn: ConnectionInfo, order: readonly Dissector[], registry: DissectorRegistry) {
    this.#conn = conn;
    this.#order = order;
    this.#registry = registry;
  }

  /** The guess, made now if needed; null once the connection is pinned or counted. */
  #guessing(): StreamGuess | null {
    if (this.#guess === undefined) this.#guess = new StreamGuess([this.#conn.a.port, this.#conn.b.port]);
    return this.#guess;
  }

  firstBufferedUs(): number {
    for (const e of this.#events) if (e.kind === 'data') return e.tsUs;
    return Infinity;
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#registry.saw(tsUs);
    if (this.#target !== null) {
      try {
        return this.#target.data(dir, bytes, tsUs);
      } catch (err) {
        throw this.#registry.thrownBy(this.#pinned!, err);
      }
    }
    if (bytes.length === 0) return;
    this.#sawBytes = true;
    if (this.#abandoned) {
      // Given up by the dissectors, but not yet named: the guess reads on (a few hundred bytes).
      if (this.#guessing()?.push(sniffDirection(dir), bytes) != null) this.#countGuess();
      return;
    }
    if (!this.#registry.hasRoomFor(bytes.length)) {
      this.#registry.countDropped(bytes.length);
      return this.#abandon(true);
    }
    this.#hold(bytes.length);
    const copy = bytes.slice();
    this.#events.push({ kind: 'data', dir, bytes: copy, tsUs });
    this.#prefix[dir].push(copy);
    this.#prefixLen[dir] += copy.length;
    this.#seen[dir] += copy.length;
    this.#decide(dir, copy, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    this.#registry.saw(tsUs);
    if (this.#target !== null) {
      try {
        return this.#target.gap(dir, lostBytes, tsUs);
      } catch (err) {
        throw this.#registry.thrownBy(this.#pinned!, err);
      }
    }
    if (this.#guess) this.#guess.gap(sniffDirection(dir));
    if (this.#abandoned) return;
    this.#events.push({ kind: 'gap', dir, lost: lostBytes, tsUs });
    // Sniffing restarts after the hole: bytes before it say nothing about what follows.
    this.#prefix[dir] = [];
    this.#prefixLen[dir] = 0;
  }

  end(dir: Direction, tsUs: number): void {
    this.#registry.saw(tsUs);
    if (this.#target !== null) {
      try {
        return this.#target.end(dir, tsUs);
      } catch (err) {
        throw this.#registry.thrownBy(this.#pinned!, err);
      }
    }
    if (!this.#abandoned) this.#events.push({ kind: 'end', dir, tsUs });
  }

  close(reason: CloseReason, tsUs: number): void {
    const target = this.#target;
    this.#registry.forget(this, target);
    this.#releaseHeld(false);
    this.#events = [];
    // Undecided at close: nothing is emitted, this is not an error (not every connection is HTTP),
    // but it is counted by what it looked like, if it carried anything.
    if (target === null && this.#sawBytes) this.#countGuess();
    if (target === null) return;
    try {
      target.close(reason, tsUs);
    } catch (err) {
      throw this.#registry.thrownBy(this.#pinned!, err);
    }
  }

  /** `added`: the bytes this call brought (the guess keeps its own short prefix). */
  #decide(dir: Direction, added: Uint8Array, tsUs: number): void {
    const outcome = this.#waiting === null ? this.#sniff(dir) : this.#awaitReply(this.#waiting, dir);
    if (outcome === 'pinned') return;
    // No dissector yet: does it look like a protocol we only count? From its start, stop looking.
    const guessed = this.#guessing()?.push(sniffDirection(dir), added);
    // A dissector waits for the reply to confirm it: the guess only watches meanwhile.
    if (outcome === 'waiting') return;
    if (guessed != null && guessed !== UNKNOWN_PROTOCOL && this.#conn.aIsClientKnown) {
      this.#abandon(false);
      return this.#countGuess();
    }
    if (outcome === 'more') return;
    // With the SYN seen the stream starts at a message boundary: a 'no' is final.
    if (this.#conn.aIsClientKnown || this.#seen[dir] >= SNIFF_GIVE_UP_BYTES) {
      this.#abandon(false);
      if (this.#guess?.result != null) this.#countGuess();
      return;
    }
    this.#slide(dir, this.#prefixOf(dir), tsUs);
  }

  /** The prefix of one direction as one buffer (joined once, kept joined). */
  #prefixOf(dir: Direction): Uint8Array {
    const parts = this.#prefix[dir];
    if (parts.length === 1) return parts[0]!;
    const prefix = Buffer.concat(parts, this.#prefixLen[dir]);
    this.#prefix[dir] = [prefix];
    return prefix;
  }

  /**
   * Asks the dissectors, in order, about this direction's prefix. A match pins the connection, or,
   * for a dissector that wants the reply to confirm it, makes it the one waiting (if the reply is
   * already here and refuses, the next dissector is asked).
   */
  #sniff(dir: Direction): SniffOutcome {
    const prefix = this.#prefixOf(dir);
    let allNo = true;
    for (const d of this.#order) {
      if (this.#refused?.has(d) === true) continue;
      // sniff never throws (contract): if it does, that is a bug, and the connection is dropped.
      const r = d.sniff(prefix, sniffDirection(dir));
      if (r === 'match') {
        const verdict = d.confirmReply === undefined ? 'match' : this.#confirm(d, dir === 0 ? 1 : 0);
        if (verdict === 'match') {
          this.#choose(d);
          return 'pinned';
        }
        if (verdict === 'more') {
          this.#waiting = { dissector: d, dir };
          return 'waiting';
        }
        this.#refuse(d);
        continue;
      }
      if (r === 'more' && prefix.length < SNIFF_PREFIX_BYTES) allNo = false;
    }
    return allNo ? 'no' : 'more';
  }

  /** Bytes came while `w` waits for its confirmation; on a refusal both directions are asked again. */
  #awaitReply(w: Waiting, dir: Direction): SniffOutcome {
    let verdict: SniffResult;
    if (dir !== w.dir) verdict = this.#confirm(w.dissector, dir);
    // More of what it matched: wait on, but not past the bytes a mid-connection sniff may read.
    else verdict = this.#prefixLen[dir] <= SNIFF_GIVE_UP_BYTES ? 'more' : 'no';
    if (verdict === 'match') {
      this.#choose(w.dissector);
      return 'pinned';
    }
    if (verdict === 'more') return 'waiting';
    this.#refuse(w.dissector);
    const other = dir === w.dir ? null : this.#sniff(w.dir);
    if (other === 'pinned' || other === 'waiting') return other;
    const here = this.#sniff(dir);
    return here === 'more' && other === 'no' ? 'no' : here;
  }

  /** What `d.confirmReply` says of the bytes seen so far in `replyDir`; 'no' once past the sniff prefix. */
  #confirm(d: Dissector, replyDir: Direction): SniffResult {
    if (this.#prefixLen[replyDir] === 0) return 'more';
    const reply = this.#prefixOf(replyDir);
    const r = d.confirmReply!(reply, sniffDirection(replyDir));
    return r === 'more' && reply.length >= SNIFF_PREFIX_BYTES ? 'no' : r;
  }

  /** `d` is not this connection's dissector (its reply did not confirm it): never asked again here. */
  #refuse(d: Dissector): void {
    if (this.#waiting?.dissector === d) this.#waiting = null;
    (this.#refused ??= new Set()).add(d);
  }

  /** No dissector will take this connection: drop what is buffered and ignore the rest. */
  #abandon(overBudget: boolean): void {
    this.#abandoned = true;
    this.#releaseHeld(overBudget);
    this.#events = [];
    this.#prefix[0] = [];
    this.#prefix[1] = [];
    this.#registry.forget(this, null);
  }

  #hold(bytes: number): void {
    this.#held += bytes;
    this.#registry.account(bytes);
  }

  #releaseHeld(dropped: boolean): void {
    this.#registry.account(-this.#held);
    if (dropped) this.#registry.countDropped(this.#held);
    this.#held = 0;
  }

  /**
   * Drops this direction's buffered bytes except a short tail, recorded as one gap for the parser.
   * The gap counts every byte dropped (earlier gaps included), so stream offsets stay exact.
   */
  #slide(dir: Direction, prefix: Uint8Array, tsUs: number): void {
    const lf = prefix.lastIndexOf(0x0a);
    const tailStart = lf >= 0 && prefix.length - (lf + 1) <= WINDOW_TAIL_BYTES ? lf + 1 : prefix.length;
    const tail = prefix.slice(tailStart);
    let dropped = 0;
    for (const e of this.#events) {
      if (e.dir !== dir) continue;
      if (e.kind === 'data') dropped += e.bytes.length;
      else if (e.kind === 'gap') dropped += e.lost;
    }
    this.#events = this.#events.filter((e) => e.dir !== dir || e.kind === 'end');
    this.#releaseHeld(false);
    for (const e of this.#events) if (e.kind === 'data') this.#hold(e.bytes.length);
    this.#hold(tail.length);
    this.#events.push({ kind: 'gap', dir, lost: dropped - tail.length, tsUs });
    this.#prefix[dir] = [];
    this.#prefixLen[dir] = 0;
    if (tail.length > 0) {
      this.#events.push({ kind: 'data', dir, bytes: tail, tsUs });
      this.#prefix[dir].push(tail);
      this.#prefixLen[dir] = tail.length;
    }
  }

  /** Counts the connection as undissected, by its guess as it stands; once. */
  #countGuess(): void {
    const guess = this.#guessing();
    if (guess === null) return;
    this.#guess = null;
    const id = guess.final();
    // The guess reads one direction's opening; a dissector of that protocol was refused by the reply.
    let refuted = false;
    if (this.#refused !== null) for (const d of this.#refused) if (d.protocol === id) refuted = true;
    this.#registry.countUndissected(this.#conn, refuted ? UNKNOWN_PROTOCOL : id);
  }

  #choose(d: Dissector): void {
    this.#guess = null;
    const stream = this.#registry.pin(this, d, this.#conn);
    this.#releaseHeld(false);
    this.#target = stream;
    this.#pinned = d;
    const events = this.#events;
    this.#events = [];
    this.#prefix[0] = [];
    this.#prefix[1] = [];
    // Replay in arrival order, gaps and FINs included.
    try {
      for (const e of events) {
        if (e.kind === 'data') stream.data(e.dir, e.bytes, e.tsUs);
        else if (e.kind === 'gap') stream.gap(e.dir, e.lost, e.tsUs);
        else stream.end(e.dir, e.tsUs);
      }
    } catch (err) {
      throw this.#registry.thrownBy(d, err);
    }
  }
}

/** `dissectors` with those registered on one of `ports` first; a stable split, registration order kept. */
function hintedOrder(dissectors: readonly Dissector[], ports: readonly number[]): readonly Dissector[] {
  const hinted = (d: Dissector): boolean => d.ports.some((p) => ports.includes(p));
  return [...dissectors.filter(hinted), ...dissectors.filter((d) => !hinted(d))];
}

/** Direction 0 runs from side `a`, the client when its SYN was seen (else the best guess of it). */
function sniffDirection(dir: Direction): SniffDirection {
  return dir === 0 ? 'to-server' : 'to-client';
}
