import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryRedactor, REDACTED } from '../../redact/index.ts';
import { mysqlDescriptor, maskSqlPasswords } from './descriptor.ts';
import type { MysqlEntry, MysqlRequest, MysqlResponse } from './entry.ts';

function entry(request: Partial<MysqlRequest>, response: MysqlResponse | null, error: MysqlEntry['error'] = null): MysqlEntry {
  return {
    id: '3-1',
    protocol: { name: 'mysql', version: '10.11.6-MariaDB', abbr: 'MYSQL' },
    src: { ip: '10.0.0.1', port: 40000, name: '', namespace: '' },
    dst: { ip: '10.0.0.2', port: 3306, name: '', namespace: '' },
    timestamp: 1_704_067_200_000,
    startTime: '2024-01-01T00:00:00.000000Z',
    elapsedTime: 0.5,
    requestSize: 30,
    responseSize: 70,
    tls: false,
    request: { command: 'COM_QUERY', commandCode: 3, ...request },
    response,
    error,
  };
}

const okResponse = (over: Partial<MysqlResponse> = {}): MysqlResponse => ({ success: true, results: [{ kind: 'ok', affectedRows: 2, lastInsertId: 9, warnings: 0, status: 2 }], affectedRows: 2, rowCount: 0, warnings: 0, lastInsertId: 9, ...over });
const rowsResponse: MysqlResponse = {
  success: true,
  results: [{ kind: 'resultset', columns: [{ name: 'id', table: 't', type: 'LONG' }], rows: [['1'], [null]], rowCount: 2, rowsTruncated: false, warnings: 0, status: 2 }],
  affectedRows: 0,
  rowCount: 2,
  warnings: 0,
};
const errResponse: MysqlResponse = {
  success: false,
  results: [{ kind: 'error', errorCode: 1146, sqlState: '42S02', errorMessage: "Table 'shop.nope' doesn't exist" }],
  affectedRows: 0,
  rowCount: 0,
  warnings: 0,
  errorCode: 1146,
  sqlState: '42S02',
  errorMessage: "Table 'shop.nope' doesn't exist",
};

test('list rows: command, one-line query, outcome; errors are errors', () => {
  const q = entry({ query: 'SELECT id\n  FROM t' }, rowsResponse);
  assert.deepEqual(
    { ...mysqlDescriptor.summarize(q) },
    {
      verb: 'COM_QUERY',
      target: 'SELECT id FROM t',
      outcome: '2 rows',
      outcomeClass: 'success',
      isError: false,
      verbQuery: 'mysql and request.command == "COM_QUERY"',
      targetQuery: 'mysql and request.query == "SELECT id\\u000a  FROM t"',
      outcomeQuery: 'mysql and response.success == true',
    },
  );
  const bad = mysqlDescriptor.summarize(entry({ query: 'SELECT * FROM nope' }, errResponse));
  assert.deepEqual([bad.outcome, bad.outcomeClass, bad.isError, bad.outcomeQuery], ['ERR 1146', 'client-error', true, 'mysql and response.errorCode == 1146']);
  assert.equal(mysqlDescriptor.summarize(entry({ query: "INSERT INTO t VALUES (1)" }, okResponse())).outcome, 'OK, 2 affected');
  const fields = mysqlDescriptor.summarize(entry({ command: 'COM_FIELD_LIST', commandCode: 4, table: 'agent' }, { ...rowsResponse, rowCount: 0, results: [{ ...rowsResponse.results[0]!, rows: [], rowCount: 0 } as MysqlResponse['results'][number]] }));
  assert.deepEqual([fields.target, fields.outcome], ['agent', '1 column']);
  const quit = mysqlDescriptor.summarize(entry({ command: 'COM_QUIT', commandCode: 1 }, null));
  assert.deepEqual([quit.outcome, quit.isError, quit.outcomeClass], ['', false, 'none']);
  const lost = mysqlDescriptor.summarize(entry({ command: 'COM_PING', commandCode: 14 }, null, { type: 'timeout', msg: 'no response within 120 s' }));
  assert.deepEqual([lost.isError, lost.outcomeClass], [true, 'server-error']);
  const hs = mysqlDescriptor.summarize(entry({ command: 'HANDSHAKE', commandCode: -1, user: 'app', database: 'shop', handshake: { protocolVersion: 10, serverVersion: '8.0.36', connectionId: 1, serverCapabilities: [], clientCapabilities: [], authPlugin: 'caching_sha2_password', ssl: true } }, okResponse({ results: [], tls: true })));
  assert.deepEqual([hs.verb, hs.target, hs.outcome], ['HANDSHAKE', 'app@shop (8.0.36)', 'TLS']);
});

test('control characters from the wire never reach the row or the detail tables', () => {
  const e = entry({ query: 'SELECT "\u001b[31mred"\u0007' }, { ...errResponse, results: [{ kind: 'error', errorCode: 1, sqlState: 'HY000', errorMessage: 'bad\u001b[2J' }], errorMessage: 'bad\u001b[2J' });
  const row = mysqlDescriptor.summarize(e);
  assert.equal(row.target, 'SELECT "\\x1b[31mred"\\x07');
  for (const section of mysqlDescriptor.represent(e)) {
    if (section.kind !== 'table') continue;
    for (const r of section.rows) assert.doesNotMatch(r.value, /[\u0000-\u001f]/, r.label);
  }
});

