/**
 * The content header frame (AMQP 0-9-1 §4.2.6.1): class, weight, body size and the basic class's
 * properties (§1.8.1), present as the property flags say (bit 15 first; bit 0 continues the flags).
 */
import type { AmqpProperties } from './entry.ts';
import { AmqpShort, WireReader } from './wire-reader.ts';

export interface ContentHeader {
  readonly classId: number;
  /** Bytes of the body that follows in body frames. */
  readonly bodySize: number;
  readonly properties: AmqpProperties;
  /** Set when the properties ran past the frame: read up to there. */
  readonly problem?: string;
}

type PropType = 'shortstr' | 'table' | 'octet' | 'longlong';

/** In flag order, bit 15 down to bit 2. */
const PROPERTIES: readonly (readonly [keyof AmqpProperties, PropType])[] = [
  ['contentType', 'shortstr'],
  ['contentEncoding', 'shortstr'],
  ['headers', 'table'],
  ['deliveryMode', 'octet'],
  ['priority', 'octet'],
  ['correlationId', 'shortstr'],
  ['replyTo', 'shortstr'],
  ['expiration', 'shortstr'],
  ['messageId', 'shortstr'],
  ['timestamp', 'longlong'],
  ['type', 'shortstr'],
  ['userId', 'shortstr'],
  ['appId', 'shortstr'],
  ['clusterId', 'shortstr'],
];

/** Flag words read at most (a hostile header could chain them forever). */
const MAX_FLAG_WORDS = 4;

/** Decodes a content header payload; null when it is too short to hold class, weight and size. */
export function decodeContentHeader(payload: Uint8Array): ContentHeader | null {
  if (payload.length < 14) return null;
  const r = new WireReader(payload);
  const classId = r.short();
  r.short(); // weight: unused, always 0
  const bodySize = r.longlong();
  const properties: AmqpProperties = {};
  const fields = properties as Record<string, unknown>;
  try {
    const flags: number[] = [];
    for (let word = r.short(); ; word = r.short()) {
      flags.push(word);
      if ((word & 1) === 0 || flags.length >= MAX_FLAG_WORDS) break;
    }
    const first = flags[0]!;
    for (let i = 0; i < PROPERTIES.length; i++) {
      if ((first & (1 << (15 - i))) === 0) continue;
      const [name, type] = PROPERTIES[i]!;
      fields[name] = type === 'shortstr' ? r.shortstr() : type === 'table' ? r.table() : type === 'octet' ? r.octet() : r.longlong();
    }
  } catch (e) {
    if (!(e instanceof AmqpShort)) throw e;
    return { classId, bodySize, properties, problem: e.message };
  }
  return { classId, bodySize, properties };
}
