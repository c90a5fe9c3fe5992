/**
 * Present stage: what PostgreSQL tells everyone outside its folder (src/model/protocol-descriptor.ts):
 * the list row (`SELECT  SELECT * FROM t  SELECT 2`), the detail tables, the dedup key, the
 * service-map label, the KFL words `postgresql`/`postgres` and Kubeshark's KFL2 `postgresql_*`
 * variables, and its redaction. Imports only src/model and its own entry.ts.
 */
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import type { PostgresqlEntry, PostgresqlNotice, PostgresqlResult } from './entry.ts';

/** Characters of a query shown in a list row and kept in a dedup key. */
const ROW_QUERY_CHARS = 200;
const DEDUP_QUERY_CHARS = 255;
/** Rows of a result set drawn in the detail pane. */
const DETAIL_ROWS = 200;

function isPostgresql(entry: unknown): entry is PostgresqlEntry {
  const protocol = (entry as { protocol?: { name?: unknown } } | null)?.protocol;
  return protocol?.name === 'postgresql';
}

/** SQLSTATE classes that are the server's trouble rather than the query's (connection, resources, operator, system, internal). */
const SERVER_CLASSES = new Set(['08', '53', '54', '55', '57', '58', 'XX']);

function outcomeClassOf(entry: PostgresqlEntry): OutcomeClass {
  const res = entry.response;
  if (res === null) return 'none';
  if (res.error !== null) return SERVER_CLASSES.has(res.error.code.slice(0, 2)) || res.error.severity === 'PANIC' ? 'server-error' : 'client-error';
  return 'success';
}

/** `ERROR 42P01`, else the command tags (`INSERT 0 1, SELECT 2`), the encryption answer or the authentication. */
function outcomeText(entry: PostgresqlEntry): string {
  const res = entry.response;
  if (res === null) return '';
  if (res.error !== null) return `${res.error.severity} ${res.error.code}`.trim();
  if (res.encryptionAnswer !== undefined) return res.encryptionAnswer === 'N' ? 'N (refused)' : `${res.encryptionAnswer} (accepted)`;
  if (entry.request.kind === 'startup') return res.transactionStatus !== '' ? `ready${res.authentication ? ` (${res.authentication})` : ''}` : (res.authentication ?? '');
  const tags = res.commandTags;
  if (tags.length === 0) return res.messages.includes('EmptyQueryResponse') ? 'empty query' : '';
  return tags.length > 3 ? `${tags.slice(0, 2).join(', ')} +${tags.length - 2}` : tags.join(', ');
}

/** The list row's target: the query on one line, or who connects. */
function targetText(entry: PostgresqlEntry): string {
  const req = entry.request;
  if (req.kind === 'startup') return `${req.user}@${req.database}`;
  if (req.kind === 'cancel') return req.cancelProcessId === undefined ? '' : `pid ${req.cancelProcessId}`;
  const oneLine = req.query.replace(/\s+/g, ' ').trim();
  return oneLine.length > ROW_QUERY_CHARS ? `${oneLine.slice(0, ROW_QUERY_CHARS)}…` : oneLine;
}

function isErrorEntry(entry: PostgresqlEntry): boolean {
  if (entry.error !== null) return true;
  const kind = entry.request.kind;
  if (entry.response === null) return kind !== 'terminate' && kind !== 'cancel';
  return entry.response.error !== null;
}

function summarize(entry: PostgresqlEntry): RowSummary {
  const req = entry.request;
  const res = entry.response;
  const target = targetText(entry);
  return {
    verb: req.command,
    target,
    outcome: outcomeText(entry),
    outcomeClass: outcomeClassOf(entry),
    isError: isErrorEntry(entry),
    verbQuery: `postgresql and request.command == ${kflString(req.command)}`,
    ...(req.query === '' ? {} : { targetQuery: `postgresql and request.query == ${kflString(req.query)}` }),
    ...(res === null
      ? {}
      : res.error !== null
        ? { outcomeQuery: `postgresql_error_code == ${kflString(res.error.code)}` }
        : res.commandTags.length > 0
          ? { outcomeQuery: `postgresql and response.commandTags[0] == ${kflString(res.commandTags[0]!)}` }
          : {}),
    ...(res === null ? {} : { payloadBytes: res.results.reduce((n, r) => n + r.rows.reduce((m, row) => m + row.reduce((k, v) => k + (v?.length ?? 0), 0), 0), 0) }),
  };
}

