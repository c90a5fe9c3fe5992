/**
 * Present stage of MySQL/MariaDB: the list row (`COM_QUERY  select * from t  3 rows`), the detail
 * sections, the dedup key, the map's edge label, the KFL word `mysql` and Kubeshark's KFL2
 * `mysql_*` variables, and redaction of passwords written in SQL (the parser never keeps auth data).
 * Imports only src/model and its own entry.ts.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import { HANDSHAKE_COMMAND, type MysqlEntry, type MysqlResponse, type MysqlResult } from './entry.ts';

/** Characters of a query shown in a list row. */
const ROW_QUERY_CHARS = 200;
/** Characters of a query kept in a dedup key. */
const DEDUP_QUERY_CHARS = 255;
/** Rows written in the detail pane's result text. */
const DETAIL_ROWS = 200;

function isMysql(entry: unknown): entry is MysqlEntry {
  const protocol = (entry as { protocol?: { name?: unknown } } | null)?.protocol;
  return protocol?.name === 'mysql';
}

/** Control characters (C0, DEL, C1, line separators): never in a row or a detail value. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text from the wire made printable: control characters as `\xNN` (`\uNNNN` past 0xff). */
function printable(s: string): string {
  return s.replace(CONTROL, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One printable line: runs of white space (line breaks of a query) as one space. */
function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return printable(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

function target(entry: MysqlEntry): string {
  const req = entry.request;
  if (req.command === HANDSHAKE_COMMAND) {
    const hs = req.handshake;
    const who = req.user !== undefined ? `${req.user}${req.database !== undefined ? `@${req.database}` : ''}` : '';
    return printable([who, hs ? `(${hs.serverVersion})` : ''].filter((s) => s !== '').join(' '));
  }
  if (req.query !== undefined) return oneLine(req.query, ROW_QUERY_CHARS);
  if (req.database !== undefined) return printable(req.database);
  if (req.table !== undefined) return printable(req.table);
  if (req.statementId !== undefined) return `statement ${req.statementId}`;
  if (req.processId !== undefined) return `connection ${req.processId}`;
  return '';
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

function outcome(res: MysqlResponse | null, command: string): string {
  if (res === null) return '';
  if (res.tls) return 'TLS';
  if (!res.success) return `ERR ${res.errorCode ?? ''}`.trimEnd();
  if (res.prepared) return `statement ${res.prepared.statementId}`;
  const sets = res.results.filter((r) => r.kind === 'resultset').length;
  const more = res.results.length > 1 ? ` (${plural(res.results.length, 'result')})` : '';
  const first = res.results[0];
  // COM_FIELD_LIST answers with column definitions only.
  if (command === 'COM_FIELD_LIST' && first?.kind === 'resultset') return plural(first.columns.length, 'column');
  if (sets > 0) return `${plural(res.rowCount, 'row')}${more}`;
  if (res.affectedRows > 0) return `OK, ${res.affectedRows} affected${more}`;
  return `OK${more}`;
}

/** SQLSTATE classes of the client's making (syntax, access, data, constraints); others are the server's. */
const CLIENT_SQLSTATE = /^(42|28|22|23|3D|21|0A|44|HY)/;

function outcomeClassOf(entry: MysqlEntry): OutcomeClass {
  const res = entry.response;
  if (res === null) return entry.error === null ? 'none' : 'server-error';
  if (res.success) return 'success';
  return CLIENT_SQLSTATE.test(res.sqlState ?? '') ? 'client-error' : 'server-error';
}

function isError(entry: MysqlEntry): boolean {
  return entry.error !== null || (entry.response !== null && !entry.response.success);
}

function summarize(entry: MysqlEntry): RowSummary {
  const req = entry.request;
  const res = entry.response;
  return {
    verb: req.command,
    target: target(entry),
    outcome: outcome(res, req.command),
    outcomeClass: outcomeClassOf(entry),
    isError: isError(entry),
    verbQuery: `mysql and request.command == ${kflString(req.command)}`,
    ...(req.query !== undefined && !req.queryTruncated ? { targetQuery: `mysql and request.query == ${kflString(req.query)}` } : {}),
    ...(res === null
      ? {}
      : { outcomeQuery: res.success ? 'mysql and response.success == true' : `mysql and response.errorCode == ${res.errorCode ?? 0}` }),
  };
}

function resultRows(r: MysqlResult): DetailRow[] {
  if (r.kind === 'ok') {
    return [
      { label: 'Result', value: 'OK' },
      { label: 'Affected rows', value: String(r.affectedRows) },
      ...(r.lastInsertId !== 0 ? [{ label: 'Last insert id', value: String(r.lastInsertId) }] : []),
      { label: 'Warnings', value: String(r.warnings) },
      ...(r.info ? [{ label: 'Info', value: printable(r.info) }] : []),
    ];
  }
  if (r.kind === 'error') {
    return [
      { label: 'Result', value: 'ERR' },
      { label: 'Error code', value: String(r.errorCode), selector: 'response.errorCode' },
      { label: 'SQLSTATE', value: printable(r.sqlState), selector: 'response.sqlState' },
      { label: 'Message', value: printable(r.errorMessage), selector: 'response.errorMessage' },
    ];
  }
  return [
    { label: 'Result', value: 'result set' },
    { label: 'Columns', value: printable(r.columns.map((c) => `${c.name} ${c.type}`).join(', ')) },
    { label: 'Rows', value: `${r.rowCount}${r.rowsTruncated ? ` (${r.rows.length} kept)` : ''}` },
    ...(r.warnings > 0 ? [{ label: 'Warnings', value: String(r.warnings) }] : []),
  ];
}

/** A result set as tab-separated text: the column names, then the rows kept (NULL as `NULL`). */
function rowsText(r: Extract<MysqlResult, { kind: 'resultset' }>): string {
  const lines = [r.columns.map((c) => c.name).join('\t')];
  for (const row of r.rows.slice(0, DETAIL_ROWS)) lines.push(row.map((v) => (v === null ? 'NULL' : v)).join('\t'));
  return lines.join('\n');
}

function represent(entry: MysqlEntry): readonly DetailSection[] {
  const req = entry.request;
  const res = entry.response;
  const rows: DetailRow[] = [{ label: 'Command', value: `${req.command}${req.commandCode >= 0 ? ` (0x${req.commandCode.toString(16).padStart(2, '0')})` : ''}`, selector: 'request.command' }];
  if (req.user !== undefined) rows.push({ label: 'User', value: printable(req.user), selector: 'request.user' });
  if (req.database !== undefined) rows.push({ label: 'Database', value: printable(req.database), selector: 'request.database' });
  if (req.table !== undefined) rows.push({ label: 'Table', value: printable(req.table), selector: 'request.table' });
  if (req.statementId !== undefined) rows.push({ label: 'Statement id', value: String(req.statementId), selector: 'request.statementId' });
  if (req.processId !== undefined) rows.push({ label: 'Connection id', value: String(req.processId), selector: 'request.processId' });
  rows.push({ label: 'Size', value: formatBytes(entry.requestSize) });
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Request', text: `${req.command} ${target(entry)}`.trimEnd() },
    { kind: 'table', title: 'Command', rows },
  ];
  if (req.query !== undefined) {
    sections.push({ kind: 'body', title: 'Query', mimeType: 'application/sql', text: req.query, sizeBytes: Buffer.byteLength(req.query), ...(req.queryTruncated ? { truncated: true } : {}) });
  }
  if (req.params !== undefined) {
    sections.push({ kind: 'table', title: 'Parameters', rows: req.params.map((p, i) => ({ label: `?${i + 1}`, value: printable(`${p.value === null ? 'NULL' : p.value} (${p.type})`), selector: `request.params[${i}].value` })) });
  }
  const hs = req.handshake;
  if (hs !== undefined) {
    sections.push({
      kind: 'table',
      title: 'Handshake',
      rows: [
        { label: 'Server version', value: printable(hs.serverVersion), selector: 'request.handshake.serverVersion' },
        { label: 'Connection id', value: String(hs.connectionId) },
        { label: 'Auth plugin', value: printable(hs.authPlugin) },
        { label: 'TLS requested', value: hs.ssl ? 'yes' : 'no', selector: 'request.handshake.ssl' },
        { label: 'Server capabilities', value: hs.serverCapabilities.join(' ') },
        { label: 'Client capabilities', value: hs.clientCapabilities.join(' ') },
      ],
    });
  }
  if (res === null) {
    const none = entry.error === null ? 'no response expected' : entry.error.msg;
    sections.push({ kind: 'heading', title: 'Response', text: none, ...(entry.error !== null ? { outcomeClass: 'server-error' as const } : {}), absent: true });
    return sections;
  }
  sections.push({ kind: 'heading', title: 'Response', text: outcome(res, req.command), outcomeClass: outcomeClassOf(entry) });
  if (res.prepared !== undefined) {
    const pr = res.prepared;
    sections.push({
      kind: 'table',
      title: 'Prepared statement',
      rows: [
        { label: 'Statement id', value: String(pr.statementId), selector: 'response.prepared.statementId' },
        { label: 'Parameters', value: `${pr.paramCount}` },
        { label: 'Columns', value: printable(`${pr.columnCount}${pr.columns.length > 0 ? `: ${pr.columns.map((c) => `${c.name} ${c.type}`).join(', ')}` : ''}`) },
      ],
    });
  }
  if (res.text !== undefined) sections.push({ kind: 'table', title: 'Statistics', rows: [{ label: 'Text', value: printable(res.text) }] });
  res.results.forEach((r, i) => {
    const title = res.results.length > 1 ? `Result ${i + 1}` : 'Result';
    sections.push({ kind: 'table', title, rows: resultRows(r) });
    if (r.kind === 'resultset' && r.columns.length > 0) {
      const body = rowsText(r);
      sections.push({ kind: 'body', title: `${title} rows`, mimeType: 'text/tab-separated-values', text: body, sizeBytes: Buffer.byteLength(body), ...(r.rowsTruncated || r.rows.length > DETAIL_ROWS ? { truncated: true } : {}) });
    }
  });
  return sections;
}

function dedupKey(entry: MysqlEntry): string {
  const req = entry.request;
  return `${req.command}|${req.statementId ?? ''}|${(req.query ?? req.database ?? '').slice(0, DEDUP_QUERY_CHARS)}`;
}

function heldChars(entry: MysqlEntry): number {
  let n = entry.request.query?.length ?? 0;
  for (const r of entry.response?.results ?? []) {
    if (r.kind !== 'resultset') continue;
    for (const row of r.rows) for (const v of row) n += v === null ? 0 : v.length;
  }
  return n;
}

const PATHS: readonly string[] = [
  'request.command', 'request.commandCode', 'request.query', 'request.queryTruncated', 'request.database', 'request.user',
  'request.table', 'request.statementId', 'request.params', 'request.params.type', 'request.params.value', 'request.processId',
  'request.handshake', 'request.handshake.protocolVersion', 'request.handshake.serverVersion', 'request.handshake.connectionId',
  'request.handshake.serverCapabilities', 'request.handshake.clientCapabilities', 'request.handshake.authPlugin', 'request.handshake.ssl',
  'response.success', 'response.results', 'response.errorCode', 'response.sqlState', 'response.errorMessage', 'response.affectedRows',
  'response.rowCount', 'response.warnings', 'response.lastInsertId', 'response.prepared', 'response.prepared.statementId',
  'response.prepared.paramCount', 'response.prepared.columnCount', 'response.prepared.params', 'response.prepared.columns',
  'response.text', 'response.tls',
  ...['kind', 'affectedRows', 'lastInsertId', 'warnings', 'status', 'info', 'errorCode', 'sqlState', 'errorMessage', 'columns', 'rows', 'rowCount', 'rowsTruncated'].map((f) => `response.results.${f}`),
  'response.results.columns.name', 'response.results.columns.table', 'response.results.columns.type',
];

/**
 * Kubeshark's KFL2 variables for MySQL. On other entries they are null, like any path that is not
 * there; on MySQL entries a missing value takes CEL's zero (`""`, `0`, false), as Kubeshark's docs say.
 */
const mysqlOnly = (read: (e: MysqlEntry) => unknown) => (e: unknown): unknown => (isMysql(e) ? read(e) : null);
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'mysql_command', kind: 'computed', get: mysqlOnly((e) => e.request.command) },
  { name: 'mysql_query', kind: 'computed', get: mysqlOnly((e) => e.request.query ?? '') },
  { name: 'mysql_database', kind: 'computed', get: mysqlOnly((e) => e.request.database ?? '') },
  { name: 'mysql_statement_id', kind: 'computed', get: mysqlOnly((e) => e.request.statementId ?? e.response?.prepared?.statementId ?? 0) },
  { name: 'mysql_request_size', kind: 'computed', get: mysqlOnly((e) => e.requestSize) },
  { name: 'mysql_response_size', kind: 'computed', get: mysqlOnly((e) => e.responseSize) },
  { name: 'mysql_total_size', kind: 'computed', get: mysqlOnly((e) => e.requestSize + e.responseSize) },
  { name: 'mysql_success', kind: 'computed', get: mysqlOnly((e) => e.error === null && (e.response?.success ?? true)) },
  { name: 'mysql_error_code', kind: 'computed', get: mysqlOnly((e) => e.response?.errorCode ?? 0) },
  { name: 'mysql_error_message', kind: 'computed', get: mysqlOnly((e) => e.response?.errorMessage ?? '') },
] satisfies KflVariable[]);

