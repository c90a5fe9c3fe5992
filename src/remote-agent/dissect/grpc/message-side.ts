/**
 * One side of a gRPC call: its DATA bytes split into length-prefixed messages (5-byte prefix: a
 * compressed flag byte, then the length as a 32-bit big-endian number), every message counted, the
 * first ones kept, decompressed and decoded.
 *
 * An explicit state machine over the chunks as they come (any chunking: a message may span many
 * DATA frames, a frame may hold many messages). Memory is bounded whatever the peer declares: a
 * message's bytes are copied only while they are kept, up to the side's budget (the decoded bytes
 * of `--max-body` per side) or, for compressed ones, the encoded cap of ../body (bodyLimits); a
 * 4 GiB length only counts down. Decompression goes through ../body/content-decoding.ts with its
 * output ceiling. The decoded forms are bounded too (DECODED_FORM_BUDGET), so an entry stays within
 * the agent's frame line limit (wire/protocol.ts maxFrameLineBytes).
 */
import { bodyLimits, type BodyLimits } from '../body/body-collector.ts';
import { decodeContent } from '../body/content-decoding.ts';
import { formatBytes } from '../../../model/byte-units.ts';
import type { ProtobufSchema } from '../dissector.ts';
import { canDecodeGrpcEncoding, type GrpcMessageFormat } from './call-headers.ts';
import type { GrpcMessage } from './entry.ts';
import { decodeSchemaless } from './protobuf-wire.ts';

/** Messages kept per side (the rest counted): a stream of empty messages uses no byte budget. */
export const MAX_KEPT_MESSAGES = 100;

/**
 * JSON characters the decoded forms of one side may take: room for the forms of `maxBodyBytes`
 * of messages (a field is a few bytes on the wire and some 30 characters of JSON) while the whole
 * entry stays under maxFrameLineBytes (wire/protocol.ts), which allows 12 bytes per body byte.
 */
export function decodedFormBudget(maxBodyBytes: number): number {
  return 4 * Math.max(0, maxBodyBytes) + 128 * 1024;
}

const PREFIX_BYTES = 5;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What a side needs to decode its messages. */
export interface MessageSideConfig {
  readonly maxBodyBytes: number;
  readonly schema?: ProtobufSchema;
  /** The message type the schema gives this side, or undefined (then decoded without a schema). */
  readonly typeName?: string;
  /** `grpc-encoding` of this side, read when a message completes (response headers may come late). */
  encoding(): string;
  /** The message format of this side's content-type (`application/grpc+json`: json), read likewise. */
  format(): GrpcMessageFormat;
}

interface Pending {
  readonly size: number;
  readonly compressed: boolean;
  /** Bytes of the message still to come. */
  remaining: number;
  /** Kept bytes (views copied), or null when the message is only counted. */
  readonly parts: Uint8Array[] | null;
  keptBytes: number;
  readonly cap: number;
}

export class MessageSide {
  readonly #config: MessageSideConfig;
  readonly #limits: BodyLimits;
  readonly #prefix = new Uint8Array(PREFIX_BYTES);
  #prefixFilled = 0;
  #pending: Pending | null = null;
  /** Decoded bytes this side may still keep. */
  #budget: number;
  #formBudget: number;
  #count = 0;
  readonly #kept: GrpcMessage[] = [];
  /** Why splitting stopped; null while it goes on. */
  #stopped: string | null = null;
  #lostBytes = 0;

  constructor(config: MessageSideConfig) {
    this.#config = config;
    this.#limits = bodyLimits(config.maxBodyBytes);
    this.#budget = this.#limits.maxKeepBytes;
    this.#formBudget = decodedFormBudget(config.maxBodyBytes);
  }

  get count(): number {
    return this.#count;
  }

  get messages(): GrpcMessage[] {
    return this.#kept;
  }

  /** Why this side's messages are not all split, or null. */
  get error(): string | null {
    return this.#stopped;
  }

  data(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length && this.#stopped === null) {
      if (this.#pending === null) at = this.#readPrefix(bytes, at);
      else at = this.#readBody(bytes, at);
    }
  }

  /** Bytes lost in the capture: the framing is lost, so splitting stops here. */
  gap(lostBytes: number): void {
    this.#lostBytes += Math.max(0, lostBytes);
    const p = this.#pending;
    if (p !== null) this.#endPending(`the capture lost bytes inside it (${p.size - p.remaining} of its ${p.size} bytes seen before)`);
    this.#pending = null;
    if (this.#stopped === null || this.#stopped.startsWith('lost')) {
      this.#stopped = `lost ${this.#lostBytes} bytes in the capture; the messages after them are not split, so the count is a lower bound`;
    }
  }

  /** The side ended (END_STREAM, reset, end of capture): a message in progress is kept as cut. */
  finish(): void {
    if (this.#pending !== null) {
      const p = this.#pending;
      this.#endPending(`the call ended ${p.size - p.remaining} bytes into this ${p.size}-byte message`);
      this.#pending = null;
    } else if (this.#prefixFilled > 0 && this.#stopped === null) {
      this.#stopped = `the side ended inside a message prefix (${this.#prefixFilled} of 5 bytes)`;
    }
    this.#prefixFilled = 0;
  }

