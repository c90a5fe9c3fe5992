import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as pg from '../../../../test/helpers/pg-wire.ts';
import { c, fakeConn, longestData, play, recorder, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import type { DissectOptions } from '../dissector.ts';
import type { PostgresqlEntry } from './entry.ts';
import { postgresqlDissector } from './index.ts';

const SERVER = { ip: '10.0.0.5', port: 5432 } as const;
const { concat } = pg;

function run(steps: readonly Step[], how: Chunking = { kind: 'whole' }, options: Partial<DissectOptions> = {}) {
  const r = recorder(options);
  const stream = postgresqlDissector.open(fakeConn({ b: SERVER }), r.ctx);
  play(stream, steps, how);
  stream.close('fin', 10_000_000);
  return { entries: r.all as unknown as PostgresqlEntry[], stats: r.stats, metas: r.metas };
}

/** One line per entry: what a psql user checks. */
function summary(e: PostgresqlEntry): string {
  const res = e.response;
  const outcome = res === null ? 'no response' : res.error !== null ? `${res.error.severity} ${res.error.code} ${res.error.message}` : res.commandTags.join(',');
  return [`${e.id} ${e.request.kind} ${e.request.command} [${e.request.query}] ->`, outcome, `rows=${res?.rows ?? '-'}`, e.error?.msg ?? ''].filter((x) => x !== '').join(' ');
}

function everyCut(steps: readonly Step[]): string[] {
  const whole = run(steps).entries.map(summary);
  const longest = longestData(steps);
  for (let at = 1; at < longest; at++) assert.deepEqual(run(steps, { kind: 'split', at }).entries.map(summary), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }).entries.map(summary), whole, 'byte by byte');
  return whole;
}

const opening = pg.scramOpening('alice', 'shop');
const openSteps: Step[] = [
  c(opening.client[0]!, 0), s(opening.server[0]!, 100), c(opening.client[1]!, 200), s(opening.server[1]!, 300), c(opening.client[2]!, 400), s(opening.server[2]!, 500),
];

test('startup with SCRAM: one entry, the SASL exchange named and never kept, user and database on every entry', () => {
  const steps = [...openSteps, c(pg.query('SELECT 1'), 1000), s(concat(pg.rowDescription([['?column?', 23]]), pg.dataRow(['1']), pg.commandComplete('SELECT 1'), pg.ready()), 1100)];
  assert.deepEqual(everyCut(steps), ['7-0 startup Startup [] -> rows=0', '7-1 simple-query SELECT [SELECT 1] -> SELECT 1 rows=1']);
  const { entries } = run(steps);
  const [start, sel] = entries;
  assert.deepEqual(start!.request.messages, ['StartupMessage', 'SASLInitialResponse', 'SASLResponse']);
  assert.equal(start!.response!.authentication, 'SCRAM-SHA-256');
  assert.equal(start!.response!.serverParameters!['server_version'], '15.10');
  assert.equal(start!.response!.transactionStatus, 'idle');
  const json = JSON.stringify(entries);
  for (const secret of ['SECRETPROOF', 'clientnonce', 'SALTSALT', 'SERVERSIGNATURE']) assert.ok(!json.includes(secret), `${secret} kept`);
  assert.equal(sel!.request.user, 'alice');
  assert.equal(sel!.request.database, 'shop');
  assert.deepEqual(sel!.response!.results, [{ columns: [{ name: '?column?', type: 'int4' }], rowCount: 1, rows: [['1']] }]);
  assert.equal(sel!.elapsedTime, 0.1);
});

test('a cleartext password message is named, not kept; a password startup parameter is masked', () => {
  const steps = [
    c(pg.startup({ user: 'bob', database: 'db', password: 'hunter2' }), 0), s(pg.authCleartext(), 10),
    c(pg.password('hunter2'), 20), s(concat(pg.authOk(), pg.ready()), 30),
  ];
  const { entries } = run(steps);
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0]!.request.messages, ['StartupMessage', 'PasswordMessage']);
  assert.equal(entries[0]!.request.parameters!['password'], '[REDACTED]');
  assert.equal(entries[0]!.response!.authentication, 'cleartext');
  assert.ok(!JSON.stringify(entries).includes('hunter2'));
});

