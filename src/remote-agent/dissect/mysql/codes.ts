/**
 * Names of the MySQL protocol's numbers: commands, column types, capability flags
 * (https://dev.mysql.com/doc/dev/mysql-server/latest/ and MariaDB's "Client/Server protocol").
 */

const COMMANDS: readonly string[] = [
  'COM_SLEEP', 'COM_QUIT', 'COM_INIT_DB', 'COM_QUERY', 'COM_FIELD_LIST', 'COM_CREATE_DB', 'COM_DROP_DB', 'COM_REFRESH',
  'COM_SHUTDOWN', 'COM_STATISTICS', 'COM_PROCESS_INFO', 'COM_CONNECT', 'COM_PROCESS_KILL', 'COM_DEBUG', 'COM_PING',
  'COM_TIME', 'COM_DELAYED_INSERT', 'COM_CHANGE_USER', 'COM_BINLOG_DUMP', 'COM_TABLE_DUMP', 'COM_CONNECT_OUT',
  'COM_REGISTER_SLAVE', 'COM_STMT_PREPARE', 'COM_STMT_EXECUTE', 'COM_STMT_SEND_LONG_DATA', 'COM_STMT_CLOSE',
  'COM_STMT_RESET', 'COM_SET_OPTION', 'COM_STMT_FETCH', 'COM_DAEMON', 'COM_BINLOG_DUMP_GTID', 'COM_RESET_CONNECTION',
  'COM_CLONE',
];

export const COM = Object.freeze({
  QUIT: 0x01, INIT_DB: 0x02, QUERY: 0x03, FIELD_LIST: 0x04, CREATE_DB: 0x05, DROP_DB: 0x06, STATISTICS: 0x09,
  PROCESS_INFO: 0x0a, PROCESS_KILL: 0x0c, PING: 0x0e, CHANGE_USER: 0x11, BINLOG_DUMP: 0x12, STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17, STMT_SEND_LONG_DATA: 0x18, STMT_CLOSE: 0x19, STMT_RESET: 0x1a, SET_OPTION: 0x1b, STMT_FETCH: 0x1c,
  BINLOG_DUMP_GTID: 0x1e, RESET_CONNECTION: 0x1f, STMT_BULK_EXECUTE: 0xfa,
});

/** The highest command byte of MySQL's list; MariaDB adds COM_STMT_BULK_EXECUTE (0xfa). */
export const MAX_COMMAND = COMMANDS.length - 1;

export function isKnownCommand(code: number): boolean {
  return (code >= 0 && code <= MAX_COMMAND) || code === COM.STMT_BULK_EXECUTE;
}

export function commandName(code: number): string {
  if (code === COM.STMT_BULK_EXECUTE) return 'COM_STMT_BULK_EXECUTE';
  return COMMANDS[code] ?? `COM_UNKNOWN_0x${code.toString(16).padStart(2, '0')}`;
}

const TYPES: Readonly<Record<number, string>> = Object.freeze({
  0x00: 'DECIMAL', 0x01: 'TINY', 0x02: 'SHORT', 0x03: 'LONG', 0x04: 'FLOAT', 0x05: 'DOUBLE', 0x06: 'NULL',
  0x07: 'TIMESTAMP', 0x08: 'LONGLONG', 0x09: 'INT24', 0x0a: 'DATE', 0x0b: 'TIME', 0x0c: 'DATETIME', 0x0d: 'YEAR',
  0x0e: 'NEWDATE', 0x0f: 'VARCHAR', 0x10: 'BIT', 0x11: 'TIMESTAMP2', 0x12: 'DATETIME2', 0x13: 'TIME2',
  0xf5: 'JSON', 0xf6: 'NEWDECIMAL', 0xf7: 'ENUM', 0xf8: 'SET', 0xf9: 'TINY_BLOB', 0xfa: 'MEDIUM_BLOB',
  0xfb: 'LONG_BLOB', 0xfc: 'BLOB', 0xfd: 'VAR_STRING', 0xfe: 'STRING', 0xff: 'GEOMETRY',
});

export function typeName(code: number): string {
  return TYPES[code] ?? `TYPE_${code}`;
}

/** Capability flags (the low 32 bits; MariaDB's extended ones are not named). */
export const CAP = Object.freeze({
  CONNECT_WITH_DB: 1 << 3,
  COMPRESS: 1 << 5,
  PROTOCOL_41: 1 << 9,
  SSL: 1 << 11,
  SECURE_CONNECTION: 1 << 15,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
  QUERY_ATTRIBUTES: 1 << 27,
});

const CAP_NAMES: readonly string[] = [
  'CLIENT_LONG_PASSWORD', 'CLIENT_FOUND_ROWS', 'CLIENT_LONG_FLAG', 'CLIENT_CONNECT_WITH_DB', 'CLIENT_NO_SCHEMA',
  'CLIENT_COMPRESS', 'CLIENT_ODBC', 'CLIENT_LOCAL_FILES', 'CLIENT_IGNORE_SPACE', 'CLIENT_PROTOCOL_41',
  'CLIENT_INTERACTIVE', 'CLIENT_SSL', 'CLIENT_IGNORE_SIGPIPE', 'CLIENT_TRANSACTIONS', 'CLIENT_RESERVED',
  'CLIENT_SECURE_CONNECTION', 'CLIENT_MULTI_STATEMENTS', 'CLIENT_MULTI_RESULTS', 'CLIENT_PS_MULTI_RESULTS',
  'CLIENT_PLUGIN_AUTH', 'CLIENT_CONNECT_ATTRS', 'CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA',
  'CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS', 'CLIENT_SESSION_TRACK', 'CLIENT_DEPRECATE_EOF',
  'CLIENT_OPTIONAL_RESULTSET_METADATA', 'CLIENT_ZSTD_COMPRESSION_ALGORITHM', 'CLIENT_QUERY_ATTRIBUTES',
  'MULTI_FACTOR_AUTHENTICATION', 'CLIENT_CAPABILITY_EXTENSION', 'CLIENT_SSL_VERIFY_SERVER_CERT', 'CLIENT_REMEMBER_OPTIONS',
];

export function capabilityNames(flags: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) if ((flags >>> bit) & 1) out.push(CAP_NAMES[bit]!);
  return out;
}

/** Server status flags used here. */
export const STATUS = Object.freeze({ CURSOR_EXISTS: 0x0040, MORE_RESULTS_EXISTS: 0x0008 });
