/**
 * Readers of MySQL packet payloads (after the 4-byte header): greeting, login, OK/ERR/EOF, column
 * definitions, text and binary rows, COM_STMT_EXECUTE parameters. Each returns null for a payload
 * too short or malformed for its kind; none throws out of this file. Auth data is skipped, never
 * copied.
 */
import { CAP, typeName } from './codes.ts';
import type { MysqlColumn, MysqlParam } from './entry.ts';

/** Thrown inside this file only: the payload ended early or broke its grammar. */
class Malformed extends Error {}

const utf8 = new TextDecoder('utf-8');

export class PayloadReader {
  readonly bytes: Uint8Array;
  pos: number;

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  get left(): number {
    return this.bytes.length - this.pos;
  }

  #need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) throw new Malformed('short');
  }

  u8(): number {
    this.#need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.#need(2);
    const b = this.bytes;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.#need(3);
    const b = this.bytes;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8) | (b[this.pos + 2]! << 16);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.#need(4);
    const b = this.bytes;
    const v = (b[this.pos]! | (b[this.pos + 1]! << 8) | (b[this.pos + 2]! << 16)) + b[this.pos + 3]! * 0x1000000;
    this.pos += 4;
    return v;
  }

  /** A 64-bit little-endian integer as a bigint (signed or not). */
  u64(signed: boolean): bigint {
    this.#need(8);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    this.pos += 8;
    return signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true);
  }

  view(n: number): DataView {
    this.#need(n);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.#need(n);
    this.pos += n;
  }

  take(n: number): Uint8Array {
    this.#need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Length-encoded integer; null for 0xFB (NULL in a text row). Beyond 2^53 reads as Infinity (never a length). */
  lenenc(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) {
      const v = this.u64(false);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
    }
    throw new Malformed('0xff is no length');
  }

  lenencInt(): number {
    const v = this.lenenc();
    if (v === null) throw new Malformed('NULL where a number belongs');
    return v;
  }

  lenencBytes(): Uint8Array | null {
    const n = this.lenenc();
    if (n === null) return null;
    return this.take(n);
  }

  lenencText(): string {
    const b = this.lenencBytes();
    return b === null ? '' : text(b);
  }

  /** A NUL-terminated string (to the end when there is no NUL). */
  nulText(): string {
    const b = this.bytes;
    let end = this.pos;
    while (end < b.length && b[end] !== 0) end++;
    const s = text(b.subarray(this.pos, end));
    this.pos = Math.min(b.length, end + 1);
    return s;
  }

  /** Skips a NUL-terminated field (auth data of old clients), never decoding it. */
  skipNul(): void {
    const b = this.bytes;
    while (this.pos < b.length && b[this.pos] !== 0) this.pos++;
    this.pos = Math.min(b.length, this.pos + 1);
  }

  rest(): Uint8Array {
    const out = this.bytes.subarray(this.pos);
    this.pos = this.bytes.length;
    return out;
  }
}

/** Bytes from the wire as text: UTF-8, invalid sequences as U+FFFD. */
export function text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

function guarded<T>(read: () => T): T | null {
  try {
    return read();
  } catch (err) {
    if (err instanceof Malformed) return null;
    throw err;
  }
}

export interface Greeting {
  protocolVersion: number;
  serverVersion: string;
  connectionId: number;
  capabilities: number;
  authPlugin: string;
}

/** Protocol::HandshakeV10 (and V9's first fields). */
export function parseGreeting(p: Uint8Array): Greeting | null {
  return guarded(() => {
    const r = new PayloadReader(p);
    const protocolVersion = r.u8();
    if (protocolVersion !== 10 && protocolVersion !== 9) return null;
    const serverVersion = r.nulText();
    const connectionId = r.u32();
    if (protocolVersion === 9) return { protocolVersion, serverVersion, connectionId, capabilities: 0, authPlugin: '' };
    r.skip(8); // auth-plugin-data part 1: a nonce, not kept
    r.skip(1);
    let capabilities = r.u16();
    let authPlugin = '';
    if (r.left > 0) {
      r.skip(1); // character set
      r.skip(2); // status
      capabilities |= r.u16() << 16;
      const authLen = r.u8();
      r.skip(10);
      if (capabilities & CAP.SECURE_CONNECTION) r.skip(Math.min(r.left, Math.max(13, authLen - 8)));
      if (capabilities & CAP.PLUGIN_AUTH) authPlugin = r.nulText();
    }
    return { protocolVersion, serverVersion, connectionId, capabilities: capabilities >>> 0, authPlugin };
  });
}