test('several statements in one Query: one entry with every command tag; an error ends it with SQLSTATE', () => {
  const steps = [
    c(pg.query('INSERT INTO t VALUES (1); SELECT * FROM t; DROP TABLE nope'), 0),
    s(concat(
      pg.commandComplete('INSERT 0 1'), pg.rowDescription([['i', 23]]), pg.dataRow(['1']), pg.commandComplete('SELECT 1'),
      pg.errorResponse({ S: 'ERROR', V: 'ERROR', C: '42P01', M: 'table "nope" does not exist', H: 'check the name' }), pg.ready('I'),
    ), 50),
  ];
  assert.deepEqual(everyCut(steps), ['7-0 simple-query INSERT [INSERT INTO t VALUES (1); SELECT * FROM t; DROP TABLE nope] -> ERROR 42P01 table "nope" does not exist rows=1']);
  const e = run(steps).entries[0]!;
  assert.deepEqual(e.response!.commandTags, ['INSERT 0 1', 'SELECT 1']);
  assert.equal(e.response!.error!.hint, 'check the name');
});

test('extended query: named statement reused, parameters typed from Parse and ParameterDescription, binary decoded', () => {
  const steps = [
    c(concat(pg.parse('get_user', 'SELECT name FROM users WHERE id = $1 AND active = $2', [23]), pg.describe('S', 'get_user'), pg.sync()), 0),
    s(concat(pg.parseComplete(), pg.parameterDescription([23, 16]), pg.rowDescription([['name', 25]]), pg.ready()), 10),
    c(concat(pg.bind('', 'get_user', [pg.int4(42), pg.bool(true)], [1]), pg.execute(''), pg.sync()), 20),
    s(concat(pg.bindComplete(), pg.dataRow(['ann']), pg.commandComplete('SELECT 1'), pg.ready()), 30),
    c(concat(pg.bind('p1', 'get_user', ['7', null], [0]), pg.describe('P', 'p1'), pg.execute('p1', 10), pg.sync()), 40),
    s(concat(pg.bindComplete(), pg.rowDescription([['name', 25]]), pg.commandComplete('SELECT 0'), pg.ready()), 50),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-0 extended-query SELECT [SELECT name FROM users WHERE id = $1 AND active = $2] -> rows=0',
    '7-1 extended-query SELECT [SELECT name FROM users WHERE id = $1 AND active = $2] -> SELECT 1 rows=1',
    '7-2 extended-query SELECT [SELECT name FROM users WHERE id = $1 AND active = $2] -> SELECT 0 rows=0',
  ]);
  const [prep, first, second] = run(steps).entries;
  assert.deepEqual(prep!.request.prepares, [{ statement: 'get_user', query: 'SELECT name FROM users WHERE id = $1 AND active = $2', parameterTypes: ['int4'] }]);
  assert.deepEqual(first!.request.executions, [{
    statement: 'get_user', portal: '', query: 'SELECT name FROM users WHERE id = $1 AND active = $2', maxRows: 0,
    parameters: [{ type: 'int4', value: '42', format: 'binary' }, { type: 'bool', value: 't', format: 'binary' }],
  }]);
  assert.deepEqual(first!.request.messages, ['Bind', 'Execute', 'Sync']);
  assert.deepEqual(second!.request.executions![0]!.parameters, [{ type: 'int4', value: '7', format: 'text' }, { type: 'bool', value: null, format: 'text' }]);
  assert.equal(second!.request.executions![0]!.portal, 'p1');
  assert.equal(second!.request.executions![0]!.maxRows, 10);
});

