/**
 * What the server says in answer to one request unit, collected message by message until
 * ReadyForQuery: command tags, result sets (RowDescription and DataRow, rows kept up to
 * --max-body), errors and notices with their SQLSTATE, COPY TO STDOUT data, and during startup the
 * authentication method and server parameters. SASL and MD5 challenge data are never kept.
 */
import type { PostgresqlColumn, PostgresqlCopy, PostgresqlNotice, PostgresqlResponse, PostgresqlResult } from './entry.ts';
import { BACKEND_NAMES } from './message-shape.ts';
import { binaryValue, textValue, typeName } from './value-types.ts';
import { WireReader } from './wire-reader.ts';
import { CopyCollector } from './copy-collector.ts';

/** Message names kept per response (the count goes on). */
const MAX_MESSAGE_NAMES = 256;
/** Command tags, notices, result sets and server parameters kept per response. */
const MAX_TAGS = 1024;
const MAX_NOTICES = 32;
const MAX_RESULTS = 64;
const MAX_SERVER_PARAMETERS = 64;
/** Columns read of a RowDescription or DataRow (the server allows 1664). */
const MAX_COLUMNS = 1664;
/** Characters kept of one error/notice field or tag. */
const FIELD_CHARS = 4096;

const AUTH_METHODS: ReadonlyMap<number, string> = new Map([
  [0, 'ok'], [2, 'KerberosV5'], [3, 'cleartext'], [5, 'MD5'], [7, 'GSS'], [8, 'GSS'], [9, 'SSPI'], [10, 'SASL'],
]);

const TRANSACTION_STATUS: Readonly<Record<string, string>> = { I: 'idle', T: 'in-transaction', E: 'failed' };

interface ResultBuilder {
  columns: PostgresqlColumn[];
  typeOids: number[];
  formats: number[];
  rowCount: number;
  rows: (string | null)[][];
}

export class ResponseBuilder {
  readonly startUs: number;
  endUs: number;
  bytes = 0;
  readonly #maxBodyBytes: number;
  readonly #messages: string[] = [];
  #messageCount = 0;
  readonly #tags: string[] = [];
  #rows = 0;
  readonly #results: ResultBuilder[] = [];
  #rowsTruncated = false;
  /** Characters of row values kept so far (the --max-body budget). */
  #keptChars = 0;
  #error: PostgresqlNotice | null = null;
  readonly #notices: PostgresqlNotice[] = [];
  #copy: CopyCollector | null = null;
  #encryptionAnswer: string | undefined;
  #authentication: string | undefined;
  #serverParameters: Record<string, string> | undefined;
  #transactionStatus = '';
  /** The SASL mechanism the server offered, for naming the client's next password messages. */
  authMethod = '';
  /** ParameterDescription messages seen (matched to the unit's Describe of statements in order). */
  parameterDescriptions = 0;
  /** The server sent CopyInResponse: the client's CopyData goes to the request. */
  copyIn = false;