function noticeRows(n: PostgresqlNotice, path: string): DetailRow[] {
  return [
    { label: 'Severity', value: n.severity, selector: `${path}.severity` },
    { label: 'SQLSTATE', value: n.code, selector: `${path}.code` },
    { label: 'Message', value: n.message, selector: `${path}.message` },
    ...(n.detail === undefined ? [] : [{ label: 'Detail', value: n.detail, selector: `${path}.detail` }]),
    ...(n.hint === undefined ? [] : [{ label: 'Hint', value: n.hint, selector: `${path}.hint` }]),
    ...(n.position === undefined ? [] : [{ label: 'Position', value: n.position, selector: `${path}.position` }]),
  ];
}

/** A result set as text: a header line of column names, then one line per row (`|` between values). */
function resultText(r: PostgresqlResult): string {
  const lines = [r.columns.map((c) => c.name).join(' | ')];
  for (const row of r.rows.slice(0, DETAIL_ROWS)) lines.push(row.map((v) => (v === null ? 'NULL' : v)).join(' | '));
  if (r.rows.length > DETAIL_ROWS) lines.push(`… ${r.rows.length - DETAIL_ROWS} more rows kept`);
  return lines.join('\n');
}

function represent(entry: PostgresqlEntry): readonly DetailSection[] {
  const req = entry.request;
  const res = entry.response;
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Request', text: `${req.command} ${targetText(entry)}`.trimEnd() },
    {
      kind: 'table',
      title: 'Request',
      rows: [
        { label: 'Kind', value: req.kind, selector: 'request.kind' },
        { label: 'User', value: req.user, selector: 'request.user' },
        { label: 'Database', value: req.database, selector: 'request.database' },
        { label: 'Messages', value: req.messages.join(', '), selector: 'request.messages' },
        ...(req.cancelProcessId === undefined ? [] : [{ label: 'Cancels pid', value: String(req.cancelProcessId), selector: 'request.cancelProcessId' }]),
      ],
    },
    { kind: 'table', title: 'Startup parameters', rows: Object.entries(req.parameters ?? {}).map(([k, v]) => ({ label: k, value: v, selector: `request.parameters.${k}` })) },
  ];
  if (req.query !== '') sections.push({ kind: 'body', title: 'Query', mimeType: 'text/x-sql', text: req.query, sizeBytes: Buffer.byteLength(req.query) });
  const execs = req.executions ?? [];
  sections.push({
    kind: 'table',
    title: 'Executions',
    rows: execs.map((e, i) => ({
      label: `${e.statement === '' ? '(unnamed)' : e.statement}${e.portal === '' ? '' : ` portal ${e.portal}`}`,
      value: e.parameters.map((p, j) => `$${j + 1}${p.type === '' ? '' : `::${p.type}`}=${p.value === null ? 'NULL' : p.value}`).join(', ') || '(no parameters)',
      selector: `request.executions[${i}].parameters`,
    })),
  });
  sections.push({
    kind: 'table',
    title: 'Prepared',
    rows: (req.prepares ?? []).map((p, i) => ({ label: p.statement === '' ? '(unnamed)' : p.statement, value: p.query, selector: `request.prepares[${i}].query` })),
  });
  if (req.copy !== undefined) {
    sections.push({ kind: 'body', title: `COPY data sent (${req.copy.rows} lines)`, mimeType: 'text/plain', text: req.copy.data, truncated: req.copy.truncated, sizeBytes: req.copy.bytes });
  }
  if (res === null) {
    const text = req.kind === 'terminate' || req.kind === 'cancel' ? 'no response (none expected)' : (entry.error?.msg ?? 'no response');
    sections.push({ kind: 'heading', title: 'Response', text, outcomeClass: req.kind === 'terminate' || req.kind === 'cancel' ? 'none' : 'server-error', absent: true });
    return sections;
  }
  sections.push(
    { kind: 'heading', title: 'Response', text: outcomeText(entry) || res.messages.slice(0, 4).join(', '), outcomeClass: outcomeClassOf(entry) },
    {
      kind: 'table',
      title: 'Response',
      rows: [
        { label: 'Command tags', value: res.commandTags.join(', '), selector: 'response.commandTags' },
        { label: 'Rows', value: String(res.rows), selector: 'response.rows' },
        { label: 'Transaction', value: res.transactionStatus, selector: 'response.transactionStatus' },
        { label: 'Messages', value: `${res.messages.join(', ')}${res.messageCount > res.messages.length ? ` (+${res.messageCount - res.messages.length})` : ''}`, selector: 'response.messages' },
        ...(res.authentication === undefined ? [] : [{ label: 'Authentication', value: res.authentication, selector: 'response.authentication' }]),
        ...(res.encryptionAnswer === undefined ? [] : [{ label: 'Encryption answer', value: res.encryptionAnswer, selector: 'response.encryptionAnswer' }]),
      ],
    },
  );
  if (res.error !== null) sections.push({ kind: 'table', title: 'Error', rows: noticeRows(res.error, 'response.error') });
  res.notices.forEach((n, i) => sections.push({ kind: 'table', title: 'Notice', rows: noticeRows(n, `response.notices[${i}]`) }));
  res.results.forEach((r, i) => {
    const text = resultText(r);
    sections.push({ kind: 'body', title: `Result ${i + 1} (${r.rowCount} rows)`, mimeType: 'text/plain', text, truncated: res.rowsTruncated || r.rows.length < r.rowCount, sizeBytes: Buffer.byteLength(text) });
  });
  if (res.copy !== undefined) {
    sections.push({ kind: 'body', title: `COPY data received (${res.copy.rows} lines)`, mimeType: 'text/plain', text: res.copy.data, truncated: res.copy.truncated, sizeBytes: res.copy.bytes });
  }
  sections.push({ kind: 'table', title: 'Server parameters', rows: Object.entries(res.serverParameters ?? {}).map(([k, v]) => ({ label: k, value: v })) });
  return sections;
}

