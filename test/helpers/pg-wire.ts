/**
 * PostgreSQL protocol 3.0 messages written per "Message Formats" of the PostgreSQL docs, for tests
 * that feed the dissector real-shaped bytes (unit, fuzz, bench). Frontend and backend builders.
 */

const enc = new TextEncoder();

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

const cstr = (s: string): Uint8Array => concat(enc.encode(s), Uint8Array.of(0));
const i16 = (n: number): Uint8Array => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0);
  return b;
};

/** A typed message: the type byte, the length (counting itself), the body. */
export function typed(type: string, ...body: readonly Uint8Array[]): Uint8Array {
  const payload = concat(...body);
  return concat(enc.encode(type), i32(payload.length + 4), payload);
}

function untyped(...body: readonly Uint8Array[]): Uint8Array {
  const payload = concat(...body);
  return concat(i32(payload.length + 4), payload);
}

// ---- frontend
export const startup = (params: Readonly<Record<string, string>>): Uint8Array =>
  untyped(i32(196608), ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Uint8Array.of(0));
export const sslRequest = (): Uint8Array => untyped(i32(80877103));
export const gssencRequest = (): Uint8Array => untyped(i32(80877104));
export const cancelRequest = (pid: number, key: number): Uint8Array => untyped(i32(80877102), i32(pid), i32(key));
export const password = (secret: string): Uint8Array => typed('p', cstr(secret));
export const saslInitial = (mechanism: string, data: string): Uint8Array => typed('p', cstr(mechanism), i32(data.length), enc.encode(data));
export const saslResponse = (data: string): Uint8Array => typed('p', enc.encode(data));
export const query = (sql: string): Uint8Array => typed('Q', cstr(sql));
export const parse = (name: string, sql: string, oids: readonly number[] = []): Uint8Array =>
  typed('P', cstr(name), cstr(sql), i16(oids.length), ...oids.map(i32));
/** Bind: `values` null for SQL NULL; `formats` one for all or one per value (0 text, 1 binary). */
export const bind = (portal: string, statement: string, values: readonly (Uint8Array | string | null)[], formats: readonly number[] = []): Uint8Array =>
  typed(
    'B', cstr(portal), cstr(statement), i16(formats.length), ...formats.map(i16), i16(values.length),
    ...values.map((v) => (v === null ? i32(-1) : concat(i32(typeof v === 'string' ? enc.encode(v).length : v.length), typeof v === 'string' ? enc.encode(v) : v))),
    i16(0),
  );
export const describe = (kind: 'S' | 'P', name: string): Uint8Array => typed('D', enc.encode(kind), cstr(name));
export const execute = (portal: string, maxRows = 0): Uint8Array => typed('E', cstr(portal), i32(maxRows));
export const close = (kind: 'S' | 'P', name: string): Uint8Array => typed('C', enc.encode(kind), cstr(name));
export const sync = (): Uint8Array => typed('S');
export const flush = (): Uint8Array => typed('H');
export const terminate = (): Uint8Array => typed('X');
export const copyData = (data: string | Uint8Array): Uint8Array => typed('d', typeof data === 'string' ? enc.encode(data) : data);
export const copyDone = (): Uint8Array => typed('c');
export const copyFail = (why: string): Uint8Array => typed('f', cstr(why));

// ---- backend
export const authOk = (): Uint8Array => typed('R', i32(0));
export const authCleartext = (): Uint8Array => typed('R', i32(3));
export const authMd5 = (): Uint8Array => typed('R', i32(5), Uint8Array.of(1, 2, 3, 4));
export const authSasl = (...mechanisms: readonly string[]): Uint8Array => typed('R', i32(10), ...mechanisms.map(cstr), Uint8Array.of(0));
export const authSaslContinue = (data: string): Uint8Array => typed('R', i32(11), enc.encode(data));
export const authSaslFinal = (data: string): Uint8Array => typed('R', i32(12), enc.encode(data));
export const parameterStatus = (k: string, v: string): Uint8Array => typed('S', cstr(k), cstr(v));
export const backendKeyData = (pid: number, key: number): Uint8Array => typed('K', i32(pid), i32(key));
export const ready = (status: 'I' | 'T' | 'E' = 'I'): Uint8Array => typed('Z', enc.encode(status));
export const parseComplete = (): Uint8Array => typed('1');
export const bindComplete = (): Uint8Array => typed('2');
export const closeComplete = (): Uint8Array => typed('3');
export const noData = (): Uint8Array => typed('n');
export const emptyQuery = (): Uint8Array => typed('I');
export const parameterDescription = (oids: readonly number[]): Uint8Array => typed('t', i16(oids.length), ...oids.map(i32));
/** RowDescription: columns as [name, type OID, format]. */
export const rowDescription = (columns: readonly (readonly [string, number, number?])[]): Uint8Array =>
  typed('T', i16(columns.length), ...columns.flatMap(([n, oid, format]) => [cstr(n), i32(0), i16(0), i32(oid), i16(-1), i32(-1), i16(format ?? 0)]));
export const dataRow = (values: readonly (string | Uint8Array | null)[]): Uint8Array =>
  typed('D', i16(values.length), ...values.map((v) => (v === null ? i32(-1) : concat(i32(typeof v === 'string' ? enc.encode(v).length : v.length), typeof v === 'string' ? enc.encode(v) : v))));
export const commandComplete = (tag: string): Uint8Array => typed('C', cstr(tag));
/** ErrorResponse/NoticeResponse from its fields (S and V severity, C code, M message, D detail, H hint). */
export function errorResponse(fields: Readonly<Record<string, string>>, type: 'E' | 'N' = 'E'): Uint8Array {
  return typed(type, ...Object.entries(fields).flatMap(([k, v]) => [enc.encode(k), cstr(v)]), Uint8Array.of(0));
}
export const notice = (fields: Readonly<Record<string, string>>): Uint8Array => errorResponse(fields, 'N');
export const copyInResponse = (columns: number): Uint8Array => typed('G', Uint8Array.of(0), i16(columns), ...Array.from({ length: columns }, () => i16(0)));
export const copyOutResponse = (columns: number): Uint8Array => typed('H', Uint8Array.of(0), i16(columns), ...Array.from({ length: columns }, () => i16(0)));
export const copyDoneB = (): Uint8Array => typed('c');

/** int4 / int8 / bool / float8 in the binary format. */
export const int4 = (n: number): Uint8Array => i32(n);
export const int8 = (n: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
export const bool = (v: boolean): Uint8Array => Uint8Array.of(v ? 1 : 0);
export const float8 = (n: number): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
};

/** A psql-like opening: startup, SCRAM exchange, parameters, BackendKeyData, ReadyForQuery. */
export function scramOpening(user: string, database: string): { client: Uint8Array[]; server: Uint8Array[] } {
  return {
    client: [
      startup({ user, database, application_name: 'psql', client_encoding: 'UTF8' }),
      saslInitial('SCRAM-SHA-256', 'n,,n=,r=clientnonce'),
      saslResponse('c=biws,r=clientnonceservernonce,p=SECRETPROOF'),
    ],
    server: [
      authSasl('SCRAM-SHA-256'),
      authSaslContinue('r=clientnonceservernonce,s=SALTSALT,i=4096'),
      concat(authSaslFinal('v=SERVERSIGNATURE'), authOk(), parameterStatus('server_version', '15.10'), backendKeyData(4242, 99), ready('I')),
    ],
  };
}
