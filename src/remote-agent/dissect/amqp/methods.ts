/**
 * Every method of AMQP 0-9-1 (the spec's classes, with RabbitMQ's extensions: Exchange.Bind and
 * Unbind, Basic.Nack, Confirm, Connection.Blocked and Update-Secret) by class and method number:
 * its name, its arguments in wire order under Kubeshark's camelCase names, whether it carries
 * content, and how it pairs (a synchronous request and the methods that answer it; one-way
 * methods stand alone). The arguments are decoded by one loop over these lists (decodeMethod).
 */
import type { AmqpFieldTable, AmqpMethod, AmqpSender } from './entry.ts';
import { AmqpShort, WireReader, wireText } from './wire-reader.ts';

type ArgType = 'octet' | 'short' | 'long' | 'longlong' | 'shortstr' | 'longstr' | 'bit' | 'table';

/** An argument: its entry field, or null for a reserved one (read and dropped). */
type Arg = readonly [field: keyof AmqpMethod | null, type: ArgType];

/** How a method takes part in pairing. */
export type MethodRole =
  /** A synchronous request: waits for one of its answers (unless its no-wait bit is set). */
  | 'request'
  /** Answers request `answers` of the same class. */
  | 'answer'
  /** Stands alone: an entry without a response (Publish, Deliver, Ack...). */
  | 'one-way';

export interface MethodSpec {
  readonly classId: number;
  readonly methodId: number;
  /** `queue declare-ok`: Kubeshark's space-separated form. */
  readonly name: string;
  /** `Queue.Declare-Ok`: the spec's (and tshark's) form. */
  readonly specName: string;
  readonly role: MethodRole;
  /** For an answer: the method number of the request it answers. */
  readonly answers?: number;
  /** Followed by a content header and body frames. */
  readonly content: boolean;
  /** The peer that may send it: the client or server only, or either. */
  readonly from: AmqpSender | 'either';
  readonly args: readonly Arg[];
}

const CLASS_NAMES: Readonly<Record<number, string>> = {
  10: 'connection',
  20: 'channel',
  30: 'access',
  40: 'exchange',
  50: 'queue',
  60: 'basic',
  85: 'confirm',
  90: 'tx',
};

const CLOSE_ARGS: readonly Arg[] = [['replyCode', 'short'], ['replyText', 'shortstr'], ['classId', 'short'], ['methodId', 'short']];

/** [methodId, name, role, from, args, options] per class. */
type Row = readonly [id: number, name: string, role: MethodRole, from: AmqpSender | 'either', args: readonly Arg[], extra?: { readonly answers?: number; readonly content?: boolean }];

