/**
 * The Redis dissector (RESP2 and RESP3): taken when a command to the server and a reply back both
 * look like RESP (redis/sniff.ts), since either alone is ambiguous (a POP3 greeting is `+OK ...`).
 */
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import { RedisConnection } from './connection.ts';
import { REDIS_PROTOCOL_NAME } from './entry.ts';
import { sniffRedis } from './sniff.ts';

export const redisDissector: Dissector = Object.freeze({
  id: 'redis',
  protocol: REDIS_PROTOCOL_NAME,
  ports: Object.freeze([6379, 6380, 26379]),
  sniff: sniffRedis,
  confirmReply: sniffRedis,
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new RedisConnection(conn, ctx),
});
