/**
 * Encodes AMQP 0-9-1 frames as a client and a server send them (spec §4.2, RabbitMQ's field table
 * types), for unit, fuzz and bench tests: the protocol header, method frames with their arguments,
 * content headers with properties, body frames cut at a frame size, heartbeats.
 */

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export function concat(...parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

export const octet = (n: number): Buffer => Buffer.from([n & 0xff]);
export function short(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
export function long(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
export function longlong(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
export function shortstr(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return concat(octet(b.length), b);
}
export function longstr(s: string | Uint8Array): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
  return concat(long(b.length), b);
}
/** Consecutive bits packed into octets, least significant first. */
export function bits(...values: readonly boolean[]): Buffer {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (i % 8 === 0) out.push(0);
    if (v) out[out.length - 1]! |= 1 << (i % 8);
  });
  return Buffer.from(out);
}

export type TableValue = string | number | boolean | null | TableValue[] | { [k: string]: TableValue };

function fieldValue(v: TableValue): Buffer {
  if (v === null) return Buffer.from('V');
  if (typeof v === 'string') return concat(Buffer.from('S'), longstr(v));
  if (typeof v === 'boolean') return concat(Buffer.from('t'), octet(v ? 1 : 0));
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -0x8000_0000 && v <= 0x7fff_ffff) {
      const b = Buffer.alloc(4);
      b.writeInt32BE(v);
      return concat(Buffer.from('I'), b);
    }
    if (Number.isInteger(v)) {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(v));
      return concat(Buffer.from('l'), b);
    }
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return concat(Buffer.from('d'), b);
  }
  if (Array.isArray(v)) {
    const inner = concat(...v.map(fieldValue));
    return concat(Buffer.from('A'), long(inner.length), inner);
  }
  return concat(Buffer.from('F'), table(v));
}

export function table(t: { readonly [k: string]: TableValue }): Buffer {
  const inner = concat(...Object.entries(t).map(([k, v]) => concat(shortstr(k), fieldValue(v))));
  return concat(long(inner.length), inner);
}

export function frame(type: number, channel: number, payload: Uint8Array): Buffer {
  return concat(octet(type), short(channel), long(payload.length), payload, octet(0xce));
}

export function method(channel: number, classId: number, methodId: number, ...args: readonly Uint8Array[]): Buffer {
  return frame(1, channel, concat(short(classId), short(methodId), ...args));
}

export const HEARTBEAT = frame(8, 0, Buffer.alloc(0));

export interface Properties {
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly headers?: { readonly [k: string]: TableValue };
  readonly deliveryMode?: number;
  readonly priority?: number;
  readonly correlationId?: string;
  readonly replyTo?: string;
  readonly expiration?: string;
  readonly messageId?: string;
  readonly timestamp?: number;
  readonly type?: string;
  readonly userId?: string;
  readonly appId?: string;
}

export function contentHeader(channel: number, bodySize: number, p: Properties = {}): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  const put = (bit: number, present: boolean, bytes: () => Buffer): void => {
    if (!present) return;
    flags |= 1 << bit;
    parts.push(bytes());
  };
  put(15, p.contentType !== undefined, () => shortstr(p.contentType!));
  put(14, p.contentEncoding !== undefined, () => shortstr(p.contentEncoding!));
  put(13, p.headers !== undefined, () => table(p.headers!));
  put(12, p.deliveryMode !== undefined, () => octet(p.deliveryMode!));
  put(11, p.priority !== undefined, () => octet(p.priority!));
  put(10, p.correlationId !== undefined, () => shortstr(p.correlationId!));
  put(9, p.replyTo !== undefined, () => shortstr(p.replyTo!));
  put(8, p.expiration !== undefined, () => shortstr(p.expiration!));
  put(7, p.messageId !== undefined, () => shortstr(p.messageId!));
  put(6, p.timestamp !== undefined, () => longlong(p.timestamp!));
  put(5, p.type !== undefined, () => shortstr(p.type!));
  put(4, p.userId !== undefined, () => shortstr(p.userId!));
  put(3, p.appId !== undefined, () => shortstr(p.appId!));
  return frame(2, channel, concat(short(60), short(0), longlong(bodySize), short(flags), ...parts));
}

/** The content header and body frames of a message, the body cut into frames of at most `frameMax` bytes. */
export function content(channel: number, body: Uint8Array | string, p: Properties = {}, frameMax = 131072): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const room = frameMax - 8;
  const frames: Buffer[] = [contentHeader(channel, b.length, p)];
  for (let at = 0; at < b.length; at += room) frames.push(frame(3, channel, b.subarray(at, at + room)));
  return concat(...frames);
}