const TABLE: Readonly<Record<number, readonly Row[]>> = {
  10: [
    [10, 'start', 'request', 'server', [['versionMajor', 'octet'], ['versionMinor', 'octet'], ['serverProperties', 'table'], ['mechanisms', 'longstr'], ['locales', 'longstr']]],
    // The response is read apart (a secret): see decodeMethod.
    [11, 'start-ok', 'answer', 'client', [['clientProperties', 'table'], ['mechanism', 'shortstr'], ['response', 'longstr'], ['locale', 'shortstr']]],
    [20, 'secure', 'request', 'server', [['challenge', 'longstr']]],
    [21, 'secure-ok', 'answer', 'client', [['response', 'longstr']]],
    [30, 'tune', 'request', 'server', [['channelMax', 'short'], ['frameMax', 'long'], ['heartbeat', 'short']]],
    [31, 'tune-ok', 'answer', 'client', [['channelMax', 'short'], ['frameMax', 'long'], ['heartbeat', 'short']]],
    [40, 'open', 'request', 'client', [['virtualHost', 'shortstr'], ['capabilities', 'shortstr'], ['insist', 'bit']]],
    [41, 'open-ok', 'answer', 'server', [['knownHosts', 'shortstr']]],
    [50, 'close', 'request', 'either', CLOSE_ARGS],
    [51, 'close-ok', 'answer', 'either', []],
    [60, 'blocked', 'one-way', 'server', [['reason', 'shortstr']]],
    [61, 'unblocked', 'one-way', 'server', []],
    [70, 'update-secret', 'request', 'client', [['newSecret', 'longstr'], ['reason', 'shortstr']]],
    [71, 'update-secret-ok', 'answer', 'server', []],
  ],
  20: [
    [10, 'open', 'request', 'client', [[null, 'shortstr']]],
    [11, 'open-ok', 'answer', 'server', [[null, 'longstr']]],
    [20, 'flow', 'request', 'either', [['active', 'bit']]],
    [21, 'flow-ok', 'answer', 'either', [['active', 'bit']]],
    [40, 'close', 'request', 'either', CLOSE_ARGS],
    [41, 'close-ok', 'answer', 'either', []],
  ],
  30: [
    [10, 'request', 'request', 'client', [['realm', 'shortstr'], ['exclusive', 'bit'], ['passive', 'bit'], ['active', 'bit'], ['write', 'bit'], ['read', 'bit']]],
    [11, 'request-ok', 'answer', 'server', [['ticket', 'short']]],
  ],
  40: [
    [10, 'declare', 'request', 'client', [[null, 'short'], ['exchange', 'shortstr'], ['type', 'shortstr'], ['passive', 'bit'], ['durable', 'bit'], ['autoDelete', 'bit'], ['internal', 'bit'], ['noWait', 'bit'], ['arguments', 'table']]],
    [11, 'declare-ok', 'answer', 'server', []],
    [20, 'delete', 'request', 'client', [[null, 'short'], ['exchange', 'shortstr'], ['ifUnused', 'bit'], ['noWait', 'bit']]],
    [21, 'delete-ok', 'answer', 'server', []],
    [30, 'bind', 'request', 'client', [[null, 'short'], ['destination', 'shortstr'], ['source', 'shortstr'], ['routingKey', 'shortstr'], ['noWait', 'bit'], ['arguments', 'table']]],
    [31, 'bind-ok', 'answer', 'server', []],
    [40, 'unbind', 'request', 'client', [[null, 'short'], ['destination', 'shortstr'], ['source', 'shortstr'], ['routingKey', 'shortstr'], ['noWait', 'bit'], ['arguments', 'table']]],
    // RabbitMQ numbers Unbind-Ok 51, not 41.
    [51, 'unbind-ok', 'answer', 'server', [], { answers: 40 }],
  ],
  50: [
    [10, 'declare', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['passive', 'bit'], ['durable', 'bit'], ['exclusive', 'bit'], ['autoDelete', 'bit'], ['noWait', 'bit'], ['arguments', 'table']]],
    [11, 'declare-ok', 'answer', 'server', [['queue', 'shortstr'], ['messageCount', 'long'], ['consumerCount', 'long']]],
    [20, 'bind', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['exchange', 'shortstr'], ['routingKey', 'shortstr'], ['noWait', 'bit'], ['arguments', 'table']]],
    [21, 'bind-ok', 'answer', 'server', []],
    [30, 'purge', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['noWait', 'bit']]],
    [31, 'purge-ok', 'answer', 'server', [['messageCount', 'long']]],
    [40, 'delete', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['ifUnused', 'bit'], ['ifEmpty', 'bit'], ['noWait', 'bit']]],
    [41, 'delete-ok', 'answer', 'server', [['messageCount', 'long']]],
    [50, 'unbind', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['exchange', 'shortstr'], ['routingKey', 'shortstr'], ['arguments', 'table']]],
    [51, 'unbind-ok', 'answer', 'server', []],
  ],
  60: [
    [10, 'qos', 'request', 'client', [['prefetchSize', 'long'], ['prefetchCount', 'short'], ['global', 'bit']]],
    [11, 'qos-ok', 'answer', 'server', []],
    [20, 'consume', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['consumerTag', 'shortstr'], ['noLocal', 'bit'], ['noAck', 'bit'], ['exclusive', 'bit'], ['noWait', 'bit'], ['arguments', 'table']]],
    [21, 'consume-ok', 'answer', 'server', [['consumerTag', 'shortstr']]],
    // The server cancels a consumer too (RabbitMQ's consumer cancel notification).
    [30, 'cancel', 'request', 'either', [['consumerTag', 'shortstr'], ['noWait', 'bit']]],
    [31, 'cancel-ok', 'answer', 'either', [['consumerTag', 'shortstr']]],
    [40, 'publish', 'one-way', 'client', [[null, 'short'], ['exchange', 'shortstr'], ['routingKey', 'shortstr'], ['mandatory', 'bit'], ['immediate', 'bit']], { content: true }],
    [50, 'return', 'one-way', 'server', [['replyCode', 'short'], ['replyText', 'shortstr'], ['exchange', 'shortstr'], ['routingKey', 'shortstr']], { content: true }],
    [60, 'deliver', 'one-way', 'server', [['consumerTag', 'shortstr'], ['deliveryTag', 'longlong'], ['redelivered', 'bit'], ['exchange', 'shortstr'], ['routingKey', 'shortstr']], { content: true }],
    [70, 'get', 'request', 'client', [[null, 'short'], ['queue', 'shortstr'], ['noAck', 'bit']]],
    [71, 'get-ok', 'answer', 'server', [['deliveryTag', 'longlong'], ['redelivered', 'bit'], ['exchange', 'shortstr'], ['routingKey', 'shortstr'], ['messageCount', 'long']], { content: true }],
    [72, 'get-empty', 'answer', 'server', [['clusterId', 'shortstr']], { answers: 70 }],
    // Publisher confirms: the server acks and nacks too.
    [80, 'ack', 'one-way', 'either', [['deliveryTag', 'longlong'], ['multiple', 'bit']]],
    [90, 'reject', 'one-way', 'client', [['deliveryTag', 'longlong'], ['requeue', 'bit']]],
    [100, 'recover-async', 'one-way', 'client', [['requeue', 'bit']]],
    [110, 'recover', 'request', 'client', [['requeue', 'bit']]],
    [111, 'recover-ok', 'answer', 'server', []],
    [120, 'nack', 'one-way', 'either', [['deliveryTag', 'longlong'], ['multiple', 'bit'], ['requeue', 'bit']]],
  ],
  85: [
    [10, 'select', 'request', 'client', [['noWait', 'bit']]],
    [11, 'select-ok', 'answer', 'server', []],
  ],
  90: [
    [10, 'select', 'request', 'client', []],
    [11, 'select-ok', 'answer', 'server', []],
    [20, 'commit', 'request', 'client', []],
    [21, 'commit-ok', 'answer', 'server', []],
    [30, 'rollback', 'request', 'client', []],
    [31, 'rollback-ok', 'answer', 'server', []],
  ],
};

