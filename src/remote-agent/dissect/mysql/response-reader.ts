/**
 * What the server answers to one command, packet by packet, until the answer is complete: OK or
 * ERR, result sets (text or binary rows, with or without EOF packets: CLIENT_DEPRECATE_EOF) one
 * after another while SERVER_MORE_RESULTS_EXISTS, COM_STMT_PREPARE's statement and definitions,
 * COM_FIELD_LIST's definitions, COM_STATISTICS's text, COM_CHANGE_USER's auth exchange.
 */
import { STATUS } from './codes.ts';
import type { MysqlColumn, MysqlResponse, MysqlResult } from './entry.ts';
import { parseBinaryRow, parseColumnCount, parseColumnDef, parseEof, parseErr, parseOk, parsePrepareOk, parseTextRow, text, type ColumnDef, type PrepareOk } from './packets.ts';

/** How a command is answered. */
export type AnswerKind = 'none' | 'results' | 'binary-results' | 'fetch' | 'fields' | 'prepare' | 'statistics' | 'auth' | 'generic';

/** Columns of one result kept at most (MySQL allows 4096). */
export const MAX_COLUMNS = 4096;
/** Bytes a kept row costs beyond its values (so empty rows are bounded too). */
const ROW_OVERHEAD_BYTES = 8;
/** Results of one command kept at most (a stored procedure may return many). */
export const MAX_RESULTS = 256;

export interface ReaderOptions {
  readonly capabilities: number;
  /** CLIENT_DEPRECATE_EOF agreed by both sides; undefined when the login was not seen. */
  readonly deprecateEof: boolean | undefined;
  readonly maxBodyBytes: number;
  /** COM_STMT_FETCH: the statement's columns, for its binary rows. */
  readonly columns?: readonly ColumnDef[];
}

type State =
  | 'start' | 'defs' | 'after-defs' | 'rows' | 'infile' | 'done'
  | 'p-params' | 'p-params-eof' | 'p-cols' | 'p-cols-eof';

export type Step = 'more' | 'done';

export class ResponseReader {
  readonly #kind: AnswerKind;
  readonly #opt: ReaderOptions;
  #state: State = 'start';
  readonly #results: MysqlResult[] = [];
  /** The result set being read. */
  #columns: ColumnDef[] = [];
  #columnCount = 0;
  #rows: (string | null)[][] = [];
  #rowCount = 0;
  #rowsTruncated = false;
  #heldBytes = 0;
  #prepare: PrepareOk | null = null;
  #params: ColumnDef[] = [];
  #text: string | undefined;
  /** Packets that broke the grammar (counted as violations by the caller). */
  malformed = 0;
  /** The answer may be complete as it stands (an optional EOF may still come, or a generic answer). */
  canEnd = false;

