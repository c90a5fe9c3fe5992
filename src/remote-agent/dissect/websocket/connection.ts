/**
 * One WebSocket connection, continued from the HTTP/1 upgrade that opened it (a HandOff): a frame
 * parser and a message assembler per direction, and one entry per message.
 */
import { isoFromMicros } from '../../../model/entry.ts';
import type { Endpoint } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction, type SocketAddress } from '../../tcp/stream.ts';
import { bodyLimits } from '../body/body-collector.ts';
import type { DissectContext, DissectorStream, HandOff } from '../dissector.ts';
import { WEBSOCKET_PROTOCOL, type WebSocketEntry } from './entry.ts';
import { FrameParser } from './frame-parser.ts';
import { MessageAssembler, type AssembledMessage } from './message-assembler.ts';
import { MessageInflater, negotiatedDeflate } from './permessage-deflate.ts';

/** The 101 response's header that names the accepted extensions (HandOff.params key). */
export const EXTENSIONS_PARAM = 'sec-websocket-extensions';

export class WebSocketConnection implements DissectorStream {
  readonly #conn: ConnectionInfo;
  readonly #ctx: DissectContext;
  readonly #handOff: HandOff;
  readonly #parsers: readonly [FrameParser, FrameParser];
  readonly #assemblers: readonly [MessageAssembler, MessageAssembler];
  #nextOrdinal: number;
  #closed = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext, handOff: HandOff) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#handOff = handOff;
    this.#nextOrdinal = handOff.nextOrdinal;
    const deflate = negotiatedDeflate(handOff.params[EXTENSIONS_PARAM]);
    const limits = bodyLimits(ctx.options.maxBodyBytes);
    const side = (dir: Direction): MessageAssembler => {
      const fromClient = dir === handOff.clientDir;
      const takeover = fromClient ? !deflate?.clientNoContextTakeover : !deflate?.serverNoContextTakeover;
      const inflater = deflate === null ? null : new MessageInflater(takeover);
      return new MessageAssembler(limits, inflater, (m) => this.#emit(dir, m));
    };
    this.#assemblers = [side(0), side(1)];
    this.#parsers = [new FrameParser(this.#assemblers[0], handOff.offsets[0]), new FrameParser(this.#assemblers[1], handOff.offsets[1])];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    if (this.#closed) return;
    this.#parsers[dir].push(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, _tsUs: number): void {
    if (this.#closed) return;
    const parser = this.#parsers[dir];
    if (parser.dead) return parser.lose(lostBytes);
    if (lostBytes <= parser.payloadRemaining) {
      // Inside a payload the framing survives the hole: the message goes on, marked.
      this.#assemblers[dir].lose(lostBytes);
      parser.skipPayload(lostBytes);
      return;
    }
    // A frame header may be in the hole: there is no telling where the next frame starts.
    this.#ctx.violation();
    this.#assemblers[dir].end(`${lostBytes} bytes lost in capture; the rest of this direction is not followed`);
    parser.lose(lostBytes);
    parser.kill();
  }

  end(dir: Direction, _tsUs: number): void {
    if (this.#closed) return;
    this.#finishDirection(dir, 'the sender closed the connection inside the message');
  }

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    const why = reason === 'end-of-capture' ? 'capture ended inside the message' : `connection closed (${reason}) inside the message`;
    this.#finishDirection(this.#handOff.clientDir, why);
    this.#finishDirection(this.#handOff.clientDir === 0 ? 1 : 0, why);
    this.#closed = true;
  }

  oldestPendingUs(): number {
    return Math.min(this.#assemblers[0].oldestPendingUs(), this.#assemblers[1].oldestPendingUs());
  }

  #finishDirection(dir: Direction, why: string): void {
    if (this.#parsers[dir].dead) return;
    this.#parsers[dir].kill();
    this.#assemblers[dir].end(why);
  }

  #emit(dir: Direction, m: AssembledMessage): void {
    const fromClient = dir === this.#handOff.clientDir;
    const { a, b } = this.#conn;
    const clientIsA = this.#handOff.clientDir === 0;
    const entry: WebSocketEntry = {
      id: `${connectionLabel(this.#conn)}-${this.#nextOrdinal++}`,
      protocol: WEBSOCKET_PROTOCOL,
      src: endpoint(clientIsA ? a : b),
      dst: endpoint(clientIsA ? b : a),
      timestamp: Math.floor(m.startUs / 1000),
      startTime: isoFromMicros(m.startUs),
      elapsedTime: 0,
      requestSize: fromClient ? m.wireBytes : 0,
      responseSize: fromClient ? 0 : m.wireBytes,
      tls: false,
      request: fromClient ? m.message : null,
      response: fromClient ? null : m.message,
      error: m.problem === '' ? null : { type: 'dissection', msg: m.problem },
      upgradeId: this.#handOff.parentId,
    };
    // Where the message starts in its sender's direction: both ends of the connection agree on it.
    const requestSeq = this.#conn.sequenceAt?.(dir, m.startOffset);
    this.#ctx.emit(entry, requestSeq === undefined ? {} : { requestSeq });
  }
}

function endpoint(s: SocketAddress): Endpoint {
  return { ip: s.ip, port: s.port, name: '', namespace: '' };
}