// Methods as clients and servers send them.
export const connectionStart = (): Buffer =>
  method(0, 10, 10, octet(0), octet(9), table({ product: 'RabbitMQ', version: '3.10.8', capabilities: { publisher_confirms: true } }), longstr('PLAIN AMQPLAIN'), longstr('en_US'));
export const startOkPlain = (user: string, password: string): Buffer =>
  method(0, 10, 11, table({ product: 'test' }), shortstr('PLAIN'), longstr(`\0${user}\0${password}`), shortstr('en_US'));
/** AMQPLAIN: the response is a field table without its length. */
export const startOkAmqplain = (user: string, password: string): Buffer =>
  method(0, 10, 11, table({ product: 'test' }), shortstr('AMQPLAIN'), longstr(table({ LOGIN: user, PASSWORD: password }).subarray(4)), shortstr('en_US'));
export const tune = (): Buffer => method(0, 10, 30, short(2047), long(131072), short(60));
export const tuneOk = (): Buffer => method(0, 10, 31, short(2047), long(131072), short(60));
export const connectionOpen = (vhost = '/'): Buffer => method(0, 10, 40, shortstr(vhost), shortstr(''), bits(false));
export const connectionOpenOk = (): Buffer => method(0, 10, 41, shortstr(''));
export const close = (channel: number, code: number, text: string, classId = 0, methodId = 0): Buffer =>
  method(channel, channel === 0 ? 10 : 20, channel === 0 ? 50 : 40, short(code), shortstr(text), short(classId), short(methodId));
export const closeOk = (channel: number): Buffer => method(channel, channel === 0 ? 10 : 20, channel === 0 ? 51 : 41);
export const channelOpen = (channel: number): Buffer => method(channel, 20, 10, shortstr(''));
export const channelOpenOk = (channel: number): Buffer => method(channel, 20, 11, longstr(''));
export const queueDeclare = (channel: number, queue: string, o: { passive?: boolean; durable?: boolean; noWait?: boolean; args?: { [k: string]: TableValue } } = {}): Buffer =>
  method(channel, 50, 10, short(0), shortstr(queue), bits(o.passive ?? false, o.durable ?? false, false, false, o.noWait ?? false), table(o.args ?? {}));
export const queueDeclareOk = (channel: number, queue: string, messages = 0, consumers = 0): Buffer =>
  method(channel, 50, 11, shortstr(queue), long(messages), long(consumers));
export const exchangeDeclare = (channel: number, exchange: string, type: string): Buffer =>
  method(channel, 40, 10, short(0), shortstr(exchange), shortstr(type), bits(false, false, false, false, false), table({}));
export const exchangeDeclareOk = (channel: number): Buffer => method(channel, 40, 11);
export const queueBind = (channel: number, queue: string, exchange: string, key: string): Buffer =>
  method(channel, 50, 20, short(0), shortstr(queue), shortstr(exchange), shortstr(key), bits(false), table({}));
export const queueBindOk = (channel: number): Buffer => method(channel, 50, 21);
export const publish = (channel: number, exchange: string, key: string, body: Uint8Array | string, p: Properties = {}, frameMax = 131072): Buffer =>
  concat(method(channel, 60, 40, short(0), shortstr(exchange), shortstr(key), bits(false, false)), content(channel, body, p, frameMax));
export const consume = (channel: number, queue: string, tag = ''): Buffer =>
  method(channel, 60, 20, short(0), shortstr(queue), shortstr(tag), bits(false, false, false, false), table({}));
export const consumeOk = (channel: number, tag: string): Buffer => method(channel, 60, 21, shortstr(tag));
export const deliver = (channel: number, tag: string, deliveryTag: number, exchange: string, key: string, body: Uint8Array | string, p: Properties = {}): Buffer =>
  concat(method(channel, 60, 60, shortstr(tag), longlong(deliveryTag), bits(false), shortstr(exchange), shortstr(key)), content(channel, body, p));
export const ack = (channel: number, deliveryTag: number): Buffer => method(channel, 60, 80, longlong(deliveryTag), bits(false));
export const get = (channel: number, queue: string): Buffer => method(channel, 60, 70, short(0), shortstr(queue), bits(false));
export const getOk = (channel: number, deliveryTag: number, exchange: string, key: string, left: number, body: string, p: Properties = {}): Buffer =>
  concat(method(channel, 60, 71, longlong(deliveryTag), bits(false), shortstr(exchange), shortstr(key), long(left)), content(channel, body, p));
export const getEmpty = (channel: number): Buffer => method(channel, 60, 72, shortstr(''));
