/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message after a two-byte length, several in one
 * segment or one split across many; a zone transfer answers with a run of messages. A direction
 * that loses bytes (a capture gap) cannot find its next length again and is ignored from there.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import { DnsExchanges } from './exchanges.ts';
import { sniffDnsStream } from './sniff.ts';
import { DNS_PORTS } from './udp.ts';

/** Splits one direction's bytes into length-prefixed messages; holds at most one message. */
export class LengthPrefixedFramer {
  readonly #deliver: (message: Uint8Array, startUs: number) => void;
  #chunks: Uint8Array[] = [];
  #held = 0;
  /** Capture time of the first byte of the message being collected. */
  #startUs = 0;
  #lost = false;

  constructor(deliver: (message: Uint8Array, startUs: number) => void) {
    this.#deliver = deliver;
  }

  /** Bytes held for a message not complete yet. */
  get held(): number {
    return this.#held;
  }

  data(bytes: Uint8Array, tsUs: number): void {
    if (this.#lost || bytes.length === 0) return;
    if (this.#held === 0) this.#startUs = tsUs;
    this.#chunks.push(bytes.slice());
    this.#held += bytes.length;
    for (;;) {
      if (this.#held < 2) return;
      const length = this.#peekLength();
      if (this.#held < 2 + length) return;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#held);
      const startUs = this.#startUs;
      const rest = all.subarray(2 + length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#held = rest.length;
      // What follows in the same segment starts now.
      this.#startUs = tsUs;
      this.#deliver(all.subarray(2, 2 + length), startUs);
    }
  }

  /** Bytes were lost: the next length cannot be found; what is held and what follows is dropped. */
  gap(): void {
    this.#lost = true;
    this.#chunks = [];
    this.#held = 0;
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    const hi = first[0]!;
    const lo = first.length > 1 ? first[1]! : this.#chunks[1]![0]!;
    return (hi << 8) | lo;
  }
}

class DnsTcpStream implements DissectorStream {
  readonly #exchanges: DnsExchanges;
  readonly #framers: [LengthPrefixedFramer, LengthPrefixedFramer];
  #closed = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    const exchanges = new DnsExchanges(ctx, { idPrefix: connectionLabel(conn), transport: 'tcp', a: conn.a, b: conn.b });
    this.#exchanges = exchanges;
    this.#framers = [
      new LengthPrefixedFramer((m, ts) => exchanges.message(0, m, ts)),
      new LengthPrefixedFramer((m, ts) => exchanges.message(1, m, ts)),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#exchanges.expire(tsUs);
    this.#framers[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, _lostBytes: number, _tsUs: number): void {
    this.#framers[dir].gap();
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#exchanges.close(closeError(reason));
  }

  oldestPendingUs(): number {
    return this.#exchanges.oldestPendingUs();
  }
}

function closeError(reason: CloseReason): EntryError {
  if (reason === 'end-of-capture') return { type: 'connection', msg: 'capture ended before the response' };
  return { type: 'connection', msg: `connection closed (${reason}) before the response` };
}

export const dnsStreamDissector: Dissector = Object.freeze({
  id: 'dns-tcp',
  protocol: 'dns',
  ports: DNS_PORTS,
  sniff: (prefix: Uint8Array) => sniffDnsStream(prefix),
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new DnsTcpStream(conn, ctx),
});