test('detail: the query as a body, parameters, each result of a multi-result, rows as text', () => {
  const e = entry(
    { command: 'COM_STMT_EXECUTE', commandCode: 0x17, statementId: 4, query: 'SELECT ? + 1', params: [{ type: 'LONG', value: '41' }, { type: 'NULL', value: null }] },
    { ...rowsResponse, results: [rowsResponse.results[0]!, okResponse().results[0]!], affectedRows: 2 },
  );
  const sections = mysqlDescriptor.represent(e);
  const titles = sections.map((s) => s.title);
  assert.deepEqual(titles, ['Request', 'Command', 'Query', 'Parameters', 'Response', 'Result 1', 'Result 1 rows', 'Result 2']);
  const params = sections.find((s) => s.title === 'Parameters');
  assert.ok(params?.kind === 'table');
  assert.deepEqual(params.rows.map((r) => r.value), ['41 (LONG)', 'NULL (NULL)']);
  const rows = sections.find((s) => s.title === 'Result 1 rows');
  assert.ok(rows?.kind === 'body');
  assert.equal(rows.text, 'id\n1\nNULL');
  assert.equal(mysqlDescriptor.dedupKey(e), 'COM_STMT_EXECUTE|4|SELECT ? + 1');
  assert.equal(mysqlDescriptor.edgeLabel(e), 'MYSQL');
  assert.equal(mysqlDescriptor.heldChars!(e), 'SELECT ? + 1'.length + 1);
});

test("KFL: the word mysql and Kubeshark's mysql_* variables, typed as its docs say; null on other entries", () => {
  const variables = new Map(mysqlDescriptor.kfl.variables.map((v) => [v.name, v]));
  assert.deepEqual([...variables.keys()].sort(), [
    'mysql_command', 'mysql_database', 'mysql_error_code', 'mysql_error_message', 'mysql_query', 'mysql_request_size',
    'mysql_response_size', 'mysql_statement_id', 'mysql_success', 'mysql_total_size',
  ]);
  const get = (name: string, e: unknown): unknown => {
    const v = variables.get(name)!;
    return v.kind === 'computed' ? v.get(e) : null;
  };
  const bad = entry({ query: 'SELECT * FROM nope', database: 'shop' }, errResponse);
  assert.deepEqual(
    ['mysql_command', 'mysql_query', 'mysql_database', 'mysql_statement_id', 'mysql_request_size', 'mysql_response_size', 'mysql_total_size', 'mysql_success', 'mysql_error_code', 'mysql_error_message'].map((n) => get(n, bad)),
    ['COM_QUERY', 'SELECT * FROM nope', 'shop', 0, 30, 70, 100, false, 1146, "Table 'shop.nope' doesn't exist"],
  );
  const prep = entry({ command: 'COM_STMT_PREPARE', commandCode: 0x16, query: 'SELECT ?' }, okResponse({ results: [], prepared: { statementId: 12, paramCount: 1, columnCount: 1, params: [], columns: [] } }));
  assert.deepEqual([get('mysql_statement_id', prep), get('mysql_success', prep), get('mysql_error_code', prep), get('mysql_error_message', prep)], [12, true, 0, '']);
  assert.equal(get('mysql_command', { protocol: { name: 'http' } }), null);
});

test('redaction: passwords written in SQL are masked; auth data is never in an entry to begin with', () => {
  assert.equal(maskSqlPasswords("CREATE USER 'a'@'%' IDENTIFIED BY 'hunter2'", '[REDACTED]'), "CREATE USER 'a'@'%' IDENTIFIED BY '[REDACTED]'");
  assert.equal(maskSqlPasswords("ALTER USER a IDENTIFIED WITH mysql_native_password BY \"p'w\"", 'X'), "ALTER USER a IDENTIFIED WITH mysql_native_password BY 'X'");
  assert.equal(maskSqlPasswords("SET PASSWORD FOR 'a'@'%' = PASSWORD('s3cret')", 'X'), "SET PASSWORD FOR 'a'@'%' = PASSWORD('X')");
  assert.equal(maskSqlPasswords("SET PASSWORD = 'it''s'", 'X'), "SET PASSWORD = 'X'");
  assert.equal(maskSqlPasswords("SELECT 'IDENTIFIED' FROM t", 'X'), "SELECT 'IDENTIFIED' FROM t");
  const e = entry({ query: "CREATE USER 'a'@'%' IDENTIFIED BY 'hunter2'" }, okResponse());
  // Through the agent's redactor, as before anything leaves the pod.
  const out = new EntryRedactor().redact(e) as MysqlEntry;
  assert.ok(!JSON.stringify(out).includes('hunter2'));
  assert.equal(out.request.query, `CREATE USER 'a'@'%' IDENTIFIED BY '${REDACTED}'`);
  // Never throws, whatever the entry holds (a frozen one is left as it is).
  const frozen = Object.freeze({ ...e, request: Object.freeze({ ...e.request }) }) as MysqlEntry;
  assert.doesNotThrow(() => new EntryRedactor().redact(frozen));
});
