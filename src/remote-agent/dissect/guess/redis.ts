/**
 * RESP, the Redis serialisation protocol: the guess uses the Redis dissector's own sniff
 * (redis/sniff.ts), so counts and entries agree on what is Redis. Connections the dissector takes
 * are never guessed; this names those it refused (a reply that did not confirm, say).
 */
import { sniffRedis } from '../redis/sniff.ts';
import type { ProtocolSniffer } from './sniffer.ts';

export const redisSniffer: ProtocolSniffer = Object.freeze({
  id: 'redis',
  ports: Object.freeze([6379, 6380, 26379]),
  sniff: sniffRedis,
});