test('binary parameters of unknown type are hex; binary result columns decoded by their type', () => {
  const steps = [
    c(concat(pg.parse('', 'SELECT $1::bytea, $2::int8', []), pg.bind('', '', [Uint8Array.of(0xde, 0xad), pg.int8(-5n)], [1]), pg.describe('P', ''), pg.execute(''), pg.sync()), 0),
    s(concat(pg.parseComplete(), pg.bindComplete(), pg.rowDescription([['a', 17, 1], ['b', 20, 1], ['c', 701, 1]]), pg.dataRow([Uint8Array.of(0xde, 0xad), pg.int8(-5n), pg.float8(1.5)]), pg.commandComplete('SELECT 1'), pg.ready()), 10),
  ];
  const e = run(steps).entries[0]!;
  assert.deepEqual(e.request.executions![0]!.parameters.map((p) => p.value), ['\\xdead', '\\xfffffffffffffffb']);
  assert.deepEqual(e.response!.results[0]!.rows, [['\\xdead', '-5', '1.5']]);
});

test('COPY FROM STDIN and COPY TO STDOUT: lines and bytes counted, data kept up to --max-body', () => {
  const steps = [
    c(pg.query('COPY t FROM STDIN'), 0), s(pg.copyInResponse(2), 10),
    // psql ends the data with the text format's end marker line: not a row.
    c(concat(pg.copyData('1\tone\n'), pg.copyData('2\ttwo\n'), pg.copyData('\\.\n'), pg.copyDone()), 20),
    s(concat(pg.commandComplete('COPY 2'), pg.ready()), 30),
    c(pg.query('COPY t TO STDOUT'), 40),
    s(concat(pg.copyOutResponse(2), pg.copyData('1\tone\n'), pg.copyData('2\ttwo\n'), pg.copyDoneB(), pg.commandComplete('COPY 2'), pg.ready()), 50),
  ];
  assert.deepEqual(everyCut(steps), ['7-0 simple-query COPY [COPY t FROM STDIN] -> COPY 2 rows=0', '7-1 simple-query COPY [COPY t TO STDOUT] -> COPY 2 rows=0']);
  const [inn, out] = run(steps, { kind: 'whole' }, { maxBodyBytes: 8 }).entries;
  assert.deepEqual(inn!.request.copy, { rows: 2, bytes: 15, data: '1\tone\n2\t', truncated: true });
  assert.deepEqual(out!.response!.copy, { rows: 2, bytes: 12, data: '1\tone\n2\t', truncated: true });
});

test('rows kept up to --max-body, counted all the same', () => {
  const rows = Array.from({ length: 50 }, (_, i) => pg.dataRow([`value-${i}`]));
  const steps = [c(pg.query('SELECT v FROM t'), 0), s(concat(pg.rowDescription([['v', 25]]), ...rows, pg.commandComplete('SELECT 50'), pg.ready()), 10)];
  const e = run(steps, { kind: 'whole' }, { maxBodyBytes: 40 }).entries[0]!;
  assert.equal(e.response!.rows, 50);
  assert.equal(e.response!.results[0]!.rowCount, 50);
  assert.ok(e.response!.results[0]!.rows.length < 10);
  assert.equal(e.response!.rowsTruncated, true);
});

test('SSLRequest answered N goes on in the clear; answered S stops and counts the connection as TLS', () => {
  const plain = run([c(pg.sslRequest(), 0), s('N', 10), ...openSteps.map((st) => ({ ...st, us: (st.us ?? 0) + 20 }))]);
  assert.deepEqual(plain.entries.map((e) => `${e.request.kind} ${e.response?.encryptionAnswer ?? ''}`), ['ssl-request N', 'startup ']);
  const tls = run([c(pg.sslRequest(), 0), s('S', 10), c(Uint8Array.of(0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0), 20)]);
  assert.deepEqual(tls.entries.map((e) => `${e.request.kind} ${e.response?.encryptionAnswer}`), ['ssl-request S']);
  assert.equal(tls.stats.undissected.connections['tls'], 1);
  assert.equal(tls.stats.dissectionErrors, 0);
});

