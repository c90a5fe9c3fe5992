/**
 * What a gRPC call adds to its HTTP/2 entry (`entry.grpc`): the call's service, method, status and
 * deadline, and its length-prefixed messages decoded (gRPC over HTTP/2, "PROTOCOL-HTTP2.md" in the
 * grpc/grpc repository). A gRPC call is an HTTP entry like Kubeshark's (`protocol.name` "http",
 * `version` "2.0", `abbr` "gRPC"; HAR-shaped request and response with the de-framed bodies), so
 * its users' `grpc and request.headers[":path"] == ...` filters keep working; this part is what
 * lets people read the call without a schema, and filter on `grpc.status`, `grpc.service`,
 * `grpc.method`. A streaming RPC is one entry: every message is counted, the first ones are kept.
 * docs/entries.md documents the shape.
 *
 * Imports only src/model (descriptor.ts, KFL and the TUI load it without the parsers).
 */

/** One field of a protobuf message decoded without a schema (the wire format, guessed upward). */
export interface ProtoField {
  /** Field number. */
  no: number;
  /** Protobuf wire type: varint (0), i64 (1), len (2), group (3/4, obsolete), i32 (5). */
  wire: 'varint' | 'i64' | 'len' | 'group' | 'i32';
  /**
   * varint, i64, i32: the value as an unsigned integer (a decimal string past 2^53, so JSON keeps
   * it exact). Signed and floating readings are not guessed: the schema path gives them.
   */
  value?: number | string;
  /** len: the bytes read as text, when they are printable UTF-8. */
  string?: string;
  /** len (or group): the fields of a nested message, when the bytes parse as one. */
  message?: ProtoField[];
  /** len: the bytes as base64, when they are neither text nor a message. */
  bytes?: string;
}

/** One length-prefixed gRPC message (5-byte prefix: compressed flag and length). */
export interface GrpcMessage {
  /** Bytes of the message on the wire, after the prefix (compressed size when `compressed`). */
  size: number;
  /** The prefix's compressed flag: the message is in the call's `grpc-encoding`. */
  compressed: boolean;
  /** Bytes after decompression (absent when not compressed or not decompressed). */
  decodedSize?: number;
  /** The protobuf message type, when a schema (`--proto-descriptor`) names it. */
  type?: string;
  /** Decoded with the schema: the message in protobuf's canonical JSON mapping. */
  json?: unknown;
  /** Decoded without a schema: the fields as the bytes parse. */
  fields?: ProtoField[];
  /** Why the message is not decoded (cut by `--max-body`, unknown encoding, not protobuf...). */
  error?: string;
  /** Present and true when only part of the message was kept (`--max-body`). */
  truncated?: boolean;
}

export interface GrpcCall {
  /** From `:path` `/package.Service/Method`: `package.Service`. */
  service: string;
  /** From `:path`: `Method`. */
  method: string;
  /**
   * `grpc-status` from the trailers (or a trailers-only response); null when the call has none
   * (reset, cut off, still running at the end of the capture).
   */
  status: number | null;
  /** The status code's name (`OK`, `NOT_FOUND`, ...; `CODE_<n>` for a number gRPC does not define); null with `status`. */
  statusName: string | null;
  /** `grpc-message`, percent-decoded; null when absent. */
  message: string | null;
  /** `grpc-encoding` of each side's messages; "identity" when absent. */
  requestEncoding: string;
  responseEncoding: string;
  /** The deadline the client sent (`grpc-timeout`), in milliseconds; null when none. */
  timeoutMs: number | null;
  /** Every message counted, per side (a streaming RPC has many). */
  requestMessageCount: number;
  responseMessageCount: number;
  /** The first messages of each side, decoded, within `--max-body` bytes per side. */
  requestMessages: GrpcMessage[];
  responseMessages: GrpcMessage[];
  /**
   * Why the messages of a side could not all be split (bytes lost in the capture, a prefix that
   * is not gRPC framing): the counts are then lower bounds. Absent when both sides split cleanly.
   */
  error?: string;
}
