/**
 * MySQL client/server protocol packets built byte by byte for tests and the benchmark, written from
 * the protocol's documentation (dev.mysql.com "Client/Server Protocol") rather than from our parser.
 */

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export const u8 = (n: number): Uint8Array => Uint8Array.of(n & 0xff);
export const u16 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff);
export const u24 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff);
export const u32 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
export const str = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
export const nul = (s: string): Uint8Array => concat(str(s), u8(0));

/** A length-encoded integer. */
export function lenenc(n: number): Uint8Array {
  if (n < 0xfb) return u8(n);
  if (n < 0x10000) return concat(u8(0xfc), u16(n));
  if (n < 0x1000000) return concat(u8(0xfd), u24(n));
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return new Uint8Array(b);
}

/** A length-encoded string (null: the NULL marker of a text row). */
export function lenencStr(s: string | Uint8Array | null): Uint8Array {
  if (s === null) return u8(0xfb);
  const b = typeof s === 'string' ? str(s) : s;
  return concat(lenenc(b.length), b);
}

/** One packet: 3-byte length, sequence id, payload (a payload of 0xFFFFFF bytes or more is split). */
export function packet(seq: number, payload: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const n = Math.min(0xffffff, payload.length - off);
    parts.push(u24(n), u8(seq++ & 0xff), payload.subarray(off, off + n));
    off += n;
    if (n < 0xffffff) break;
  }
  return concat(...parts);
}

export const CAPS = {
  LONG_PASSWORD: 1, CONNECT_WITH_DB: 1 << 3, PROTOCOL_41: 1 << 9, SSL: 1 << 11, TRANSACTIONS: 1 << 13,
  SECURE_CONNECTION: 1 << 15, MULTI_STATEMENTS: 1 << 16, MULTI_RESULTS: 1 << 17, PLUGIN_AUTH: 1 << 19,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21, DEPRECATE_EOF: 1 << 24,
} as const;

export const BASE_CAPS = CAPS.LONG_PASSWORD | CAPS.PROTOCOL_41 | CAPS.TRANSACTIONS | CAPS.SECURE_CONNECTION | CAPS.MULTI_STATEMENTS | CAPS.MULTI_RESULTS | CAPS.PLUGIN_AUTH | CAPS.PLUGIN_AUTH_LENENC_CLIENT_DATA;

/** Protocol::HandshakeV10. */
export function greeting(opts: { version?: string; caps?: number; plugin?: string; connectionId?: number } = {}): Uint8Array {
  const caps = (opts.caps ?? BASE_CAPS | CAPS.CONNECT_WITH_DB | CAPS.DEPRECATE_EOF) >>> 0;
  const nonce = str('abcdefgh12345678ijkl');
  return packet(0, concat(
    u8(10), nul(opts.version ?? '10.11.6-MariaDB-0+deb12u1'), u32(opts.connectionId ?? 42), nonce.subarray(0, 8), u8(0),
    u16(caps & 0xffff), u8(45), u16(2), u16(caps >>> 16), u8(21), new Uint8Array(10), nonce.subarray(8), u8(0), nul(opts.plugin ?? 'mysql_native_password'),
  ));
}

/** Protocol::HandshakeResponse41 with an auth response (the bytes given) and optional schema. */
export function login(opts: { user: string; auth: Uint8Array; database?: string; caps?: number; plugin?: string; seq?: number }): Uint8Array {
  let caps = opts.caps ?? BASE_CAPS | CAPS.DEPRECATE_EOF;
  if (opts.database !== undefined) caps |= CAPS.CONNECT_WITH_DB;
  return packet(opts.seq ?? 1, concat(
    u32(caps >>> 0), u32(16 * 1024 * 1024), u8(45), new Uint8Array(23), nul(opts.user),
    caps & CAPS.PLUGIN_AUTH_LENENC_CLIENT_DATA ? lenencStr(opts.auth) : concat(u8(opts.auth.length), opts.auth),
    opts.database !== undefined ? nul(opts.database) : new Uint8Array(0),
    caps & CAPS.PLUGIN_AUTH ? nul(opts.plugin ?? 'mysql_native_password') : new Uint8Array(0),
  ));
}

/** SSLRequest: the login's first 32 bytes with CLIENT_SSL. */
export function sslRequest(caps = BASE_CAPS | CAPS.DEPRECATE_EOF): Uint8Array {
  return packet(1, concat(u32((caps | CAPS.SSL) >>> 0), u32(16 * 1024 * 1024), u8(45), new Uint8Array(23)));
}

export function ok(seq: number, o: { affected?: number; insertId?: number; status?: number; warnings?: number; header?: number; info?: string } = {}): Uint8Array {
  return packet(seq, concat(u8(o.header ?? 0), lenenc(o.affected ?? 0), lenenc(o.insertId ?? 0), u16(o.status ?? 2), u16(o.warnings ?? 0), o.info ? str(o.info) : new Uint8Array(0)));
}

export function err(seq: number, code: number, sqlState: string, message: string): Uint8Array {
  return packet(seq, concat(u8(0xff), u16(code), str('#'), str(sqlState), str(message)));
}

export function eof(seq: number, status = 2, warnings = 0): Uint8Array {
  return packet(seq, concat(u8(0xfe), u16(warnings), u16(status)));
}