test('Terminate and CancelRequest are one-sided entries without an error; an unanswered query times out', () => {
  const t = run([c(pg.query('SELECT 1'), 0), c(pg.terminate(), 10)], { kind: 'whole' }, { responseTimeoutUs: 1_000_000 });
  assert.deepEqual(t.entries.map(summary), ['7-0 simple-query SELECT [SELECT 1] -> no response rows=- connection closed (fin) before the response', '7-1 terminate Terminate [] -> no response rows=-']);
  const timedOut = run([c(pg.query('SELECT pg_sleep(10)'), 0), c(pg.query('SELECT 2'), 2_000_000)], { kind: 'whole' }, { responseTimeoutUs: 1_000_000 });
  assert.deepEqual(timedOut.entries.map((e) => e.error?.type), ['timeout', 'connection']);
  assert.match(timedOut.entries[0]!.error!.msg, /no response within 1 s/);
  const cancel = run([c(pg.cancelRequest(4242, 7), 0)]);
  assert.equal(cancel.entries[0]!.request.cancelProcessId, 4242);
  assert.equal(cancel.entries[0]!.error, null);
  assert.ok(!JSON.stringify(cancel.entries).includes('"7"'));
});

test('joined midway: starts at a Query, responses older than it are not paired to it', () => {
  const r = recorder();
  const stream = postgresqlDissector.open(fakeConn({ b: SERVER, aIsClientKnown: false }), r.ctx);
  play(stream, [s(concat(pg.commandComplete('SELECT 3'), pg.ready()), 0), c(pg.query('SELECT 2'), 10), s(concat(pg.commandComplete('SELECT 2'), pg.ready()), 20)]);
  stream.close('fin', 100);
  assert.deepEqual((r.all as unknown as PostgresqlEntry[]).map(summary), ['7-0 simple-query SELECT [SELECT 2] -> SELECT 2 rows=0']);
  assert.equal(r.stats.orphanResponses, 1);
});

test('a gap inside a DataRow keeps the framing; garbage loses it and the server side finds ReadyForQuery again', () => {
  const row = pg.dataRow(['x'.repeat(100)]);
  const gapped = run([
    c(pg.query('SELECT v FROM t'), 0), s(concat(pg.rowDescription([['v', 25]]), row.subarray(0, 20)), 10),
    { gap: 50, dir: 1, us: 11 }, s(concat(row.subarray(70), pg.commandComplete('SELECT 1'), pg.ready()), 12),
  ]);
  assert.deepEqual(gapped.entries.map(summary), ['7-0 simple-query SELECT [SELECT v FROM t] -> SELECT 1 rows=1']);
  const garbage = run([
    c(pg.query('SELECT 1'), 0), s(concat(Uint8Array.of(0xff, 0xfe, 0, 1), pg.ready()), 10),
    c(pg.query('SELECT 2'), 20), s(concat(pg.commandComplete('SELECT 1'), pg.ready()), 30),
  ]);
  assert.deepEqual(garbage.entries.map(summary), ['7-0 simple-query SELECT [SELECT 1] -> rows=0', '7-1 simple-query SELECT [SELECT 2] -> SELECT 1 rows=0']);
  assert.equal(garbage.stats.dissectionErrors, 1);
});

test('request sequence numbers come from the client stream offsets (merging both ends of a call)', () => {
  const q1 = pg.query('SELECT 1');
  const { metas } = run([c(q1, 0), s(concat(pg.commandComplete('SELECT 1'), pg.ready()), 10), c(pg.query('SELECT 2'), 20), s(concat(pg.commandComplete('SELECT 1'), pg.ready()), 30)]);
  assert.deepEqual(metas.map((m) => m.requestSeq), [1_000_000, 1_000_000 + q1.length]);
});

test('a flood of unanswered queries stays bounded: the oldest leave unanswered', () => {
  const many = Array.from({ length: 1000 }, (_, i) => c(pg.query(`SELECT ${i}`), i));
  const { entries, stats } = run(many);
  assert.equal(entries.length, 1000);
  assert.equal(stats.unpairedRequests, 1000);
  assert.match(entries[0]!.error!.msg, /more than 256 requests waiting/);
});