  constructor(startUs: number, maxBodyBytes: number) {
    this.startUs = startUs;
    this.endUs = startUs;
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** A one-byte answer to SSLRequest or GSSENCRequest. */
  encryption(answer: string): void {
    this.#encryptionAnswer = answer;
    this.#name('EncryptionResponse');
  }

  /**
   * One backend message (`bytes` from its type byte, maybe cut short at the keep limit). Returns
   * the parameter type OIDs of a ParameterDescription, for the caller to remember per statement.
   */
  message(bytes: Uint8Array, length: number, endUs: number): number[] | null {
    const type = bytes[0]!;
    this.bytes += length;
    this.endUs = endUs;
    this.#name(BACKEND_NAMES.get(type) ?? `0x${type.toString(16)}`);
    const r = new WireReader(bytes, 5);
    switch (type) {
      case 0x52: // Authentication*: only the method; SASL/MD5 challenge data is never read.
        this.#auth(r.int32(), r);
        break;
      case 0x53: { // ParameterStatus
        const name = r.cstring(256);
        const value = r.cstring(FIELD_CHARS);
        const params = (this.#serverParameters ??= {});
        if (Object.keys(params).length < MAX_SERVER_PARAMETERS && name !== '__proto__') params[name] = value;
        break;
      }
      case 0x43: // CommandComplete
        if (this.#tags.length < MAX_TAGS) this.#tags.push(r.cstring(FIELD_CHARS));
        break;
      case 0x54: // RowDescription
        this.#rowDescription(r);
        break;
      case 0x44: // DataRow
        this.#dataRow(r, length > bytes.length);
        break;
      case 0x45: // ErrorResponse
        this.#error = readNotice(r);
        break;
      case 0x4e: // NoticeResponse
        if (this.#notices.length < MAX_NOTICES) this.#notices.push(readNotice(r));
        break;
      case 0x47: // CopyInResponse
        this.copyIn = true;
        break;
      case 0x48: // CopyOutResponse
        this.#copy = new CopyCollector(this.#maxBodyBytes);
        break;
      case 0x64: // CopyData
        (this.#copy ??= new CopyCollector(this.#maxBodyBytes)).data(bytes.subarray(5), length - 5);
        break;
      case 0x74: { // ParameterDescription
        this.parameterDescriptions++;
        const n = Math.min(Math.max(0, r.int16()), MAX_COLUMNS);
        const oids: number[] = [];
        for (let i = 0; i < n && !r.short; i++) oids.push(r.int32() >>> 0);
        return oids;
      }
      case 0x5a: // ReadyForQuery
        this.#transactionStatus = TRANSACTION_STATUS[String.fromCharCode(r.byte())] ?? '';
        break;
    }
    return null;
  }

  finish(): PostgresqlResponse {
    const results: PostgresqlResult[] = this.#results.map((b) => ({ columns: b.columns, rowCount: b.rowCount, rows: b.rows }));
    return {
      messages: this.#messages,
      messageCount: this.#messageCount,
      commandTags: this.#tags,
      rows: this.#rows,
      results,
      rowsTruncated: this.#rowsTruncated,
      error: this.#error,
      notices: this.#notices,
      ...(this.#copy === null ? {} : { copy: this.#copy.finish() satisfies PostgresqlCopy }),
      ...(this.#encryptionAnswer === undefined ? {} : { encryptionAnswer: this.#encryptionAnswer }),
      ...(this.#authentication === undefined ? {} : { authentication: this.#authentication }),
      ...(this.#serverParameters === undefined ? {} : { serverParameters: this.#serverParameters }),
      transactionStatus: this.#transactionStatus,
    };
  }

  get sawReadyForQuery(): boolean {
    return this.#transactionStatus !== '';
  }

  #name(name: string): void {
    this.#messageCount++;
    if (this.#messages.length < MAX_MESSAGE_NAMES) this.#messages.push(name);
  }

  #auth(code: number, r: WireReader): void {
    let method = AUTH_METHODS.get(code) ?? `code ${code >>> 0}`;
    if (code === 10) {
      // The mechanisms offered (names only): the first is what the client will use, normally.
      const mechanism = r.cstring(64);
      method = mechanism === '' ? 'SASL' : mechanism;
      this.authMethod = 'SASL';
    } else if (code === 3 || code === 5) this.authMethod = 'password';
    else if (code === 7 || code === 9) this.authMethod = 'GSS';
    // The first method asked for is the one that matters; AuthenticationOk ends it.
    if (code === 11 || code === 12 || code === 8) return;
    this.#authentication ??= method;
  }

  #rowDescription(r: WireReader): void {
    const n = Math.min(Math.max(0, r.int16()), MAX_COLUMNS);
    const result: ResultBuilder = { columns: [], typeOids: [], formats: [], rowCount: 0, rows: [] };
    for (let i = 0; i < n && !r.short; i++) {
      const name = r.cstring(256);
      r.int32(); // table OID
      r.int16(); // column number
      const oid = r.int32() >>> 0;
      r.int16(); // type size
      r.int32(); // type modifier
      const format = r.int16();
      result.columns.push({ name, type: typeName(oid) });
      result.typeOids.push(oid);
      result.formats.push(format);
    }
    if (this.#results.length < MAX_RESULTS) this.#results.push(result);
    else this.#rowsTruncated = true;
  }

  #dataRow(r: WireReader, cut: boolean): void {
    this.#rows++;
    let result = this.#results[this.#results.length - 1];
    if (result === undefined) {
      // An Execute without Describe: rows whose columns this unit did not describe.
      result = { columns: [], typeOids: [], formats: [], rowCount: 0, rows: [] };
      this.#results.push(result);
    }
    result.rowCount++;
    if (this.#keptChars >= this.#maxBodyBytes) {
      this.#rowsTruncated = true;
      return;
    }
    const n = Math.min(Math.max(0, r.int16()), MAX_COLUMNS);
    const row: (string | null)[] = [];
    for (let i = 0; i < n && !r.short; i++) {
      const len = r.int32();
      if (len < 0) {
        row.push(null);
        continue;
      }
      const raw = r.bytes(len);
      const room = Math.max(0, this.#maxBodyBytes - this.#keptChars);
      const value = result.formats[i] === 1 ? binaryValue(result.typeOids[i] ?? 0, raw, room) : textValue(raw, room);
      if (value.length >= room || raw.length < len) this.#rowsTruncated = true;
      this.#keptChars += value.length;
      row.push(value);
    }
    if (cut) this.#rowsTruncated = true;
    result.rows.push(row);
  }
}

/** The fields of an ErrorResponse/NoticeResponse: V (else S) severity, C code, M message, D detail, H hint, P position. */
function readNotice(r: WireReader): PostgresqlNotice {
  const f: Record<string, string> = {};
  for (let i = 0; i < 64 && !r.short; i++) {
    const code = r.byte();
    if (code === 0) break;
    f[String.fromCharCode(code)] = r.cstring(FIELD_CHARS);
  }
  return {
    severity: f['V'] ?? f['S'] ?? '',
    code: f['C'] ?? '',
    message: f['M'] ?? '',
    ...(f['D'] === undefined ? {} : { detail: f['D'] }),
    ...(f['H'] === undefined ? {} : { hint: f['H'] }),
    ...(f['P'] === undefined ? {} : { position: f['P'] }),
  };
}
