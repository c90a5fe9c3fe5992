/**
 * One Kafka message (after its 4-byte size) read as a request or, given its request's API key and
 * version, as a response: the header of every API key and version (request header v0-v2, response
 * header v0-v1), and the body when bodies.ts describes that key and version. A key or version we
 * do not know degrades to the header only, with a note saying so.
 */
import { apiKeyInfo, apiKeyName, isFlexible, requestHeaderVersion, responseHeaderVersion } from './api-keys.ts';
import { bodySchemas } from './bodies.ts';
import type { KafkaBody, KafkaDecoded } from './entry.ts';
import { errorCodeName } from './error-codes.ts';
import { decodeBody, type KafkaPayload } from './schema.ts';
import { KafkaDecodeError, WireReader } from './wire-reader.ts';

export interface ParsedRequest {
  readonly size: number;
  readonly apiKey: number;
  readonly apiKeyName: string;
  readonly apiVersion: number;
  readonly correlationID: number;
  readonly clientID: string;
  readonly payload: KafkaBody;
  readonly decoded: KafkaDecoded;
  readonly note?: string;
}

export interface ParsedResponse {
  readonly size: number;
  readonly correlationID: number;
  readonly payload: KafkaBody;
  readonly decoded: KafkaDecoded;
  readonly note?: string;
  readonly errorCode: number | null;
  readonly errorName: string | null;
}

/** What holding a parsed message costs, roughly: its kept bytes and the values decoded from them. */
export interface ParseCost {
  values: number;
}

/**
 * `message` is the size field and what follows (maybe cut: `size` is the whole length after the
 * size field). Returns null when not even the request header is there. `cost`, when given, is
 * told how many values the body held.
 */
export function parseRequest(message: Uint8Array, size: number, recordBytes: number, cost?: ParseCost): ParsedRequest | null {
  const r = new WireReader(message, 4);
  let apiKey: number;
  let apiVersion: number;
  let correlationID: number;
  let clientID = '';
  try {
    apiKey = r.int16();
    apiVersion = r.int16();
    correlationID = r.int32();
    const headerVersion = requestHeaderVersion(apiKey, apiVersion);
    if (headerVersion >= 1) clientID = r.string(false) ?? '';
    const known = apiKeyInfo(apiKey);
    if (known === undefined) return headerOnly(size, apiKey, apiVersion, correlationID, clientID, `API key ${apiKey} is not known`);
    if (headerVersion === 2) r.taggedFields();
  } catch (e) {
    if (e instanceof KafkaDecodeError) return null;
    throw e;
  }
  const schemas = bodySchemas(apiKey, apiVersion);
  if (schemas === null) {
    const info = apiKeyInfo(apiKey)!;
    const why = apiVersion > info.maxVersion || apiVersion < 0
      ? `${info.name} version ${apiVersion} is not known`
      : `${info.name} bodies are not decoded`;
    return headerOnly(size, apiKey, apiVersion, correlationID, clientID, why);
  }
  const body = decodeBody(r, schemas.request, apiVersion, isFlexible(apiKey, apiVersion), recordBytes);
  if (cost !== undefined) cost.values = body.values;
  return {
    size,
    apiKey,
    apiKeyName: apiKeyName(apiKey),
    apiVersion,
    correlationID,
    clientID,
    payload: body.payload,
    ...decodedOf(body.problem, message.length - 4 < size, r.remaining),
  };
}

function headerOnly(size: number, apiKey: number, apiVersion: number, correlationID: number, clientID: string, note: string): ParsedRequest {
  return { size, apiKey, apiKeyName: apiKeyName(apiKey), apiVersion, correlationID, clientID, payload: {}, decoded: 'header', note };
}

/** How far a body was read, and why not to its end. */
function decodedOf(problem: string | undefined, cut: boolean, left: number): { decoded: KafkaDecoded; note?: string } {
  if (problem !== undefined) return { decoded: 'partial', note: cut ? 'message longer than the bytes kept: body cut' : `malformed body: ${problem}` };
  if (cut) return { decoded: 'partial', note: 'message longer than the bytes kept: body cut' };
  // Bytes past the fields we know: a newer minor change or a damaged message; the fields read stand.
  if (left > 0) return { decoded: 'body', note: `${left} bytes after the body's fields` };
  return { decoded: 'body' };
}

/** The correlation id a response starts with; null when the bytes are too few. */
export function responseCorrelationId(message: Uint8Array): number | null {
  if (message.length < 8) return null;
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getInt32(4);
}

/** A response, read with its request's API key and version. */
export function parseResponse(message: Uint8Array, size: number, apiKey: number, apiVersion: number, recordBytes: number): ParsedResponse | null {
  const r = new WireReader(message, 4);
  let correlationID: number;
  try {
    correlationID = r.int32();
    if (apiKeyInfo(apiKey) === undefined) return responseHeaderOnly(size, correlationID, `API key ${apiKey} is not known`);
    if (responseHeaderVersion(apiKey, apiVersion) === 1) r.taggedFields();
  } catch (e) {
    if (e instanceof KafkaDecodeError) return null;
    throw e;
  }
  const schemas = bodySchemas(apiKey, apiVersion);
  if (schemas === null) {
    return responseHeaderOnly(size, correlationID, `${apiKeyName(apiKey)} version ${apiVersion} responses are not decoded`);
  }
  const body = decodeBody(r, schemas.response, apiVersion, isFlexible(apiKey, apiVersion), recordBytes);
  const errorCode = firstErrorCode(body.payload);
  return {
    size,
    correlationID,
    payload: body.payload,
    ...decodedOf(body.problem, message.length - 4 < size, r.remaining),
    errorCode,
    errorName: errorCode === null ? null : errorCodeName(errorCode),
  };
}

function responseHeaderOnly(size: number, correlationID: number, note: string): ParsedResponse {
  return { size, correlationID, payload: {}, decoded: 'header', note, errorCode: null, errorName: null };
}

/** Nodes visited looking for an error code (a body of many partitions is not walked whole). */
const MAX_ERROR_SEARCH = 10_000;

/**
 * The top-level errorCode when non-zero, else the first non-zero one of a topic or partition
 * (breadth first), else 0; null when the body has no errorCode field at all.
 */
export function firstErrorCode(payload: KafkaPayload): number | null {
  let seen: number | null = null;
  const queue: unknown[] = [payload];
  for (let i = 0; i < queue.length && i < MAX_ERROR_SEARCH; i++) {
    const node = queue[i];
    if (Array.isArray(node)) {
      for (const x of node) if (typeof x === 'object' && x !== null) queue.push(x);
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    const o = node as Record<string, unknown>;
    const code = o['errorCode'];
    if (typeof code === 'number') {
      if (code !== 0) return code;
      seen = 0;
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'records' && typeof v === 'object' && v !== null) queue.push(v);
  }
  return seen;
}
