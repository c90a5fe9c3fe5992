/**
 * Test support for TCP reassembly: a StreamFactory that records every handler call as a line
 * of text, and a segment builder whose payloads live in one reused scratch buffer (as a capture
 * reader's would), scribbled over after each call so a missing copy shows up as corrupt bytes.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/remote-agent/ip/packet.ts';
import type { TcpAssembler } from '../../src/remote-agent/tcp/assembler.ts';
import type { CloseReason, ConnectionInfo, Direction, StreamFactory, StreamHandler } from '../../src/remote-agent/tcp/stream.ts';

export const CLIENT = Object.freeze({ ip: '10.0.0.1', port: 40000 });
export const SERVER = Object.freeze({ ip: '10.0.0.2', port: 80 });

export interface TestSegment {
  readonly from: 'c' | 's';
  readonly seq: number;
  readonly data?: string | Uint8Array;
  readonly flags?: number;
  readonly ack?: number;
  readonly tsUs?: number;
  /** Override the endpoints (defaults: CLIENT and SERVER). */
  readonly client?: { readonly ip: string; readonly port: number };
  readonly server?: { readonly ip: string; readonly port: number };
}

/** Records handler calls as `"<index> data <dir> <latin1 text>"`, `"<index> gap <dir> <n>"` ... */
export class RecordingFactory implements StreamFactory {
  readonly events: string[] = [];
  readonly infos: ConnectionInfo[] = [];
  /** Raw byte views received, to check the hot path passes the caller's view through. */
  readonly views: Uint8Array[] = [];
  /** When set, every `data` call throws this after recording (a buggy dissector, or a violation). */
  throwOnData: (() => Error) | null = null;

  open(conn: ConnectionInfo): StreamHandler {
    this.infos.push(conn);
    const events = this.events;
    const views = this.views;
    const id = conn.index;
    let closed = false;
    const afterClose = (what: string): void => {
      if (closed) events.push(`${id} ${what} AFTER CLOSE`);
    };
    return {
      data: (dir: Direction, bytes: Uint8Array, _tsUs: number): void => {
        afterClose('data');
        views.push(bytes);
        events.push(`${id} data ${dir} ${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}`);
        if (this.throwOnData !== null) throw this.throwOnData();
      },
      gap: (dir: Direction, lostBytes: number, _tsUs: number): void => {
        afterClose('gap');
        events.push(`${id} gap ${dir} ${lostBytes}`);
      },
      end: (dir: Direction, _tsUs: number): void => {
        afterClose('end');
        events.push(`${id} end ${dir}`);
      },
      close: (reason: CloseReason, _tsUs: number): void => {
        afterClose('close');
        closed = true;
        events.push(`${id} close ${reason}`);
      },
    };
  }
}

/** Builds TcpSegments whose payload is a view into one reused buffer. */
export class SegmentFeeder {
  readonly #scratch = new Uint8Array(1 << 20);
  #clock = 0;

  feed(assembler: TcpAssembler, segments: readonly TestSegment[]): void {
    for (const s of segments) {
      const seg = this.build(s);
      assembler.segment(seg);
      // A capture reader reuses its buffer: anything the assembler kept as a view now rots.
      this.#scratch.fill(0x7e, 0, seg.payload.length);
    }
  }

  build(s: TestSegment): TcpSegment {
    const client = s.client ?? CLIENT;
    const server = s.server ?? SERVER;
    const [src, dst] = s.from === 'c' ? [client, server] : [server, client];
    const data = s.data ?? '';
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.#scratch.set(bytes, 0);
    const tsUs = s.tsUs ?? this.#clock;
    this.#clock = tsUs + 1;
    return {
      tsUs,
      srcIp: src.ip,
      dstIp: dst.ip,
      srcPort: src.port,
      dstPort: dst.port,
      seq: s.seq >>> 0,
      ack: (s.ack ?? 0) >>> 0,
      flags: s.flags ?? (s.ack === undefined ? 0 : TCP_ACK),
      payload: this.#scratch.subarray(0, bytes.length),
    };
  }
}

export const SYN = TCP_SYN;
export const SYN_ACK = TCP_SYN | TCP_ACK;
export const ACK = TCP_ACK;
export const FIN_ACK = TCP_FIN | TCP_ACK;
export const RST = TCP_RST;
export const FIN = TCP_FIN;

/** Client ISN 999 (data from 1000), server ISN 4999 (data from 5000). */
export function handshake(clientIsn = 999, serverIsn = 4999): TestSegment[] {
  return [
    { from: 'c', seq: clientIsn, flags: SYN },
    { from: 's', seq: serverIsn, flags: SYN_ACK, ack: clientIsn + 1 },
    { from: 'c', seq: clientIsn + 1, flags: ACK, ack: serverIsn + 1 },
  ];
}