/** A quoted SQL string: '...' or "..." with doubled quotes or backslash escapes inside. */
const SQL_STRING = String.raw`'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"`;
/** Where SQL carries a password: IDENTIFIED BY / IDENTIFIED WITH plugin BY|AS, PASSWORD('...'), SET PASSWORD ... = '...'. */
const PASSWORD_IN_SQL = new RegExp(
  String.raw`(\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+(?:PASSWORD\s+)?|\bPASSWORD\s*\(\s*|\bSET\s+PASSWORD\b[^=;]{0,256}=\s*)(${SQL_STRING})`,
  'gi',
);

/** Passwords written in SQL text masked; other text as it is. */
export function maskSqlPasswords(sql: string, mask: string): string {
  return sql.replace(PASSWORD_IN_SQL, (_m, lead: string) => `${lead}'${mask}'`);
}

/**
 * Auth data is never kept by the parser, so nothing of the login needs masking here. What SQL may
 * carry in the clear is a password in account statements (CREATE USER ... IDENTIFIED BY '...',
 * SET PASSWORD, PASSWORD('...')): masked in the query, in place. Never throws.
 */
function redact(entry: MysqlEntry, redactor: PayloadRedactor): MysqlEntry {
  try {
    const q = entry.request.query;
    if (typeof q === 'string' && /IDENTIFIED|PASSWORD/i.test(q)) entry.request.query = maskSqlPasswords(q, redactor.redacted);
  } catch {
    // A frozen or odd entry: left as it is (redaction never throws).
  }
  return entry;
}

export const mysqlDescriptor: ProtocolDescriptor<MysqlEntry> = Object.freeze({
  name: 'mysql',
  abbr: 'MYSQL',
  longName: 'MySQL/MariaDB client/server protocol',
  defaultPorts: Object.freeze([3306]),
  referenceUrl: 'https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html',
  summarize,
  represent,
  dedupKey,
  edgeLabel: () => 'MYSQL',
  kfl: Object.freeze({
    words: Object.freeze([{ word: 'mysql', matches: (p: { readonly name: unknown }) => p.name === 'mysql' }]),
    variables: VARIABLES,
    paths: Object.freeze(PATHS),
  }),
  redact,
  heldChars,
});
