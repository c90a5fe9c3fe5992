/**
 * Where an HTTP/2 stream meets gRPC (dissect/grpc/): a stream whose request or response content
 * type is gRPC gets a call collector that sees its DATA and trailers, and its entry gets `grpc`.
 * Until the gRPC folder's decoder is in, no stream is treated as gRPC (the seam answers null).
 */
import type { GrpcCall } from '../grpc/entry.ts';
import type { DissectOptions } from '../dissector.ts';

/** The gRPC folder's collector of one call (dissect/grpc/index.ts). */
export interface GrpcCallCollector {
  requestData(bytes: Uint8Array): void;
  responseHeaders(headers: Readonly<Record<string, string>>): void;
  responseData(bytes: Uint8Array): void;
  gap(side: 'request' | 'response', lostBytes: number): void;
  trailers(headers: Readonly<Record<string, string>>): void;
  finish(): GrpcCall;
}

/** Whether a content type is gRPC's (`application/grpc`, `application/grpc+proto`...). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const ct = contentType.toLowerCase();
  return ct === 'application/grpc' || ct.startsWith('application/grpc+') || ct.startsWith('application/grpc;');
}

/** The collector of a gRPC call opened by `requestHeaders`; null while gRPC decoding is not wired in. */
export function openGrpcCall(_requestHeaders: Readonly<Record<string, string>>, _options: DissectOptions): GrpcCallCollector | null {
  return null;
}
