/** Turning a method (and its answer) into an AmqpEntry. */
import { isoFromMicros } from '../../../model/entry.ts';
import type { Endpoint, EntryError } from '../../../model/entry-envelope.ts';
import type { SocketAddress } from '../../tcp/stream.ts';
import { bodyText } from '../body/body-text.ts';
import type { AmqpBody, AmqpEntry, AmqpMethod } from './entry.ts';

/** One side of an entry: a method as it came, with its frames' bytes and capture time. */
export interface SentMethod {
  readonly method: AmqpMethod;
  readonly startUs: number;
  /** Bytes of its frames on the wire (method, content header and body frames). */
  readonly size: number;
}

export interface AmqpEntryParts {
  readonly id: string;
  readonly client: SocketAddress;
  readonly server: SocketAddress;
  readonly request: SentMethod;
  readonly response: SentMethod | null;
  readonly error: EntryError | null;
}

export function buildAmqpEntry(p: AmqpEntryParts): AmqpEntry {
  const req = p.request;
  const res = p.response;
  return {
    id: p.id,
    protocol: { name: 'amqp', version: '0-9-1', abbr: 'AMQP' },
    src: endpoint(p.client),
    dst: endpoint(p.server),
    timestamp: Math.floor(req.startUs / 1000),
    startTime: isoFromMicros(req.startUs),
    elapsedTime: res === null ? 0 : Math.max(0, (res.startUs - req.startUs) / 1000),
    requestSize: req.size,
    responseSize: res === null ? 0 : res.size,
    tls: false,
    request: req.method,
    response: res === null ? null : res.method,
    error: p.error,
  };
}

/**
 * A body from its kept bytes: `size` is the whole body's, `kept` its first bytes (fewer when the
 * limit or a capture gap cut it).
 */
export function buildBody(kept: Uint8Array, size: number, contentType: string | undefined): AmqpBody {
  const truncated = kept.length < size;
  const text = bodyText(kept, truncated);
  return {
    size,
    mimeType: contentType !== undefined && contentType !== '' ? contentType : 'application/octet-stream',
    text: text.text,
    ...(text.encoding === undefined ? {} : { encoding: text.encoding }),
    ...(truncated ? { truncated: true } : {}),
  };
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}
