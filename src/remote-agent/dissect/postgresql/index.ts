/**
 * PostgreSQL frontend/backend protocol 3.0: the stream dissector the registry lists
 * (dissect/registry.ts). Entries: entry.ts; what they look like to users: descriptor.ts.
 */
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import { PostgresqlConnection } from './connection.ts';
import { POSTGRESQL_PROTOCOL_NAME } from './entry.ts';
import { confirmServer, sniffClient } from './sniff.ts';

export const postgresqlDissector: Dissector = Object.freeze({
  id: 'postgresql',
  protocol: POSTGRESQL_PROTOCOL_NAME,
  ports: Object.freeze([5432]),
  sniff: sniffClient,
  confirmReply: confirmServer,
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new PostgresqlConnection(conn, ctx),
});
