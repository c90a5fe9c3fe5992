import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as pg from '../../../../test/helpers/pg-wire.ts';
import { c, fakeConn, play, recorder, s, type Step } from '../../../../test/helpers/http1-connection.ts';
import type { PayloadRedactor } from '../../../model/protocol-descriptor.ts';
import { postgresqlDescriptor as d } from './descriptor.ts';
import type { PostgresqlEntry } from './entry.ts';
import { postgresqlDissector } from './index.ts';
import { confirmServer, sniffClient } from './sniff.ts';

const { concat } = pg;

function entries(steps: readonly Step[]): PostgresqlEntry[] {
  const r = recorder();
  const stream = postgresqlDissector.open(fakeConn({ b: { ip: '10.0.0.5', port: 5432 } }), r.ctx);
  play(stream, steps);
  stream.close('fin', 1e9);
  return r.all as unknown as PostgresqlEntry[];
}

const [start, select, failed, term] = entries([
  c(pg.startup({ user: 'alice', database: 'shop' }), 0), s(concat(pg.authOk(), pg.ready()), 10),
  c(pg.query('SELECT *\n  FROM t'), 20), s(concat(pg.rowDescription([['i', 23]]), pg.dataRow(['1']), pg.dataRow(['2']), pg.commandComplete('SELECT 2'), pg.ready()), 30),
  c(pg.query('DROP TABLE nope'), 40), s(concat(pg.errorResponse({ S: 'ERROR', C: '42P01', M: 'table "nope" does not exist' }), pg.ready()), 50),
  c(pg.terminate(), 60),
]);

const row = (e: PostgresqlEntry | undefined) => {
  const { verb, target, outcome, outcomeClass, isError } = d.summarize(e!);
  return { verb, target, outcome, outcomeClass, isError };
};

test('rows: the SQL command, the query on one line, the command tags or the SQLSTATE', () => {
  assert.deepEqual(row(start), { verb: 'Startup', target: 'alice@shop', outcome: 'ready (ok)', outcomeClass: 'success', isError: false });
  assert.deepEqual(row(select), { verb: 'SELECT', target: 'SELECT * FROM t', outcome: 'SELECT 2', outcomeClass: 'success', isError: false });
  assert.deepEqual(row(failed), { verb: 'DROP', target: 'DROP TABLE nope', outcome: 'ERROR 42P01', outcomeClass: 'client-error', isError: true });
  assert.deepEqual(row(term), { verb: 'Terminate', target: '', outcome: '', outcomeClass: 'none', isError: false });
  assert.equal(d.summarize(failed!).outcomeQuery, 'postgresql_error_code == "42P01"');
  assert.equal(d.summarize(select!).verbQuery, 'postgresql and request.command == "SELECT"');
});

test('KFL2 variables: postgresql_* on PostgreSQL entries (error code a string SQLSTATE), null on others', () => {
  const v = (name: string, e: unknown): unknown => {
    const variable = d.kfl.variables.find((x) => x.name === name)!;
    return variable.kind === 'computed' ? variable.get(e) : null;
  };
  assert.deepEqual(d.kfl.variables.map((x) => x.name).sort(), [
    'postgresql_command', 'postgresql_database', 'postgresql_error_code', 'postgresql_error_message', 'postgresql_query',
    'postgresql_request_size', 'postgresql_response_size', 'postgresql_success', 'postgresql_total_size', 'postgresql_user',
  ]);
  assert.equal(v('postgresql_error_code', failed), '42P01');
  assert.equal(v('postgresql_error_message', failed), 'table "nope" does not exist');
  assert.equal(v('postgresql_success', failed), false);
  assert.equal(v('postgresql_success', select), true);
  assert.equal(v('postgresql_command', select), 'SELECT');
  assert.equal(v('postgresql_user', select), 'alice');
  assert.equal(v('postgresql_database', select), 'shop');
  assert.equal(v('postgresql_total_size', select), select!.requestSize + select!.responseSize);
  assert.equal(v('postgresql_query', { protocol: { name: 'http' } }), null);
  assert.deepEqual(d.kfl.words.map((w) => w.word), ['postgresql', 'postgres']);
});

test('detail: query body, result rows as text, error fields; a startup password parameter masked by redact', () => {
  const sections = d.represent(select!);
  const result = sections.find((x) => x.kind === 'body' && x.title.startsWith('Result'));
  assert.deepEqual(result && result.kind === 'body' ? result.text : '', 'i\n1\n2');
  const err = d.represent(failed!).find((x) => x.kind === 'table' && x.title === 'Error');
  assert.ok(err !== undefined && err.kind === 'table' && err.rows.some((r) => r.value === '42P01'));
  const redactor = { redacted: '[REDACTED]' } as PayloadRedactor;
  const withPassword = { ...start!, request: { ...start!.request, parameters: { user: 'alice', password: 'hunter2' } } };
  assert.equal(d.redact(withPassword, redactor).request.parameters!['password'], '[REDACTED]');
  assert.equal(d.redact(select!, redactor), select);
  assert.equal(d.edgeLabel(select!), 'PGSQL');
  assert.ok(d.heldChars!(select!) >= 'SELECT *\n  FROM t'.length + 2);
});

test('sniff: a startup packet or a plausible Query from the client; confirmed by a backend reply', () => {
  assert.equal(sniffClient(pg.startup({ user: 'a' }), 'to-server'), 'match');
  assert.equal(sniffClient(pg.sslRequest(), 'to-server'), 'match');
  assert.equal(sniffClient(pg.query('SELECT 1'), 'to-server'), 'match');
  assert.equal(sniffClient(pg.query('SELECT 1').subarray(0, 7), 'to-server'), 'more');
  assert.equal(sniffClient(Buffer.from('GET / HTTP/1.1\r\n'), 'to-server'), 'no');
  assert.equal(sniffClient(Buffer.from('Q\0\0\0\x09\x01\x02\x03\0'), 'to-server'), 'no');
  assert.equal(sniffClient(pg.startup({ user: 'a' }), 'to-client'), 'no');
  assert.equal(confirmServer(Buffer.from('N'), 'to-client'), 'match');
  assert.equal(confirmServer(pg.authSasl('SCRAM-SHA-256'), 'to-client'), 'match');
  assert.equal(confirmServer(pg.ready().subarray(0, 3), 'to-client'), 'more');
  assert.equal(confirmServer(Buffer.from('+OK\r\n'), 'to-client'), 'no');
  assert.equal(confirmServer(Buffer.from('HTTP/1.1 200 OK\r\n'), 'to-client'), 'no');
});
