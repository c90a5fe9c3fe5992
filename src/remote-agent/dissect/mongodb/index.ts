/** MongoDB wire protocol: the stream dissector the registry lists (dissect/registry.ts). */
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream, SniffResult } from '../dissector.ts';
import { MongodbConnection } from './connection.ts';
import { MONGODB_PROTOCOL_NAME } from './entry.ts';
import { sniffMongodb } from './sniff.ts';

export const mongodbDissector: Dissector = Object.freeze({
  id: 'mongodb',
  protocol: MONGODB_PROTOCOL_NAME,
  ports: Object.freeze([27017, 27018, 27019]),
  sniff: (prefix: Uint8Array): SniffResult => sniffMongodb(prefix),
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new MongodbConnection(conn, ctx),
});
