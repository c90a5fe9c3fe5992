/**
 * What a gRPC call's headers and trailers say, read as "PROTOCOL-HTTP2.md" (grpc/grpc) defines
 * them: the method from `:path`, the status and its message, the per-side message encoding and
 * the client's deadline. Every reader takes what a peer sent (hostile: any string) and never throws.
 */

/** gRPC status codes 0..16 by number (grpc/grpc "doc/statuscodes.md"). */
const STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The status code's name; `CODE_<n>` for a number gRPC does not define. */
export function grpcStatusName(status: number): string {
  return STATUS_NAMES[status] ?? `CODE_${status}`;
}

/** `grpc-status` (1*DIGIT); null when absent or not a number. */
export function parseGrpcStatus(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  // Nine digits at most: a status is a small number, and this keeps the value a safe integer.
  if (!/^[0-9]{1,9}$/.test(v)) return null;
  return Number(v);
}

export interface GrpcPath {
  /** `package.Service` ('' when the path has none). */
  readonly service: string;
  /** `Method` ('' when the path has none). */
  readonly method: string;
}

/**
 * `:path` is `/package.Service/Method`. A malformed path keeps what can be read: without a second
 * slash it is all service; anything after the second slash stays in the method, so nothing is lost.
 */
export function parseGrpcPath(path: string | undefined): GrpcPath {
  if (path === undefined) return { service: '', method: '' };
  const rest = path.startsWith('/') ? path.slice(1) : path;
  const slash = rest.indexOf('/');
  if (slash < 0) return { service: rest, method: '' };
  return { service: rest.slice(0, slash), method: rest.slice(slash + 1) };
}

/** Milliseconds per unit of `grpc-timeout` (Hours, Minutes, Seconds, millis, micros, nanos). */
const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * `grpc-timeout` is `1*8DIGIT unit`, the unit one of H M S m u n: in milliseconds (fractions kept
 * for u and n); null when absent or malformed (more than 8 digits, an unknown unit, a sign...).
 */
export function parseGrpcTimeout(value: string | undefined): number | null {
  if (value === undefined) return null;
  const m = /^([0-9]{1,8})([HMSmun])$/.exec(value.trim());
  if (m === null) return null;
  return Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `grpc-message` is the UTF-8 message percent-encoded (`%XX` for bytes outside printable ASCII and
 * for `%` itself). Decoded back; a malformed escape (`%`, `%4`, `%zz`) is kept as sent, and bytes
 * that do not decode as UTF-8 keep their escapes, so a broken message is shown as it was sent.
 */
export function percentDecodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const pct = value.indexOf('%', i);
    if (pct < 0) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, pct);
    // A run of well-formed escapes is one byte sequence: a UTF-8 character spans several.
    let j = pct;
    const bytes: number[] = [];
    while (j + 2 < value.length && value[j] === '%' && isHex(value.charCodeAt(j + 1)) && isHex(value.charCodeAt(j + 2))) {
      bytes.push(parseInt(value.slice(j + 1, j + 3), 16));
      j += 3;
    }
    if (bytes.length === 0) {
      out += '%';
      i = pct + 1;
      continue;
    }
    try {
      out += UTF8.decode(Uint8Array.from(bytes));
    } catch {
      out += value.slice(pct, j);
    }
    i = j;
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** `grpc-encoding` of one side's messages, lower-cased; "identity" when absent or empty. */
export function grpcEncodingOf(headers: Readonly<Record<string, string>> | undefined): string {
  const v = headers?.['grpc-encoding']?.trim().toLowerCase() ?? '';
  return v === '' ? 'identity' : v;
}

/** The encodings this dissector undoes (node:zlib); others are counted, not decoded. */
export function canDecodeGrpcEncoding(encoding: string): boolean {
  return encoding === 'gzip' || encoding === 'deflate' || encoding === 'identity';
}

/** How a side's messages are encoded, by its content-type: protobuf unless it says `+json`. */
export type GrpcMessageFormat = 'proto' | 'json';

/** `application/grpc+json` carries JSON messages; `application/grpc`, `+proto` and others protobuf. */
export function grpcMessageFormat(contentType: string | undefined): GrpcMessageFormat {
  const type = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/grpc+json' ? 'json' : 'proto';
}

/**
 * `application/grpc` and its `+proto`, `+json`... forms (with parameters). gRPC-Web
 * (`application/grpc-web`, `grpc-web-text`) is not gRPC over HTTP/2 (its trailers travel in the
 * body, base64 for -text): it stays a plain HTTP entry.
 */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/grpc' || type.startsWith('application/grpc+');
}