export interface Login {
  capabilities: number;
  user: string;
  database?: string;
  authPlugin: string;
  /** An SSLRequest: only the flags, TLS follows. */
  sslRequest: boolean;
}

/** Protocol::HandshakeResponse41/320 or SSLRequest; the auth response is skipped. */
export function parseLogin(p: Uint8Array): Login | null {
  return guarded(() => {
    const r = new PayloadReader(p);
    const low = r.u16();
    if (!(low & CAP.PROTOCOL_41)) {
      r.skip(3);
      const user = r.nulText();
      return { capabilities: low, user, authPlugin: '', sslRequest: false };
    }
    r.pos = 0;
    const capabilities = r.u32();
    r.skip(4 + 1 + 23);
    if (r.left === 0) return { capabilities, user: '', authPlugin: '', sslRequest: (capabilities & CAP.SSL) !== 0 };
    const user = r.nulText();
    skipAuthResponse(r, capabilities);
    let database: string | undefined;
    if (capabilities & CAP.CONNECT_WITH_DB && r.left > 0) database = r.nulText();
    const authPlugin = capabilities & CAP.PLUGIN_AUTH && r.left > 0 ? r.nulText() : '';
    return { capabilities, user, ...(database !== undefined ? { database } : {}), authPlugin, sslRequest: false };
  });
}

function skipAuthResponse(r: PayloadReader, capabilities: number): void {
  if (capabilities & CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA) r.skip(r.lenencInt());
  else if (capabilities & CAP.SECURE_CONNECTION) r.skip(r.u8());
  else r.skipNul();
}

export interface ChangeUser {
  user: string;
  database: string;
}

/** COM_CHANGE_USER (after its command byte): user and schema; the auth response is skipped. */
export function parseChangeUser(p: Uint8Array, capabilities: number): ChangeUser | null {
  return guarded(() => {
    const r = new PayloadReader(p, 1);
    const user = r.nulText();
    if (capabilities & CAP.SECURE_CONNECTION || capabilities === 0) r.skip(r.u8());
    else r.skipNul();
    return { user, database: r.nulText() };
  });
}

export interface Ok {
  affectedRows: number;
  lastInsertId: number;
  status: number;
  warnings: number;
  info?: string;
}

/** OK_Packet (header 0x00, or 0xFE ending a result set under CLIENT_DEPRECATE_EOF). */
export function parseOk(p: Uint8Array, capabilities: number): Ok | null {
  return guarded(() => {
    const r = new PayloadReader(p, 1);
    const affectedRows = r.lenencInt();
    const lastInsertId = r.lenencInt();
    const status = r.left >= 2 ? r.u16() : 0;
    const warnings = r.left >= 2 ? r.u16() : 0;
    let info: string | undefined;
    if (r.left > 0) info = capabilities & CAP.SESSION_TRACK ? r.lenencText() : text(r.rest());
    return { affectedRows, lastInsertId, status, warnings, ...(info ? { info } : {}) };
  });
}

export interface Err {
  errorCode: number;
  sqlState: string;
  errorMessage: string;
}

/** ERR_Packet. */
export function parseErr(p: Uint8Array): Err | null {
  return guarded(() => {
    const r = new PayloadReader(p, 1);
    const errorCode = r.u16();
    let sqlState = '';
    if (r.left >= 6 && r.bytes[r.pos] === 0x23) {
      r.skip(1);
      sqlState = text(r.take(5));
    }
    return { errorCode, sqlState, errorMessage: text(r.rest()) };
  });
}