function dedupKey(entry: PostgresqlEntry): string {
  return `${entry.request.kind}|${entry.request.query.slice(0, DEDUP_QUERY_CHARS)}`;
}

const NOTICE_FIELDS = ['severity', 'code', 'message', 'detail', 'hint', 'position'];
const PATHS: readonly string[] = [
  'request.kind', 'request.command', 'request.query', 'request.database', 'request.user', 'request.messages',
  'request.parameters', 'request.prepares', 'request.prepares.statement', 'request.prepares.query', 'request.prepares.parameterTypes',
  'request.executions', 'request.executions.statement', 'request.executions.portal', 'request.executions.query',
  'request.executions.parameters', 'request.executions.parameters.type', 'request.executions.parameters.value',
  'request.executions.parameters.format', 'request.executions.maxRows', 'request.copy', 'request.cancelProcessId',
  'response.messages', 'response.messageCount', 'response.commandTags', 'response.rows', 'response.results',
  'response.results.columns', 'response.results.columns.name', 'response.results.columns.type', 'response.results.rowCount',
  'response.results.rows', 'response.rowsTruncated', 'response.error', 'response.notices', 'response.copy',
  'response.encryptionAnswer', 'response.authentication', 'response.serverParameters', 'response.transactionStatus',
  ...['rows', 'bytes', 'data', 'truncated', 'failure'].flatMap((f) => [`request.copy.${f}`, `response.copy.${f}`]),
  ...NOTICE_FIELDS.flatMap((f) => [`response.error.${f}`, `response.notices.${f}`]),
];

