/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message after a two-byte length, several in one
 * segment or one split across many (framing/message-framer.ts); a zone transfer answers with a run
 * of messages. A gap inside a message skips that message; a gap between messages ends the
 * direction (its next length cannot be found again).
 */
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import { MessageFramer } from '../framing/message-framer.ts';
import { DnsExchanges } from './exchanges.ts';
import { sniffDnsStream } from './sniff.ts';
import { DNS_PORTS } from './udp.ts';
import { unansweredAtClose } from '../pairing/close-error.ts';

/** A DNS message over TCP: a two-byte length, then the message (at most 65,535 bytes, kept whole). */
const DNS_TCP_FRAMING = {
  frameLength: (head: Uint8Array) => (head.length < 2 ? ('more' as const) : 2 + ((head[0]! << 8) | head[1]!)),
  maxKeepBytes: 2 + 0xffff,
};

/**
 * One direction's messages, handed to the exchanges. A message the capture lost bytes of is not
 * parsed (its names and records would be misread); a gap between messages ends the direction (a
 * length cannot be found again).
 */
function dnsFramer(deliver: (message: Uint8Array, startUs: number) => void): MessageFramer {
  return new MessageFramer(DNS_TCP_FRAMING, (m) => {
    if (m.lostBytes === 0) deliver(m.bytes.subarray(2), m.startUs);
  });
}

class DnsTcpStream implements DissectorStream {
  readonly #exchanges: DnsExchanges;
  readonly #framers: [MessageFramer, MessageFramer];
  #closed = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    const exchanges = new DnsExchanges(ctx, { idPrefix: connectionLabel(conn), transport: 'tcp', a: conn.a, b: conn.b });
    this.#exchanges = exchanges;
    this.#framers = [
      dnsFramer((m, ts) => exchanges.message(0, m, ts)),
      dnsFramer((m, ts) => exchanges.message(1, m, ts)),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#exchanges.expire(tsUs);
    this.#framers[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    this.#framers[dir].gap(lostBytes, tsUs);
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#exchanges.close(unansweredAtClose(reason));
  }

  oldestPendingUs(): number {
    return this.#exchanges.oldestPendingUs();
  }
}

export const dnsStreamDissector: Dissector = Object.freeze({
  id: 'dns-tcp',
  protocol: 'dns',
  ports: DNS_PORTS,
  sniff: (prefix: Uint8Array) => sniffDnsStream(prefix),
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new DnsTcpStream(conn, ctx),
});