/** EOF_Packet (4.1): warnings and status. */
export function parseEof(p: Uint8Array): { warnings: number; status: number } {
  if (p.length < 5) return { warnings: 0, status: 0 };
  return { warnings: p[1]! | (p[2]! << 8), status: p[3]! | (p[4]! << 8) };
}

export interface ColumnDef extends MysqlColumn {
  typeCode: number;
  unsigned: boolean;
}

/** Protocol::ColumnDefinition41 (MariaDB's extended metadata skipped). */
export function parseColumnDef(p: Uint8Array): ColumnDef | null {
  return guarded(() => {
    const r = new PayloadReader(p);
    r.lenencBytes(); // catalog
    r.lenencBytes(); // schema
    const table = r.lenencText();
    r.lenencBytes(); // org_table
    const name = r.lenencText();
    r.lenencBytes(); // org_name
    // MariaDB with extended metadata: a length-encoded block before the fixed fields (length 0x0c).
    if (r.left > 0 && r.bytes[r.pos] !== 0x0c) r.lenencBytes();
    r.lenencInt();
    r.skip(2 + 4);
    const typeCode = r.u8();
    const flags = r.u16();
    return { name, table, type: typeName(typeCode), typeCode, unsigned: (flags & 0x20) !== 0 };
  });
}

/** The number of columns of a result set (a length-encoded integer alone); null when it is not one. */
export function parseColumnCount(p: Uint8Array): number | null {
  return guarded(() => {
    const r = new PayloadReader(p);
    const n = r.lenencInt();
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  });
}

/** A text row: one length-encoded string per column, 0xFB for NULL. */
export function parseTextRow(p: Uint8Array, columns: number): (string | null)[] | null {
  return guarded(() => {
    const r = new PayloadReader(p);
    const out: (string | null)[] = [];
    for (let i = 0; i < columns && r.left > 0; i++) {
      const b = r.lenencBytes();
      out.push(b === null ? null : text(b));
    }
    return out;
  });
}

/** A binary row (COM_STMT_EXECUTE results): 0x00, a NULL bitmap offset by 2, values by column type. */
export function parseBinaryRow(p: Uint8Array, columns: readonly ColumnDef[]): (string | null)[] | null {
  return guarded(() => {
    const r = new PayloadReader(p, 1);
    const bitmap = r.take(Math.floor((columns.length + 7 + 2) / 8));
    const out: (string | null)[] = [];
    for (let i = 0; i < columns.length; i++) {
      const bit = i + 2;
      if (bitmap[bit >> 3]! & (1 << (bit & 7))) {
        out.push(null);
        continue;
      }
      const c = columns[i]!;
      out.push(binaryValue(r, c.typeCode, c.unsigned));
    }
    return out;
  });
}

