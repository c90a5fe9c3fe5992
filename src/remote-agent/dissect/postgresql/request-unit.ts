/**
 * One request unit of the client: what one entry shows on the request side. A Query message, an
 * extended-query run up to its Sync, the startup packet with the password messages that follow it,
 * an SSLRequest/GSSENCRequest, a CancelRequest, a FunctionCall or a Terminate. Password and SASL
 * messages are named and counted, never read.
 */
import type { PostgresqlCopy, PostgresqlExecution, PostgresqlPrepare, PostgresqlRequest, PostgresqlRequestKind } from './entry.ts';
import type { ResponseBuilder } from './backend-messages.ts';
import { CopyCollector } from './copy-collector.ts';
import { showParameters, type Portal, type Statement } from './prepared-statements.ts';
import { typeName } from './value-types.ts';

/** Message names kept per unit (the count goes on); prepares and executions kept per unit. */
const MAX_MESSAGE_NAMES = 256;
const MAX_STEPS = 256;
/** Characters of the unit's SQL text kept. */
export const QUERY_CHARS = 64 * 1024;

interface PendingExecution {
  readonly portal: string;
  readonly bound: Portal | undefined;
  readonly maxRows: number;
}

export class RequestUnit {
  readonly kind: PostgresqlRequestKind;
  readonly startUs: number;
  endUs: number;
  bytes = 0;
  /** Stream offset of its first byte on the client side, when the framing was never lost. */
  readonly offset: number | undefined;
  /** The server's answer as it comes. */
  response: ResponseBuilder | null = null;
  readonly #messages: string[] = [];
  #query = '';
  #parameters: Record<string, string> | undefined;
  readonly #prepares: PostgresqlPrepare[] = [];
  readonly #executions: PendingExecution[] = [];
  /** Statement names of Describe('S') in order: ParameterDescription answers them in order. */
  readonly describedStatements: string[] = [];
  #copy: CopyCollector | null = null;
  #cancelProcessId: number | undefined;
  /** Part of its response was lost (a gap or bytes the framing refused): its entry says so. */
  damaged = false;
  /** Password messages seen (SASLInitialResponse first, then SASLResponse). */
  passwordMessages = 0;

  constructor(kind: PostgresqlRequestKind, startUs: number, offset: number | undefined) {
    this.kind = kind;
    this.startUs = startUs;
    this.endUs = startUs;
    this.offset = offset;
  }

  message(name: string, length: number, endUs: number): void {
    this.bytes += length;
    this.endUs = endUs;
    if (this.#messages.length < MAX_MESSAGE_NAMES) this.#messages.push(name);
  }

  setQuery(text: string): void {
    this.#query = text;
  }

  setStartupParameters(params: Record<string, string>): void {
    this.#parameters = params;
  }

  setCancel(processId: number): void {
    this.#cancelProcessId = processId;
  }

  prepare(statement: string, parsed: Statement): void {
    if (this.#prepares.length < MAX_STEPS) {
      this.#prepares.push({ statement, query: parsed.query, parameterTypes: parsed.parameterTypes.map(typeName) });
    }
  }

  execute(portal: string, bound: Portal | undefined, maxRows: number): void {
    if (this.#executions.length < MAX_STEPS) this.#executions.push({ portal, bound, maxRows });
  }

  copyData(bytes: Uint8Array, length: number, maxBodyBytes: number): void {
    (this.#copy ??= new CopyCollector(maxBodyBytes)).data(bytes, length);
  }

  copyFail(message: string, maxBodyBytes: number): void {
    (this.#copy ??= new CopyCollector(maxBodyBytes)).fail(message);
  }

  /** The request side of the entry; `who` is the connection's database and user. */
  build(who: { readonly database: string; readonly user: string }): PostgresqlRequest {
    const executions: PostgresqlExecution[] = this.#executions.map((e) => ({
      statement: e.bound?.statementName ?? '',
      portal: e.portal,
      query: e.bound?.statement?.query ?? '',
      parameters: e.bound === undefined ? [] : showParameters(e.bound.parameters, e.bound.statement),
      maxRows: e.maxRows,
    }));
    const query = this.kind === 'extended-query' ? extendedQueryText(executions, this.#prepares) : this.#query;
    const copy: PostgresqlCopy | undefined = this.#copy?.finish();
    return {
      kind: this.kind,
      command: commandOf(this.kind, query),
      query,
      database: who.database,
      user: who.user,
      messages: this.#messages,
      ...(this.#parameters === undefined ? {} : { parameters: this.#parameters }),
      ...(this.kind === 'extended-query' ? { prepares: this.#prepares, executions } : {}),
      ...(copy === undefined ? {} : { copy }),
      ...(this.#cancelProcessId === undefined ? {} : { cancelProcessId: this.#cancelProcessId }),
    };
  }
}

/** The statements executed, else prepared, one text each (a statement run twice in a row shows once). */
function extendedQueryText(executions: readonly PostgresqlExecution[], prepares: readonly PostgresqlPrepare[]): string {
  const texts: string[] = [];
  const source = executions.some((e) => e.query !== '') ? executions.map((e) => e.query) : prepares.map((p) => p.query);
  for (const t of source) if (t !== '' && texts[texts.length - 1] !== t) texts.push(t);
  const joined = texts.join('; ');
  return joined.length > QUERY_CHARS ? joined.slice(0, QUERY_CHARS) : joined;
}

const OTHER_COMMANDS: Readonly<Record<PostgresqlRequestKind, string>> = {
  'startup': 'Startup',
  'ssl-request': 'SSLRequest',
  'gssenc-request': 'GSSENCRequest',
  'cancel': 'CancelRequest',
  'simple-query': 'Query',
  'extended-query': 'Execute',
  'function-call': 'FunctionCall',
  'terminate': 'Terminate',
};

/** The SQL command word of the first statement (`SELECT`, `INSERT`), past spaces and comments; else the message's name. */
export function commandOf(kind: PostgresqlRequestKind, query: string): string {
  if (kind === 'simple-query' || kind === 'extended-query') {
    const word = firstWord(query);
    if (word !== '') return word.toUpperCase();
  }
  return OTHER_COMMANDS[kind];
}

/** The first word of SQL text after spaces, line and block comments (a linear scan: the text is hostile). */
function firstWord(sql: string): string {
  let i = 0;
  const n = Math.min(sql.length, 4096);
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(') i++;
    else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else break;
  }
  const m = /^[A-Za-z]+/.exec(sql.slice(i, i + 64));
  return m === null ? '' : m[0];
}