function specName(className: string, name: string): string {
  const cap = (s: string): string => s.split('-').map((p) => (p === 'ok' ? 'Ok' : p.charAt(0).toUpperCase() + p.slice(1))).join('-');
  return `${cap(className)}.${cap(name)}`;
}

const METHODS = new Map<number, MethodSpec>();
for (const [classText, rows] of Object.entries(TABLE)) {
  const classId = Number(classText);
  const className = CLASS_NAMES[classId]!;
  for (const [methodId, name, role, from, args, extra] of rows) {
    const answers = role === 'answer' ? (extra?.answers ?? methodId - 1) : undefined;
    METHODS.set(classId * 0x1_0000 + methodId, Object.freeze({
      classId,
      methodId,
      name: `${className} ${name}`,
      specName: specName(className, name),
      role,
      ...(answers === undefined ? {} : { answers }),
      content: extra?.content === true,
      from,
      args,
    }));
  }
}

/** The method with these numbers, or undefined for numbers AMQP 0-9-1 does not define. */
export function methodSpec(classId: number, methodId: number): MethodSpec | undefined {
  return METHODS.get(classId * 0x1_0000 + methodId);
}

/** Every method (for tests and docs). */
export function allMethods(): readonly MethodSpec[] {
  return [...METHODS.values()];
}