/** One value of the binary protocol, as text. */
function binaryValue(r: PayloadReader, type: number, unsigned: boolean): string {
  switch (type) {
    case 0x01: {
      const v = r.u8();
      return String(unsigned ? v : (v << 24) >> 24);
    }
    case 0x02:
    case 0x0d: {
      const v = r.u16();
      return String(unsigned || type === 0x0d ? v : (v << 16) >> 16);
    }
    case 0x03:
    case 0x09: {
      const v = r.u32();
      return String(unsigned ? v : v | 0);
    }
    case 0x08:
      return String(r.u64(!unsigned));
    case 0x04:
      return String(r.view(4).getFloat32(0, true));
    case 0x05:
      return String(r.view(8).getFloat64(0, true));
    case 0x06:
      return 'NULL';
    case 0x07:
    case 0x0a:
    case 0x0c:
    case 0x0e:
    case 0x11:
    case 0x12:
      return dateTime(r);
    case 0x0b:
    case 0x13:
      return time(r);
    default: {
      const b = r.lenencBytes();
      return b === null ? '' : text(b);
    }
  }
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function dateTime(r: PayloadReader): string {
  const n = r.u8();
  if (n === 0) return '0000-00-00 00:00:00';
  const year = r.u16();
  const month = r.u8();
  const day = r.u8();
  let out = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (n >= 7) out += ` ${pad(r.u8())}:${pad(r.u8())}:${pad(r.u8())}`;
  if (n >= 11) out += `.${pad(r.u32(), 6)}`;
  if (n !== 4 && n !== 7 && n !== 11) throw new Malformed('date length');
  return out;
}

function time(r: PayloadReader): string {
  const n = r.u8();
  if (n === 0) return '00:00:00';
  if (n !== 8 && n !== 12) throw new Malformed('time length');
  const negative = r.u8() === 1;
  const days = r.u32();
  const hours = days * 24 + r.u8();
  let out = `${negative ? '-' : ''}${pad(hours)}:${pad(r.u8())}:${pad(r.u8())}`;
  if (n === 12) out += `.${pad(r.u32(), 6)}`;
  return out;
}

/** A type of COM_STMT_EXECUTE's parameter list: the type byte and the unsigned flag. */
export interface ParamType {
  readonly code: number;
  readonly unsigned: boolean;
}

export interface Execute {
  statementId: number;
  flags: number;
  /** Types sent with new-params-bound (null when the client relies on the ones it sent before). */
  types: ParamType[] | null;
  params: MysqlParam[] | null;
}

/** Parameters decoded at most (a statement may have 65,535). */
export const MAX_PARAMS_SHOWN = 1024;

/**
 * COM_STMT_EXECUTE: the statement id, and the parameters when their count is known (from the
 * statement's COM_STMT_PREPARE answer) and their types are sent now or were before (`remembered`).
 */
export function parseExecute(p: Uint8Array, paramCount: number | undefined, remembered: readonly ParamType[] | undefined, capabilities: number): Execute | null {
  return guarded(() => {
    const r = new PayloadReader(p, 1);
    const statementId = r.u32();
    const flags = r.u8();
    r.skip(4); // iteration count
    let count = paramCount;
    const withAttributes = (capabilities & CAP.QUERY_ATTRIBUTES) !== 0;
    if (withAttributes && (flags & 0x08) !== 0) count = r.lenencInt();
    if (count === undefined || count === 0 || r.left === 0) return { statementId, flags, types: null, params: count === 0 ? [] : null };
    if (count > 0xffff) return { statementId, flags, types: null, params: null };
    const bitmap = r.take(Math.floor((count + 7) / 8));
    const bound = r.u8();
    let types: ParamType[] | null = null;
    if (bound === 1) {
      types = [];
      for (let i = 0; i < count; i++) {
        const code = r.u8();
        const flag = r.u8();
        types.push({ code, unsigned: (flag & 0x80) !== 0 });
        if (withAttributes) r.lenencBytes(); // the parameter's name (query attributes)
      }
    }
    const use = types ?? remembered;
    if (use === undefined || use.length !== count) return { statementId, flags, types, params: null };
    const params: MysqlParam[] = [];
    for (let i = 0; i < count && i < MAX_PARAMS_SHOWN; i++) {
      const t = use[i]!;
      const isNull = (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
      params.push({ type: typeName(t.code), value: isNull || t.code === 0x06 ? null : binaryValue(r, t.code, t.unsigned) });
    }
    return { statementId, flags, types, params };
  });
}

export interface PrepareOk {
  statementId: number;
  columnCount: number;
  paramCount: number;
  warnings: number;
}

/** COM_STMT_PREPARE_OK. */
export function parsePrepareOk(p: Uint8Array): PrepareOk | null {
  return guarded(() => {
    const r = new PayloadReader(p, 1);
    const statementId = r.u32();
    const columnCount = r.u16();
    const paramCount = r.u16();
    r.skip(1);
    const warnings = r.left >= 2 ? r.u16() : 0;
    return { statementId, columnCount, paramCount, warnings };
  });
}
