/**
 * The entry: one request/response pair (or one-sided message), defined once for agent, filter,
 * TUI and outputs. A discriminated union on `protocol.name`: the shared envelope is in
 * entry-envelope.ts, each protocol's request/response shape in its folder
 * (src/remote-agent/dissect/<protocol>/entry.ts, imported here as types only), and everything
 * outside a protocol's folder reads an entry through its descriptor
 * (src/remote-agent/dissect/descriptors.ts). Field names follow Kubeshark's entry JSON so that KFL
 * filters and jq scripts written for Kubeshark keep working; docs/entries.md describes every shape.
 */
import type { AmqpEntry } from '../remote-agent/dissect/amqp/entry.ts';
import type { KafkaEntry } from '../remote-agent/dissect/kafka/entry.ts';
import type { MongodbEntry } from '../remote-agent/dissect/mongodb/entry.ts';
import type { MysqlEntry } from '../remote-agent/dissect/mysql/entry.ts';
import type { PostgresqlEntry } from '../remote-agent/dissect/postgresql/entry.ts';
import type { RedisEntry } from '../remote-agent/dissect/redis/entry.ts';
import type { DnsEntry } from '../remote-agent/dissect/dns/entry.ts';
import type { HttpEntry } from '../remote-agent/dissect/http1/entry.ts';
import type { WebSocketEntry } from '../remote-agent/dissect/websocket/entry.ts';

export type { BodyEncoding, Endpoint, EntryEnvelope, EntryError, EntryErrorType, Protocol } from './entry-envelope.ts';

export type Entry =
  | HttpEntry
  | DnsEntry
  | WebSocketEntry
  | RedisEntry
  | PostgresqlEntry
  | MysqlEntry
  | KafkaEntry
  | AmqpEntry
  | MongodbEntry;

/** The members of the union, for code and test doubles that make or read one protocol's entries. */
export type { AmqpEntry, DnsEntry, HttpEntry, KafkaEntry, MongodbEntry, MysqlEntry, PostgresqlEntry, RedisEntry, WebSocketEntry };

/** ISO 8601 with microsecond precision from a capture time in microseconds. */
export function isoFromMicros(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  const micros = Math.floor(tsUs - ms * 1000);
  if (!Number.isSafeInteger(tsUs)) {
    // Fractions (and their rounding at the edges) keep the definition's exact text.
    const iso = new Date(ms).toISOString(); // ...sss Z
    return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
  }
  // Every entry of a capture gets one, and consecutive ones mostly share their second: its text
  // ("...THH:MM:SS.") is formatted once per second instead of a Date per entry.
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const iso = new Date(second * 1000).toISOString(); // throws RangeError as before on an invalid time
    isoSecond = second;
    isoSecondPrefix = iso.slice(0, -4);
  }
  const sub = (ms - second * 1000) * 1000 + micros;
  return `${isoSecondPrefix}${sub < 100_000 ? (sub < 10_000 ? (sub < 1000 ? (sub < 100 ? (sub < 10 ? '00000' : '0000') : '000') : '00') : '0') : ''}${sub}Z`;
}

let isoSecond = Number.NaN;
let isoSecondPrefix = '';