export const TYPE = { LONG: 0x03, DOUBLE: 0x05, LONGLONG: 0x08, DATETIME: 0x0c, VAR_STRING: 0xfd, NULL: 0x06, TINY: 0x01 } as const;

/** Protocol::ColumnDefinition41. */
export function columnDef(seq: number, name: string, type: number = TYPE.VAR_STRING, table = 't', unsigned = false): Uint8Array {
  return packet(seq, concat(
    lenencStr('def'), lenencStr('shop'), lenencStr(table), lenencStr(table), lenencStr(name), lenencStr(name),
    lenenc(0x0c), u16(45), u32(80), u8(type), u16(unsigned ? 0x20 : 0), u8(0), u16(0),
  ));
}

export function textRow(seq: number, values: readonly (string | null)[]): Uint8Array {
  return packet(seq, concat(...values.map(lenencStr)));
}

/**
 * A whole text result set answering a command (sequence ids from 1): count, definitions, the
 * intermediate EOF unless `deprecateEof`, rows, then EOF (or an OK with 0xFE).
 */
export function textResultSet(columns: readonly string[], rows: readonly (readonly (string | null)[])[], o: { deprecateEof: boolean; status?: number; startSeq?: number }): Uint8Array {
  let seq = o.startSeq ?? 1;
  const parts: Uint8Array[] = [packet(seq++, lenenc(columns.length))];
  for (const c of columns) parts.push(columnDef(seq++, c));
  if (!o.deprecateEof) parts.push(eof(seq++));
  for (const r of rows) parts.push(textRow(seq++, r));
  parts.push(o.deprecateEof ? ok(seq++, { header: 0xfe, status: o.status ?? 2 }) : eof(seq++, o.status ?? 2));
  return concat(...parts);
}

export function command(code: number, body: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  return packet(0, concat(u8(code), typeof body === 'string' ? str(body) : body));
}

export const COM = { QUIT: 0x01, INIT_DB: 0x02, QUERY: 0x03, PING: 0x0e, STMT_PREPARE: 0x16, STMT_EXECUTE: 0x17, STMT_CLOSE: 0x19, STMT_RESET: 0x1a } as const;

/** COM_STMT_PREPARE_OK and its parameter and column definitions (EOFs unless deprecateEof). */
export function prepareOk(statementId: number, params: number, columns: readonly { name: string; type: number }[], deprecateEof: boolean): Uint8Array {
  let seq = 1;
  const parts: Uint8Array[] = [packet(seq++, concat(u8(0), u32(statementId), u16(columns.length), u16(params), u8(0), u16(0)))];
  for (let i = 0; i < params; i++) parts.push(columnDef(seq++, '?', TYPE.NULL, ''));
  if (params > 0 && !deprecateEof) parts.push(eof(seq++));
  for (const c of columns) parts.push(columnDef(seq++, c.name, c.type));
  if (columns.length > 0 && !deprecateEof) parts.push(eof(seq++));
  return concat(...parts);
}

/** A parameter of COM_STMT_EXECUTE: its type and its binary value (null: NULL). */
export interface WireParam {
  readonly type: number;
  readonly value: Uint8Array | null;
}

export const bin = {
  long: (n: number): WireParam => ({ type: TYPE.LONG, value: u32(n) }),
  longlong: (n: bigint): WireParam => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return { type: TYPE.LONGLONG, value: new Uint8Array(b) };
  },
  double: (n: number): WireParam => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(n);
    return { type: TYPE.DOUBLE, value: new Uint8Array(b) };
  },
  text: (s: string): WireParam => ({ type: TYPE.VAR_STRING, value: lenencStr(s) }),
  datetime: (y: number, mo: number, d: number, h: number, mi: number, s: number): WireParam => ({ type: TYPE.DATETIME, value: concat(u8(7), u16(y), u8(mo), u8(d), u8(h), u8(mi), u8(s)) }),
  null: (): WireParam => ({ type: TYPE.NULL, value: null }),
};

/** COM_STMT_EXECUTE; `bindTypes` false sends new-params-bound 0 (the server keeps the earlier types). */
export function execute(statementId: number, params: readonly WireParam[], bindTypes = true): Uint8Array {
  const parts: Uint8Array[] = [u8(COM.STMT_EXECUTE), u32(statementId), u8(0), u32(1)];
  if (params.length > 0) {
    const bitmap = new Uint8Array(Math.floor((params.length + 7) / 8));
    params.forEach((p, i) => {
      if (p.value === null) bitmap[i >> 3]! |= 1 << (i & 7);
    });
    parts.push(bitmap, u8(bindTypes ? 1 : 0));
    if (bindTypes) for (const p of params) parts.push(u8(p.type), u8(0));
    for (const p of params) if (p.value !== null) parts.push(p.value);
  }
  return packet(0, concat(...parts));
}

/** A binary result row: 0x00, NULL bitmap (offset 2), values. */
export function binaryRow(seq: number, values: readonly (Uint8Array | null)[]): Uint8Array {
  const bitmap = new Uint8Array(Math.floor((values.length + 7 + 2) / 8));
  values.forEach((v, i) => {
    if (v === null) bitmap[(i + 2) >> 3]! |= 1 << ((i + 2) & 7);
  });
  return packet(seq, concat(u8(0), bitmap, ...values.filter((v): v is Uint8Array => v !== null)));
}