/** A decoded method frame payload: the method, and what went wrong reading its arguments. */
export interface DecodedMethod {
  readonly spec: MethodSpec;
  readonly method: AmqpMethod;
  /** Set when the arguments ran past the frame (or a table broke its bounds): read up to there. */
  readonly problem?: string;
}

/**
 * Decodes a method frame's payload (class, method, arguments) sent on `channel` by `sender`;
 * null when the numbers name no method.
 */
export function decodeMethod(payload: Uint8Array, channel: number, sender: AmqpSender): DecodedMethod | null {
  if (payload.length < 4) return null;
  const classId = (payload[0]! << 8) | payload[1]!;
  const methodId = (payload[2]! << 8) | payload[3]!;
  const spec = methodSpec(classId, methodId);
  if (spec === undefined) return null;
  const method: AmqpMethod = { method: spec.name, classNumber: classId, methodNumber: methodId, channel, sender };
  const fields = method as unknown as Record<string, unknown>;
  const r = new WireReader(payload, 4);
  let problem: string | undefined;
  try {
    for (const [field, type] of spec.args) {
      if (field === 'response') {
        // The SASL response is a secret: kept as text for redaction to mask, with the user apart.
        const raw = r.longBytes();
        method.response = wireText(raw);
        const user = saslUser(method.mechanism, raw);
        if (user !== undefined) method.user = user;
        continue;
      }
      const value = readArg(r, type);
      if (field !== null) fields[field] = value;
    }
  } catch (e) {
    if (!(e instanceof AmqpShort)) throw e;
    problem = e.message;
  }
  if (method.replyCode !== undefined && method.classId !== undefined && method.methodId !== undefined && method.classId !== 0) {
    const failed = methodSpec(method.classId, method.methodId);
    if (failed !== undefined) method.failedMethod = failed.name;
  }
  return problem === undefined ? { spec, method } : { spec, method, problem };
}

function readArg(r: WireReader, type: ArgType): string | number | boolean | AmqpFieldTable {
  switch (type) {
    case 'octet':
      return r.octet();
    case 'short':
      return r.short();
    case 'long':
      return r.long();
    case 'longlong':
      return r.longlong();
    case 'shortstr':
      return r.shortstr();
    case 'longstr':
      return r.longstr();
    case 'bit':
      return r.bit();
    case 'table':
      return r.table();
  }
}

/**
 * The user name inside a SASL response, when the mechanism says where it is: PLAIN is
 * `authzid \0 authcid \0 password` (RFC 4616), AMQPLAIN a field table without its length
 * holding LOGIN and PASSWORD. Never the password.
 */
function saslUser(mechanism: string | undefined, raw: Uint8Array): string | undefined {
  if (mechanism === 'PLAIN') {
    const first = raw.indexOf(0);
    if (first < 0) return undefined;
    const second = raw.indexOf(0, first + 1);
    if (second < 0) return undefined;
    return wireText(raw.subarray(first + 1, second));
  }
  if (mechanism === 'AMQPLAIN') {
    const framed = new Uint8Array(raw.length + 4);
    new DataView(framed.buffer).setUint32(0, raw.length);
    framed.set(raw, 4);
    try {
      const login = new WireReader(framed).table()['LOGIN'];
      return typeof login === 'string' ? login : undefined;
    } catch (e) {
      if (e instanceof AmqpShort) return undefined;
      throw e;
    }
  }
  return undefined;
}
