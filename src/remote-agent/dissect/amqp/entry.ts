/**
 * The AMQP 0-9-1 entry: one method, and the method that answers it when it is synchronous
 * (Queue.Declare and Queue.Declare-Ok). Field names follow Kubeshark's AMQP entries
 * (`request.method == "basic publish"`, `request.exchange`, `request.routingKey`, `request.queue`,
 * `request.properties.contentType`, `request.body`...), so Kubeshark users' KFL and jq keep
 * working; what Kubeshark lacks (the channel, which peer sent the method, the method's numbers,
 * body sizes) is added under names of its own. docs/amqp.md describes every field.
 *
 * Imports only src/model (the descriptor, KFL and the TUI load it without the parser).
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const AMQP_PROTOCOL_NAME = 'amqp';

/**
 * A field-table value (AMQP 0-9-1 §4.2.5.5 with RabbitMQ's errata types): numbers, strings,
 * booleans, nested tables and arrays; a 64-bit integer past 2^53 and a decimal are strings, a
 * byte array is base64, void is null.
 */
export type AmqpFieldValue = string | number | boolean | null | AmqpFieldTable | AmqpFieldValue[];
export interface AmqpFieldTable {
  [key: string]: AmqpFieldValue;
}

/** The basic class's content properties (§1.8.1), Kubeshark's names; only those present. */
export interface AmqpProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: AmqpFieldTable;
  /** 1 non-persistent, 2 persistent. */
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** Seconds since the Unix epoch, as sent. */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

/** A message body (the content body frames joined), kept up to `--max-body` bytes. */
export interface AmqpBody {
  /** Bytes of the whole body, as the content header announced and the body frames carried. */
  size: number;
  /** The content type when the properties give one, else `application/octet-stream`. */
  mimeType: string;
  /** UTF-8, or base64 when `encoding` says so. */
  text: string;
  encoding?: 'base64';
  /** Present and true when only part of the body is in `text` (the limit, or bytes the capture lost). */
  truncated?: boolean;
}

/** Who sent a method: most are one side's only; Close, Flow, Ack... go either way. */
export type AmqpSender = 'client' | 'server';

/**
 * One method (a method frame, with its content header and body for the content methods), its
 * arguments under Kubeshark's camelCase names. Only the arguments the method has are present.
 */
export interface AmqpMethod {
  /** Class and method names, space separated, as Kubeshark writes them: `basic publish`, `queue declare-ok`. */
  method: string;
  /** The method's class and method numbers (`60`, `40` for Basic.Publish). */
  classNumber: number;
  methodNumber: number;
  channel: number;
  sender: AmqpSender;
  /** Set on a failed request's response: the Channel.Close or Connection.Close that refused it (also an entry of its own). */
  byClose?: boolean;

  // Connection class.
  versionMajor?: number;
  versionMinor?: number;
  serverProperties?: AmqpFieldTable;
  mechanisms?: string;
  locales?: string;
  clientProperties?: AmqpFieldTable;
  mechanism?: string;
  /** Start-Ok / Secure-Ok SASL response: redacted (`[REDACTED]`) unless redaction is off. */
  response?: string;
  /** The user name of a PLAIN or AMQPLAIN response (kept: it names the client, not its secret). */
  user?: string;
  locale?: string;
  challenge?: string;
  channelMax?: number;
  frameMax?: number;
  heartbeat?: number;
  virtualHost?: string;
  capabilities?: string;
  insist?: boolean;
  knownHosts?: string;
  /** Connection.Close / Channel.Close / Basic.Return: the reply code (200 is a normal close). */
  replyCode?: number;
  replyText?: string;
  /** Close: the class and method numbers of the method that failed (0 when none). */
  classId?: number;
  methodId?: number;
  /** Close: the failed method's name, when classId/methodId name one. */
  failedMethod?: string;
  reason?: string;
  newSecret?: string;

  // Channel class.
  active?: boolean;

  // Access class (obsolete, still decoded).
  realm?: string;
  ticket?: number;
  read?: boolean;
  write?: boolean;

  // Exchange and queue classes.
  exchange?: string;
  type?: string;
  passive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  exclusive?: boolean;
  noWait?: boolean;
  arguments?: AmqpFieldTable;
  destination?: string;
  source?: string;
  ifUnused?: boolean;
  ifEmpty?: boolean;
  queue?: string;
  messageCount?: number;
  consumerCount?: number;
  routingKey?: string;

  // Basic class.
  prefetchSize?: number;
  prefetchCount?: number;
  global?: boolean;
  consumerTag?: string;
  noLocal?: boolean;
  noAck?: boolean;
  mandatory?: boolean;
  immediate?: boolean;
  /** A 64-bit tag: a number (exact up to 2^53). */
  deliveryTag?: number;
  redelivered?: boolean;
  multiple?: boolean;
  requeue?: boolean;
  clusterId?: string;

  // Content (Basic.Publish, Return, Deliver, Get-Ok).
  properties?: AmqpProperties;
  body?: AmqpBody;
}

/**
 * `request`: the method that opened the exchange (whichever peer sent it: Connection.Start and
 * Basic.Deliver come from the server); `response`: its synchronous answer, or null for a one-way
 * method (Basic.Publish, Deliver, Ack...) and for a request that got none. `src` is always the
 * client, `dst` the server. `requestSize`/`responseSize` count the frames on the wire (headers,
 * payloads and frame ends).
 */
export type AmqpRequest = AmqpMethod;
export type AmqpResponse = AmqpMethod;

export type AmqpEntry = EntryEnvelope<'amqp', AmqpRequest, AmqpResponse>;
