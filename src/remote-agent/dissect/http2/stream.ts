/**
 * What the connection knows of one HTTP/2 stream (RFC 9113 §5) while its exchange is in flight:
 * the request and response as header fields, bodies and sizes, then what the entry is made of.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import type { Direction } from '../../tcp/stream.ts';
import type { BodyCollector } from '../body/body-collector.ts';
import type { Http2Reset } from '../http1/entry.ts';
import type { UpgradeOpening } from '../http1/upgrade-opening.ts';
import type { GrpcCallCollector } from '../grpc/index.ts';
import type { HpackField } from './hpack.ts';

/** One side of the exchange (the request, or the response) as its HEADERS and DATA frames made it. */
export interface Message {
  /** Capture time of the first frame of its header block. */
  readonly startUs: number;
  /** Stream offset of that frame in its direction (the request's gives EntryMeta.requestSeq). */
  readonly startOffset: number;
  /** The decoded header block, pseudo-header fields included, in order. */
  readonly fields: readonly HpackField[];
  /** Bytes of the HPACK-encoded header block (fragments of HEADERS and CONTINUATION, padding excluded). */
  readonly headersSize: number;
  /** DATA payloads, padding removed. */
  readonly body: BodyCollector;
  /** END_STREAM was seen: the side is complete. */
  ended: boolean;
}

export interface H2Stream {
  readonly id: number;
  /** Entry id `<connection>-<ordinal>`, in order of requests on the connection. */
  readonly ordinal: number;
  /** The direction the request came in (the client's; for a pushed stream, the one the server pushed to). */
  readonly clientDir: Direction;
  /** A pushed stream: its request is the server's PUSH_PROMISE (its startOffset is in the server's direction). */
  readonly pushed: boolean;
  /** The request: its HEADERS (or PUSH_PROMISE), or the HTTP/1.1 upgrade request of h2c stream 1. */
  readonly request: Message | UpgradeOpening;
  /** Capture time the request was complete (its END_STREAM), Infinity while it is not. */
  requestEndUs: number;
  /** The final response (a 1xx informational response is skipped), null until its HEADERS came. */
  response: Message | null;
  /** A HEADERS block after the response's: its trailers. */
  trailers: HpackField[] | null;
  /** Frame bytes of the stream per direction (frame headers included). */
  readonly frameBytes: [number, number];
  reset: Http2Reset | null;
  /** Why the exchange is incomplete (bytes lost, a block that could not be decoded), first reason only. */
  problem: EntryError | null;
  /** The gRPC call, when the request or the response content type says gRPC. */
  grpc: GrpcCallCollector | null;
}

export function isUpgraded(request: Message | UpgradeOpening): request is UpgradeOpening {
  return (request as UpgradeOpening).kind === 'http1-upgrade';
}

/** The value of the first field named `name` (lower case, as HTTP/2 sends names), or undefined. */
export function fieldOf(fields: readonly HpackField[], name: string): string | undefined {
  for (const f of fields) if (f.name === name) return f.value;
  return undefined;
}

/** All values of the fields named `name`, in order. */
export function fieldsOf(fields: readonly HpackField[], name: string): string[] {
  const out: string[] = [];
  for (const f of fields) if (f.name === name) out.push(f.value);
  return out;
}