  constructor(kind: AnswerKind, opt: ReaderOptions) {
    this.#kind = kind;
    this.#opt = opt;
    if (kind === 'fetch') {
      this.#columns = [...(opt.columns ?? [])];
      this.#columnCount = this.#columns.length;
      this.#state = 'rows';
    } else if (kind === 'fields') this.#state = 'defs';
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  /** The statement's columns when this answered COM_STMT_PREPARE or a binary result set. */
  get lastColumns(): readonly ColumnDef[] {
    return this.#columns;
  }

  get prepared(): { ok: PrepareOk; params: readonly ColumnDef[]; columns: readonly ColumnDef[] } | null {
    return this.#prepare === null ? null : { ok: this.#prepare, params: this.#params, columns: this.#columns };
  }

  /** One server packet (`length`: its whole payload length; `p` the bytes kept of it). */
  packet(p: Uint8Array, length: number): Step {
    if (this.#state === 'done') return 'done';
    const first = p.length > 0 ? p[0]! : -1;
    if (first === 0xff && this.#state !== 'p-params' && this.#state !== 'p-cols') {
      const err = parseErr(p);
      // MariaDB progress reports ride on ERR code 0xFFFF: not an answer.
      if (err !== null && err.errorCode === 0xffff) return 'more';
      if (err === null) this.malformed++;
      this.#closeResultSet();
      this.#push({ kind: 'error', errorCode: err?.errorCode ?? 0, sqlState: err?.sqlState ?? '', errorMessage: err?.errorMessage ?? '' });
      return this.#end();
    }
    switch (this.#kind) {
      case 'statistics':
        this.#text = text(p);
        return this.#end();
      case 'auth':
        if (first === 0x00) return this.#ok(p, false);
        return 'more'; // auth switch (0xFE), more data (0x01): the exchange goes on
      case 'generic':
        if (first === 0x00) return this.#ok(p, true);
        if (first === 0xfe && length < 9) return this.#eofOnly(p);
        this.canEnd = true;
        return 'more';
      case 'prepare':
        return this.#preparePacket(p, length);
      case 'none':
        this.malformed++;
        return 'more';
      default:
        return this.#resultPacket(p, length);
    }
  }

  /** A complete answer (or what came of it). */
  finish(): MysqlResponse {
    this.#closeResultSet();
    const results = this.#results;
    let affectedRows = 0;
    let rowCount = 0;
    let warnings = 0;
    let lastInsertId: number | undefined;
    let error: Extract<MysqlResult, { kind: 'error' }> | undefined;
    for (const r of results) {
      if (r.kind === 'ok') {
        affectedRows += r.affectedRows;
        warnings += r.warnings;
        if (r.lastInsertId !== 0) lastInsertId = r.lastInsertId;
      } else if (r.kind === 'resultset') {
        rowCount += r.rowCount;
        warnings += r.warnings;
      } else error ??= r;
    }
    const res: MysqlResponse = { success: error === undefined, results, affectedRows, rowCount, warnings };
    if (lastInsertId !== undefined) res.lastInsertId = lastInsertId;
    if (error !== undefined) {
      res.errorCode = error.errorCode;
      res.sqlState = error.sqlState;
      res.errorMessage = error.errorMessage;
    }
    if (this.#prepare !== null) {
      const col = (c: ColumnDef): MysqlColumn => ({ name: c.name, table: c.table, type: c.type });
      res.prepared = {
        statementId: this.#prepare.statementId,
        paramCount: this.#prepare.paramCount,
        columnCount: this.#prepare.columnCount,
        params: this.#params.map(col),
        columns: this.#columns.map(col),
      };
      res.warnings += this.#prepare.warnings;
    }
    if (this.#text !== undefined) res.text = this.#text;
    return res;
  }

  #end(): Step {
    this.#state = 'done';
    return 'done';
  }

  #push(r: MysqlResult): void {
    if (this.#results.length < MAX_RESULTS) this.#results.push(r);
  }

  /** An OK: the answer ends unless more results follow (and `more` allows them). */
  #ok(p: Uint8Array, more: boolean): Step {
    const ok = parseOk(p, this.#opt.capabilities);
    if (ok === null) this.malformed++;
    this.#push({ kind: 'ok', affectedRows: ok?.affectedRows ?? 0, lastInsertId: ok?.lastInsertId ?? 0, warnings: ok?.warnings ?? 0, status: ok?.status ?? 0, ...(ok?.info ? { info: ok.info } : {}) });
    if (more && ok !== null && (ok.status & STATUS.MORE_RESULTS_EXISTS) !== 0) {
      this.#state = 'start';
      return 'more';
    }
    return this.#end();
  }

  #eofOnly(p: Uint8Array): Step {
    const eof = parseEof(p);
    this.#push({ kind: 'ok', affectedRows: 0, lastInsertId: 0, warnings: eof.warnings, status: eof.status });
    return this.#end();
  }

  #resultPacket(p: Uint8Array, length: number): Step {
    const first = p.length > 0 ? p[0]! : -1;
    switch (this.#state) {
      case 'start':
        if (first === 0x00) return this.#ok(p, true);
        if (first === 0xfb) {
          // LOCAL INFILE: the client sends the file, then the server's OK or ERR.
          this.#state = 'infile';
          return 'more';
        }
        if (first === 0xfe && length < 9) return this.#eofOnly(p);
        {
          const n = parseColumnCount(p);
          if (n === null) {
            this.malformed++;
            return this.#end();
          }
          this.#openResultSet(n);
        }
        return 'more';
      case 'infile':
        if (first === 0x00) return this.#ok(p, true);
        return 'more';
      case 'defs':
        if (this.#kind === 'fields' && first === 0xfe && length < 9) {
          this.#columnCount = this.#columns.length;
          const eof = parseEof(p);
          this.#results.push({ kind: 'resultset', columns: [], rows: [], rowCount: 0, rowsTruncated: false, warnings: eof.warnings, status: eof.status });
          this.#columnsInto(this.#results[this.#results.length - 1]!);
          this.#columns = [];
          return this.#end();
        }
        this.#def(p);
        if (this.#kind !== 'fields' && ++this.#defsSeen >= this.#columnCount) this.#state = 'after-defs';
        return 'more';
      case 'after-defs':
        if (first === 0xfe && length < 9) {
          const isTerminator = this.#opt.deprecateEof === true || (this.#opt.deprecateEof === undefined && length !== 5);
          if (isTerminator) return this.#terminator(p, length);
          const eof = parseEof(p);
          this.#state = 'rows';
          // A cursor was opened: the rows come with COM_STMT_FETCH.
          if (this.#kind === 'binary-results' && (eof.status & STATUS.CURSOR_EXISTS) !== 0) return this.#terminator(p, length);
          return 'more';
        }
        this.#state = 'rows';
        return this.#row(p);
      case 'rows':
        if (first === 0xfe && length < 0xffffff) return this.#terminator(p, length);
        return this.#row(p);
      default:
        return 'more';
    }
  }

  #defsSeen = 0;

  #openResultSet(columns: number): void {
    this.#columns = [];
    this.#columnCount = columns;
    this.#defsSeen = 0;
    this.#rows = [];
    this.#rowCount = 0;
    this.#rowsTruncated = false;
    this.#state = 'defs';
  }

  #def(p: Uint8Array): void {
    const c = parseColumnDef(p);
    if (c === null) this.malformed++;
    if (this.#columns.length < MAX_COLUMNS) this.#columns.push(c ?? { name: '?', table: '', type: '?', typeCode: 0xfd, unsigned: false });
  }

  #row(p: Uint8Array): Step {
    this.#rowCount++;
    if (this.#rowsTruncated) return 'more';
    const cost = p.length + ROW_OVERHEAD_BYTES;
    if (this.#heldBytes + cost > this.#opt.maxBodyBytes) {
      this.#rowsTruncated = true;
      return 'more';
    }
    const binary = this.#kind === 'binary-results' || this.#kind === 'fetch';
    const row = binary ? parseBinaryRow(p, this.#columns) : parseTextRow(p, this.#columns.length || this.#columnCount);
    if (row === null) {
      this.malformed++;
      this.#rowsTruncated = true;
      return 'more';
    }
    this.#heldBytes += cost;
    this.#rows.push(row);
    return 'more';
  }

  /** The end of a result set (EOF, or OK with 0xFE): more results may follow. */
  #terminator(p: Uint8Array, length: number): Step {
    let status: number;
    let warnings: number;
    if (length === 5 || length === 1) ({ status, warnings } = parseEof(p));
    else {
      const ok = parseOk(p, this.#opt.capabilities);
      status = ok?.status ?? 0;
      warnings = ok?.warnings ?? 0;
    }
    this.#closeResultSet(warnings, status);
    if ((status & STATUS.MORE_RESULTS_EXISTS) !== 0 && this.#kind !== 'fetch') {
      this.#state = 'start';
      return 'more';
    }
    return this.#end();
  }

  #resultSetOpen(): boolean {
    return this.#state === 'defs' || this.#state === 'after-defs' || (this.#state === 'rows' && this.#kind !== 'fields');
  }

  /** Adds the result set being read to the results (complete or cut short). */
  #closeResultSet(warnings = 0, status = 0): void {
    if (!this.#resultSetOpen() || this.#kind === 'fields') return;
    const r: MysqlResult = { kind: 'resultset', columns: [], rows: this.#rows, rowCount: this.#rowCount, rowsTruncated: this.#rowsTruncated || this.#columns.length < this.#columnCount, warnings, status };
    this.#columnsInto(r);
    this.#push(r);
    this.#rows = [];
    this.#rowCount = 0;
    this.#state = 'done';
  }

  #columnsInto(r: MysqlResult): void {
    if (r.kind === 'resultset') r.columns = this.#columns.map((c) => ({ name: c.name, table: c.table, type: c.type }));
  }

  #preparePacket(p: Uint8Array, length: number): Step {
    const first = p.length > 0 ? p[0]! : -1;
    const isEof = first === 0xfe && length < 9;
    switch (this.#state) {
      case 'start': {
        const ok = first === 0x00 ? parsePrepareOk(p) : null;
        if (ok === null) {
          this.malformed++;
          return this.#end();
        }
        this.#prepare = ok;
        this.#state = 'p-params';
        return this.#afterStage(0);
      }
      case 'p-params':
        this.#params.push(...this.#defOf(p));
        return this.#afterStage(0);
      case 'p-params-eof':
        this.#state = 'p-cols';
        if (isEof) return this.#afterStage(1);
        return this.#preparePacket(p, length);
      case 'p-cols':
        this.#columns.push(...this.#defOf(p));
        return this.#afterStage(1);
      case 'p-cols-eof':
        if (isEof) return this.#end();
        this.malformed++;
        return this.#end();
      default:
        return 'more';
    }
  }

  #defOf(p: Uint8Array): ColumnDef[] {
    const c = parseColumnDef(p);
    if (c === null) this.malformed++;
    return [c ?? { name: '?', table: '', type: '?', typeCode: 0xfd, unsigned: false }];
  }

  /** After a packet of stage 0 (parameters) or 1 (columns) of a prepare answer: what comes next. */
  #afterStage(stage: 0 | 1): Step {
    const ok = this.#prepare!;
    const deprecate = this.#opt.deprecateEof;
    if (stage === 0) {
      if (this.#params.length < Math.min(ok.paramCount, MAX_COLUMNS)) return 'more';
      if (ok.paramCount > 0 && deprecate !== true) {
        this.#state = 'p-params-eof';
        // Without the login seen, the EOF may not come: the answer may end here.
        this.canEnd = deprecate === undefined && ok.columnCount === 0;
        return 'more';
      }
      this.#state = 'p-cols';
    }
    if (this.#columns.length < Math.min(ok.columnCount, MAX_COLUMNS)) return 'more';
    if (ok.columnCount > 0 && deprecate !== true) {
      this.#state = 'p-cols-eof';
      this.canEnd = deprecate === undefined;
      return 'more';
    }
    return this.#end();
  }
}
