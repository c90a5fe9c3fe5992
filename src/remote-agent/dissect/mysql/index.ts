/**
 * MySQL/MariaDB client/server protocol dissector: what the registry lists (dissect/registry.ts).
 */
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import type { ConnectionInfo } from '../../tcp/stream.ts';
import { MysqlConnection } from './connection.ts';
import { MYSQL_PROTOCOL_NAME } from './entry.ts';
import { confirmMysqlReply, sniffMysql } from './sniff.ts';

export const mysqlDissector: Dissector = Object.freeze({
  id: 'mysql',
  protocol: MYSQL_PROTOCOL_NAME,
  ports: Object.freeze([3306]),
  sniff: sniffMysql,
  confirmReply: confirmMysqlReply,
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new MysqlConnection(conn, ctx),
});
