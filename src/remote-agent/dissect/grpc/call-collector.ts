/**
 * One gRPC call on one HTTP/2 stream, as the HTTP/2 connection feeds it: request headers, both
 * sides' DATA payloads, response headers, trailers, gaps; `finish` gives the call's summary
 * (GrpcCall). The HTTP/2 dissector owns the stream and the entry; this owns what gRPC adds to it.
 */
import type { DissectOptions } from '../dissector.ts';
import { grpcEncodingOf, grpcMessageFormat, grpcStatusName, parseGrpcPath, parseGrpcStatus, parseGrpcTimeout, percentDecodeGrpcMessage } from './call-headers.ts';
import type { GrpcCall } from './entry.ts';
import { MessageSide } from './message-side.ts';

type Headers = Readonly<Record<string, string>>;

/** Feeds one call; views passed in are valid only during the call that passes them. */
export interface GrpcCallCollector {
  /** A request DATA payload (padding removed), any chunking. */
  requestData(bytes: Uint8Array): void;
  /** The first response HEADERS (a trailers-only response carries grpc-status here). */
  responseHeaders(headers: Headers): void;
  responseData(bytes: Uint8Array): void;
  /** Capture lost bytes of a side: that side's message framing is lost from here. */
  gap(side: 'request' | 'response', lostBytes: number): void;
  trailers(headers: Headers): void;
  finish(): GrpcCall;
}

/** Starts a call from its request headers (lower-case names, pseudo-headers included). */
export function openGrpcCall(requestHeaders: Headers, options: DissectOptions): GrpcCallCollector {
  return new CallCollector(requestHeaders, options);
}

class CallCollector implements GrpcCallCollector {
  readonly #service: string;
  readonly #method: string;
  readonly #timeoutMs: number | null;
  readonly #requestEncoding: string;
  #responseHeaders: Headers | undefined;
  #trailers: Headers | undefined;
  readonly #request: MessageSide;
  readonly #response: MessageSide;

  constructor(requestHeaders: Headers, options: DissectOptions) {
    const { service, method } = parseGrpcPath(requestHeaders[':path']);
    this.#service = service;
    this.#method = method;
    this.#timeoutMs = parseGrpcTimeout(requestHeaders['grpc-timeout']);
    this.#requestEncoding = grpcEncodingOf(requestHeaders);
    const schema = options.protobufSchema;
    const types = schema?.rpcTypes(service, method) ?? null;
    const requestFormat = grpcMessageFormat(requestHeaders['content-type']);
    this.#request = new MessageSide({
      maxBodyBytes: options.maxBodyBytes,
      schema,
      typeName: types?.input,
      encoding: () => this.#requestEncoding,
      format: () => requestFormat,
    });
    this.#response = new MessageSide({
      maxBodyBytes: options.maxBodyBytes,
      schema,
      typeName: types?.output,
      encoding: () => grpcEncodingOf(this.#responseHeaders),
      // A response without its headers (lost) is taken to speak as the request did.
      format: () => (this.#responseHeaders?.['content-type'] === undefined ? requestFormat : grpcMessageFormat(this.#responseHeaders['content-type'])),
    });
  }

  requestData(bytes: Uint8Array): void {
    this.#request.data(bytes);
  }

  responseHeaders(headers: Headers): void {
    this.#responseHeaders ??= headers;
  }

  responseData(bytes: Uint8Array): void {
    this.#response.data(bytes);
  }

  gap(side: 'request' | 'response', lostBytes: number): void {
    (side === 'request' ? this.#request : this.#response).gap(lostBytes);
  }

  trailers(headers: Headers): void {
    this.#trailers = headers;
  }

  finish(): GrpcCall {
    this.#request.finish();
    this.#response.finish();
    // Trailers-only: the response's only HEADERS carry the status (grpc/grpc PROTOCOL-HTTP2.md).
    const final = this.#trailers?.['grpc-status'] !== undefined ? this.#trailers : this.#responseHeaders;
    const status = parseGrpcStatus(final?.['grpc-status']);
    const message = final?.['grpc-message'];
    const call: GrpcCall = {
      service: this.#service,
      method: this.#method,
      status,
      statusName: status === null ? null : grpcStatusName(status),
      message: message === undefined ? null : percentDecodeGrpcMessage(message),
      requestEncoding: this.#requestEncoding,
      responseEncoding: grpcEncodingOf(this.#responseHeaders),
      timeoutMs: this.#timeoutMs,
      requestMessageCount: this.#request.count,
      responseMessageCount: this.#response.count,
      requestMessages: this.#request.messages,
      responseMessages: this.#response.messages,
    };
    const errors: string[] = [];
    if (this.#request.error !== null) errors.push(`request: ${this.#request.error}`);
    if (this.#response.error !== null) errors.push(`response: ${this.#response.error}`);
    if (errors.length > 0) call.error = errors.join('; ');
    return call;
  }
}