/**
 * Kubeshark's KFL2 variables for PostgreSQL (kubeshark.md §1.4). On other entries they are null.
 * `postgresql_error_code` is the SQLSTATE as a string ("" when the unit succeeded).
 */
const pgOnly = (read: (e: PostgresqlEntry) => unknown) => (e: unknown): unknown => (isPostgresql(e) ? read(e) : null);
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'postgresql_command', kind: 'computed', get: pgOnly((e) => e.request.command) },
  { name: 'postgresql_query', kind: 'computed', get: pgOnly((e) => e.request.query) },
  { name: 'postgresql_database', kind: 'computed', get: pgOnly((e) => e.request.database) },
  { name: 'postgresql_user', kind: 'computed', get: pgOnly((e) => e.request.user) },
  { name: 'postgresql_request_size', kind: 'computed', get: pgOnly((e) => e.requestSize) },
  { name: 'postgresql_response_size', kind: 'computed', get: pgOnly((e) => e.responseSize) },
  { name: 'postgresql_total_size', kind: 'computed', get: pgOnly((e) => e.requestSize + e.responseSize) },
  { name: 'postgresql_success', kind: 'computed', get: pgOnly((e) => !isErrorEntry(e)) },
  { name: 'postgresql_error_code', kind: 'computed', get: pgOnly((e) => e.response?.error?.code ?? '') },
  { name: 'postgresql_error_message', kind: 'computed', get: pgOnly((e) => e.response?.error?.message ?? e.error?.msg ?? '') },
] satisfies KflVariable[]);

export const postgresqlDescriptor: ProtocolDescriptor<PostgresqlEntry> = Object.freeze({
  name: 'postgresql',
  abbr: 'PGSQL',
  longName: 'PostgreSQL frontend/backend protocol',
  defaultPorts: Object.freeze([5432]),
  referenceUrl: 'https://www.postgresql.org/docs/current/protocol.html',
  summarize,
  represent,
  dedupKey,
  edgeLabel: () => 'PGSQL',
  kfl: Object.freeze({
    words: Object.freeze([
      { word: 'postgresql', matches: (p: { readonly name: unknown }) => p.name === 'postgresql' },
      { word: 'postgres', matches: (p: { readonly name: unknown }) => p.name === 'postgresql' },
    ]),
    variables: VARIABLES,
    paths: Object.freeze(PATHS),
    openMaps: Object.freeze(['request.parameters', 'response.serverParameters']),
  }),
  /**
   * Passwords and SASL exchanges are never kept by the parser (their messages are only named), and
   * a `password` startup parameter is masked when parsed; masked again here so an entry from
   * elsewhere (an NDJSON file) is held to the same rule. Query text and rows are what the user taps
   * for and are kept (a literal in `ALTER ROLE ... PASSWORD '...'` included: docs/postgresql.md).
   */
  redact: (entry: PostgresqlEntry, redactor: PayloadRedactor): PostgresqlEntry => {
    const params = entry.request?.parameters;
    if (params === null || typeof params !== 'object') return entry;
    try {
      const secret = Object.keys(params).filter((k) => /password/i.test(k) && params[k] !== redactor.redacted);
      if (secret.length === 0) return entry;
      const masked: Record<string, string> = { ...params };
      for (const k of secret) masked[k] = redactor.redacted;
      return { ...entry, request: { ...entry.request, parameters: masked } };
    } catch {
      return { ...entry, request: { ...entry.request, parameters: {} } };
    }
  },
  heldChars: (entry: PostgresqlEntry): number => {
    const res = entry.response;
    let n = entry.request.query.length + (entry.request.copy?.data.length ?? 0);
    if (res !== null) {
      n += res.copy?.data.length ?? 0;
      for (const r of res.results) for (const row of r.rows) for (const v of row) n += v?.length ?? 0;
    }
    return n;
  },
});