  #readPrefix(bytes: Uint8Array, at: number): number {
    const take = Math.min(PREFIX_BYTES - this.#prefixFilled, bytes.length - at);
    this.#prefix.set(bytes.subarray(at, at + take), this.#prefixFilled);
    this.#prefixFilled += take;
    if (this.#prefixFilled < PREFIX_BYTES) return at + take;
    this.#prefixFilled = 0;
    const flag = this.#prefix[0]!;
    if (flag > 1) {
      this.#stopped = `message ${this.#count + 1} has prefix flag 0x${flag.toString(16).padStart(2, '0')} (not 0 or 1): not gRPC message framing, the rest is not split`;
      return bytes.length;
    }
    const size = ((this.#prefix[1]! << 24) >>> 0) + (this.#prefix[2]! << 16) + (this.#prefix[3]! << 8) + this.#prefix[4]!;
    this.#count++;
    // Kept while the side's budget lasts (the first messages), counted always.
    const keep = this.#kept.length < MAX_KEPT_MESSAGES && this.#budget > 0;
    const cap = !keep ? 0 : flag === 1 ? this.#limits.maxEncodedBytes : this.#budget;
    this.#pending = { size, compressed: flag === 1, remaining: size, parts: keep ? [] : null, keptBytes: 0, cap };
    if (size === 0) this.#complete();
    return at + take;
  }

  #readBody(bytes: Uint8Array, at: number): number {
    const p = this.#pending!;
    const take = Math.min(p.remaining, bytes.length - at);
    if (p.parts !== null && p.keptBytes < p.cap) {
      const n = Math.min(take, p.cap - p.keptBytes);
      p.parts.push(bytes.slice(at, at + n));
      p.keptBytes += n;
    }
    p.remaining -= take;
    if (p.remaining === 0) this.#complete();
    return at + take;
  }

  #complete(): void {
    this.#endPending(null);
    this.#pending = null;
  }

  /** Keeps the pending message (when it is kept at all); `cutBy` says why it is incomplete. */
  #endPending(cutBy: string | null): void {
    const p = this.#pending!;
    if (p.parts === null) return;
    const message: GrpcMessage = { size: p.size, compressed: p.compressed };
    this.#kept.push(message);
    const encoded = concat(p.parts, p.keptBytes);
    const wholeOnWire = cutBy === null && p.keptBytes === p.size;
    let bytes = encoded;
    let whole = wholeOnWire;
    if (p.compressed) {
      const encoding = this.#config.encoding();
      if (encoding === 'identity') {
        message.error = 'the compressed flag is set but the call has no grpc-encoding: not decoded';
        return;
      }
      if (!canDecodeGrpcEncoding(encoding)) {
        message.error = `grpc-encoding ${encoding} is not one this tool decodes (gzip, deflate): not decoded`;
        return;
      }
      const decoded = decodeContent(encoded, [encoding], this.#limits.maxDecodedBytes);
      if (!decoded.ok) {
        message.error = `${encoding} decompression failed (${decoded.reason})`;
        if (cutBy !== null) message.error += `; ${cutBy}`;
        return;
      }
      bytes = decoded.bytes;
      if (wholeOnWire) message.decodedSize = bytes.length;
      // Cut on the wire by the encoded cap: what decoded is a prefix, whatever the side's budget.
      else cutBy ??= `only the first ${formatBytes(p.keptBytes)} of ${formatBytes(p.size)} compressed were kept`;
    }
    if (bytes.length > this.#budget) {
      bytes = bytes.subarray(0, this.#budget);
      whole = false;
    }
    this.#budget -= bytes.length;
    if (!whole) message.truncated = true;
    this.#decode(message, bytes, whole, cutBy);
  }

  #decode(message: GrpcMessage, bytes: Uint8Array, whole: boolean, cutBy: string | null): void {
    if (this.#config.format() === 'json') {
      this.#decodeJson(message, bytes, whole, cutBy);
      return;
    }
    const { schema, typeName } = this.#config;
    let schemaError: string | null = null;
    if (whole && schema !== undefined && typeName !== undefined) {
      try {
        const json = schema.toJson(typeName, bytes);
        if (this.#fits(json)) {
          message.type = typeName;
          message.json = json;
        } else message.error = 'the decoded message is larger than the per-side limit for decoded forms: not shown';
        return;
      } catch (err) {
        schemaError = `does not parse as ${typeName} (${errorText(err)}); decoded without the schema`;
      }
    }
    const result = decodeSchemaless(bytes);
    const notes: string[] = [];
    if (schemaError !== null) notes.push(schemaError);
    if (cutBy !== null) notes.push(cutBy);
    else if (!whole) notes.push(`cut by --max-body: ${bytes.length} of ${message.decodedSize ?? message.size} bytes kept`);
    else if (!result.complete) notes.push(`not protobuf past the first ${result.fields.length} fields`);
    if (result.cut) notes.push('too many fields: the first ones are shown');
    if (this.#fits(result.fields)) message.fields = result.fields;
    else notes.push('the decoded message is larger than the per-side limit for decoded forms: not shown');
    if (notes.length > 0) message.error = notes.join('; ');
  }

  /** `application/grpc+json`: each message is JSON text, shown as `json` (no schema needed). */
  #decodeJson(message: GrpcMessage, bytes: Uint8Array, whole: boolean, cutBy: string | null): void {
    if (!whole) {
      message.error = cutBy ?? `cut by --max-body: ${bytes.length} of ${message.decodedSize ?? message.size} bytes kept`;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(UTF8.decode(bytes));
    } catch {
      message.error = 'not JSON, though the content-type says application/grpc+json';
      return;
    }
    if (this.#fits(json)) message.json = json;
    else message.error = 'the decoded message is larger than the per-side limit for decoded forms: not shown';
  }

  /** Takes the decoded form's JSON size from the side's budget when it fits. */
  #fits(form: unknown): boolean {
    const size = JSON.stringify(form)?.length ?? 0;
    if (size > this.#formBudget) return false;
    this.#formBudget -= size;
    return true;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
