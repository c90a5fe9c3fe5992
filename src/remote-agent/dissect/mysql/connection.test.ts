import assert from 'node:assert/strict';
import { test } from 'node:test';
import { c, fakeConn, longestData, play, recorder, s, SEQ_ORIGIN, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import {
  bin, binaryRow, CAPS, BASE_CAPS, COM, columnDef, command, concat, eof, err, execute, greeting, lenenc, login, ok, packet, prepareOk, sslRequest, str, textResultSet, textRow, TYPE, u8,
} from '../../../../test/helpers/mysql-wire.ts';
import { newCaptureStats } from '../../stats.ts';
import { DEFAULT_DISSECT_OPTIONS, dissectContextFor } from '../dissector.ts';
import type { MysqlEntry } from './entry.ts';
import { mysqlDissector } from './index.ts';
import { MAX_PENDING } from './connection.ts';

const SERVER = { ip: '10.0.0.2', port: 3306 } as const;
const SECRET = str('S3cr3t-auth-bytes!!!');

function run(steps: readonly Step[], how: Chunking = { kind: 'whole' }, options = {}, conn = {}): { entries: MysqlEntry[]; violations: number; tls: number } {
  const rec = recorder(options);
  const stream = mysqlDissector.open(fakeConn({ b: SERVER, ...conn }), rec.ctx);
  play(stream, steps, how);
  return { entries: rec.all as MysqlEntry[], violations: rec.stats.dissectionErrors, tls: rec.stats.undissected.connections['tls'] ?? 0 };
}

/** Runs whole, split at every offset of the longest step, and byte by byte: the same entries each time. */
function runEveryWay(steps: readonly Step[], options = {}): MysqlEntry[] {
  const whole = run(steps, { kind: 'whole' }, options);
  const norm = (es: MysqlEntry[]): string => JSON.stringify(es.map((e) => ({ ...e, timestamp: 0, startTime: '', elapsedTime: 0 })));
  assert.equal(norm(run(steps, { kind: 'bytes' }, options).entries), norm(whole.entries), 'byte by byte');
  const longest = longestData(steps);
  for (let at = 1; at < longest; at += Math.max(1, Math.floor(longest / 37))) {
    assert.equal(norm(run(steps, { kind: 'split', at }, options).entries), norm(whole.entries), `split at ${at}`);
  }
  return whole.entries;
}

const handshake = (deprecateEof = true): Step[] => [
  s(greeting({ caps: BASE_CAPS | CAPS.CONNECT_WITH_DB | (deprecateEof ? CAPS.DEPRECATE_EOF : 0) })),
  c(login({ user: 'app', auth: SECRET, database: 'shop', caps: BASE_CAPS | (deprecateEof ? CAPS.DEPRECATE_EOF : 0) })),
  s(ok(2)),
];

test('handshake, then a query answered by a result set with EOF packets (no CLIENT_DEPRECATE_EOF)', () => {
  const es = runEveryWay([
    ...handshake(false),
    c(command(COM.QUERY, 'SELECT id, name FROM t')),
    s(textResultSet(['id', 'name'], [['1', 'a'], ['2', null]], { deprecateEof: false })),
    c(command(COM.QUIT)),
    { close: 'fin' },
  ]);
  assert.deepEqual(es.map((e) => e.request.command), ['HANDSHAKE', 'COM_QUERY', 'COM_QUIT']);
  const [hs, q, quit] = es as [MysqlEntry, MysqlEntry, MysqlEntry];
  assert.equal(hs.request.user, 'app');
  assert.equal(hs.request.database, 'shop');
  assert.equal(hs.request.handshake?.serverVersion, '10.11.6-MariaDB-0+deb12u1');
  assert.ok(!hs.request.handshake?.clientCapabilities.includes('CLIENT_DEPRECATE_EOF'));
  assert.equal(hs.response?.success, true);
  assert.deepEqual(q.response?.results, [{ kind: 'resultset', columns: [{ name: 'id', table: 't', type: 'VAR_STRING' }, { name: 'name', table: 't', type: 'VAR_STRING' }], rows: [['1', 'a'], ['2', null]], rowCount: 2, rowsTruncated: false, warnings: 0, status: 2 }]);
  assert.deepEqual([quit.response, quit.error], [null, null]);
  assert.deepEqual([hs.id, q.id, quit.id], ['7-0', '7-1', '7-2']);
});

test('CLIENT_DEPRECATE_EOF: rows end with an OK (0xFE); an empty result set ends right after the definitions', () => {
  const es = runEveryWay([
    ...handshake(true),
    c(command(COM.QUERY, 'SELECT name FROM t')),
    s(textResultSet(['name'], [['x'], ['y'], ['z']], { deprecateEof: true })),
    c(command(COM.QUERY, 'SELECT name FROM t WHERE 0')),
    s(textResultSet(['name'], [], { deprecateEof: true })),
  ]);
  assert.deepEqual(es.slice(1).map((e) => [e.response?.rowCount, e.response?.results.length]), [[3, 1], [0, 1]]);
});

test('without the login (joined midway), EOF packets and OK terminators are told apart by their length', () => {
  for (const deprecateEof of [true, false]) {
    const { entries } = run([
      c(command(COM.QUERY, 'SELECT name FROM t')),
      s(textResultSet(['name'], [['x']], { deprecateEof })),
      c(command(COM.QUERY, 'SELECT 1')),
      s(textResultSet(['1'], [['1']], { deprecateEof })),
    ], { kind: 'whole' }, {}, { aIsClientKnown: false });
    assert.deepEqual(entries.map((e) => [e.request.query, e.response?.rowCount, e.error]), [['SELECT name FROM t', 1, null], ['SELECT 1', 1, null]], `deprecateEof ${deprecateEof}`);
  }
});

test('joined midway: bytes before the first command are skipped, a command with sequence id 0 resynchronises', () => {
  const rest = concat(textRow3(), eof(9));
  const { entries } = run([
    s(rest), // the tail of an earlier answer
    c(str('ELECT * FROM t WHERE id = 1')), // the tail of an earlier query (no header)
    c(command(COM.PING)),
    s(ok(1)),
    c(command(COM.QUERY, 'SELECT 1')),
    s(textResultSet(['1'], [['1']], { deprecateEof: false })),
  ], { kind: 'whole' }, {}, { aIsClientKnown: false });
  assert.deepEqual(entries.map((e) => [e.request.command, e.response?.success]), [['COM_PING', true], ['COM_QUERY', true]]);
});

function textRow3(): Uint8Array {
  return textRow(7, ['a', 'b']);
}

test('OK and ERR: affected rows, last insert id, warnings; error code, SQLSTATE and message', () => {
  const es = runEveryWay([
    ...handshake(),
    c(command(COM.QUERY, "INSERT INTO t (name) VALUES ('a')")),
    s(ok(1, { affected: 1, insertId: 77, warnings: 1 })),
    c(command(COM.QUERY, 'SELEC 1')),
    s(err(1, 1064, '42000', 'You have an error in your SQL syntax')),
    c(command(COM.INIT_DB, 'nope')),
    s(err(1, 1049, '42000', "Unknown database 'nope'")),
  ]);
  const [, ins, bad, use] = es as [MysqlEntry, MysqlEntry, MysqlEntry, MysqlEntry];
  assert.deepEqual([ins.response?.affectedRows, ins.response?.lastInsertId, ins.response?.warnings], [1, 77, 1]);
  assert.deepEqual([bad.response?.success, bad.response?.errorCode, bad.response?.sqlState, bad.response?.errorMessage], [false, 1064, '42000', 'You have an error in your SQL syntax']);
  assert.deepEqual([use.request.database, use.response?.errorCode], ['nope', 1049]);
});

test('multi-results (SERVER_MORE_RESULTS_EXISTS): every result of one query in one entry, an error ends them', () => {
  const MORE = 0x0008 | 2;
  const es = runEveryWay([
    ...handshake(),
    c(command(COM.QUERY, 'SELECT 1; UPDATE t SET a = 1; SELECT 2; SELECT nope')),
    s(concat(
      textResultSet(['1'], [['1']], { deprecateEof: true, status: MORE }),
      ok(4, { affected: 3, status: MORE }),
      textResultSet(['2'], [['2']], { deprecateEof: true, status: MORE, startSeq: 5 }),
      err(9, 1054, '42S22', "Unknown column 'nope'"),
    )),
    c(command(COM.PING)),
    s(ok(1)),
  ]);
  assert.equal(es.length, 3);
  const multi = es[1]!.response!;
  assert.deepEqual(multi.results.map((r) => r.kind), ['resultset', 'ok', 'resultset', 'error']);
  assert.deepEqual([multi.success, multi.errorCode, multi.affectedRows, multi.rowCount], [false, 1054, 3, 2]);
  assert.equal(es[2]!.request.command, 'COM_PING');
});

test('prepared statements: PREPARE answered with id and counts; EXECUTE decodes parameters by the types sent, then by the remembered ones; binary rows', () => {
  for (const deprecateEof of [true, false]) {
    const es = runEveryWay([
      ...handshake(deprecateEof),
      c(command(COM.STMT_PREPARE, 'SELECT id, at FROM t WHERE id > ? AND name = ? AND score < ? AND seen = ?')),
      s(prepareOk(5, 4, [{ name: 'id', type: TYPE.LONG }, { name: 'at', type: TYPE.DATETIME }], deprecateEof)),
      c(execute(5, [bin.long(-3), bin.text('zoë'), bin.double(2.5), bin.null()])),
      s(concat(
        packet(1, lenenc(2)), columnDef(2, 'id', TYPE.LONG), columnDef(3, 'at', TYPE.DATETIME),
        deprecateEof ? new Uint8Array(0) : eof(4),
        binaryRow(deprecateEof ? 4 : 5, [u32le(9), concat(u8(7), u16le(2024), u8(2), u8(29), u8(12), u8(30), u8(45))]),
        binaryRow(deprecateEof ? 5 : 6, [u32le(10), null]),
        deprecateEof ? ok(6, { header: 0xfe }) : eof(7),
      )),
      c(execute(5, [bin.long(7), bin.text('x'), bin.double(-1), bin.null()], false)),
      s(concat(packet(1, lenenc(2)), columnDef(2, 'id', TYPE.LONG), columnDef(3, 'at', TYPE.DATETIME), deprecateEof ? ok(4, { header: 0xfe }) : concat(eof(4), eof(5)))),
      c(command(COM.STMT_RESET, u32le(5))),
      s(ok(1)),
      c(command(COM.STMT_CLOSE, u32le(5))),
      c(command(COM.QUIT)),
    ]);
    const [, prep, ex1, ex2, reset, close] = es as MysqlEntry[];
    assert.deepEqual(prep!.response?.prepared, {
      statementId: 5, paramCount: 4, columnCount: 2,
      params: Array.from({ length: 4 }, () => ({ name: '?', table: '', type: 'NULL' })),
      columns: [{ name: 'id', table: 't', type: 'LONG' }, { name: 'at', table: 't', type: 'DATETIME' }],
    }, `deprecateEof ${deprecateEof}`);
    assert.equal(ex1!.request.statementId, 5);
    assert.equal(ex1!.request.query, 'SELECT id, at FROM t WHERE id > ? AND name = ? AND score < ? AND seen = ?');
    assert.deepEqual(ex1!.request.params, [{ type: 'LONG', value: '-3' }, { type: 'VAR_STRING', value: 'zoë' }, { type: 'DOUBLE', value: '2.5' }, { type: 'NULL', value: null }]);
    assert.deepEqual(ex1!.response?.results[0]?.kind === 'resultset' ? ex1!.response.results[0].rows : null, [['9', '2024-02-29 12:30:45'], ['10', null]]);
    assert.deepEqual(ex2!.request.params, [{ type: 'LONG', value: '7' }, { type: 'VAR_STRING', value: 'x' }, { type: 'DOUBLE', value: '-1' }, { type: 'NULL', value: null }], 'types remembered from the first execute');
    assert.equal(ex2!.response?.rowCount, 0);
    assert.deepEqual([reset!.request.command, reset!.request.statementId, reset!.response?.success], ['COM_STMT_RESET', 5, true]);
    assert.deepEqual([close!.request.command, close!.request.statementId, close!.response, close!.error], ['COM_STMT_CLOSE', 5, null, null]);
  }
});

function u32le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}
function u16le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff);
}

test('auth switch and more-data exchanges: the plugin is named, no auth data is kept anywhere', () => {
  const es = runEveryWay([
    s(greeting({ plugin: 'mysql_native_password' })),
    c(login({ user: 'app', auth: SECRET, plugin: 'mysql_native_password' })),
    s(packet(2, concat(u8(0xfe), str('caching_sha2_password\0'), str('nonce-nonce-nonce-12\0')))),
    c(packet(3, SECRET)),
    s(packet(4, concat(u8(0x01), u8(0x04)))),
    c(packet(5, concat(SECRET, u8(0)))),
    s(ok(6)),
    c(command(COM.PING)),
    s(ok(1)),
  ]);
  assert.deepEqual(es.map((e) => [e.request.command, e.response?.success]), [['HANDSHAKE', true], ['COM_PING', true]]);
  assert.equal(es[0]!.request.handshake?.authPlugin, 'caching_sha2_password');
  const json = JSON.stringify(es);
  assert.ok(!json.includes('S3cr3t'), 'no auth data in the entries');
  assert.ok(!json.includes('nonce'), 'no nonce in the entries');
});

test('a refused login is a HANDSHAKE entry with the error', () => {
  const es = runEveryWay([s(greeting()), c(login({ user: 'app', auth: SECRET })), s(err(2, 1045, '28000', "Access denied for user 'app'@'10.0.0.1' (using password: YES)"))]);
  assert.deepEqual([es[0]!.response?.success, es[0]!.response?.errorCode, es[0]!.response?.sqlState], [false, 1045, '28000']);
});

test('SSLRequest: one HANDSHAKE entry that says TLS, the rest is counted as TLS and not dissected', () => {
  const r = run([
    s(greeting({ caps: BASE_CAPS | CAPS.SSL })),
    c(sslRequest()),
    c(Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5)),
    s(Uint8Array.of(0x16, 0x03, 0x03, 0x00, 0x02, 9, 9)),
    c(command(COM.QUERY, 'SELECT 1')),
    { close: 'fin' },
  ]);
  assert.equal(r.entries.length, 1);
  assert.deepEqual([r.entries[0]!.request.handshake?.ssl, r.entries[0]!.response?.tls, r.entries[0]!.error], [true, true, null]);
  assert.equal(r.tls, 1);
  assert.equal(r.violations, 0);
});

test('a query longer than 16 MiB comes in continuation packets: joined, kept up to maxBodyBytes', () => {
  const big = 'SELECT ' + "'x'".padEnd(0xffffff + 100, ' ');
  const { entries, violations } = run([...handshake(), c(command(COM.QUERY, big)), s(ok(2)), c(command(COM.PING)), s(ok(1))], { kind: 'whole' }, { maxBodyBytes: 64 });
  assert.equal(violations, 0);
  assert.deepEqual(entries.map((e) => e.request.command), ['HANDSHAKE', 'COM_QUERY', 'COM_PING']);
  assert.equal(entries[1]!.request.query, big.slice(0, 64));
  assert.equal(entries[1]!.request.queryTruncated, true);
  assert.equal(entries[1]!.requestSize, 4 + 0xffffff + 4 + (big.length + 1 - 0xffffff));
  assert.equal(entries[1]!.response?.success, true);
});

test('rows are kept up to maxBodyBytes; the count goes on', () => {
  const rows = Array.from({ length: 100 }, (_, i) => [`row-${i}`]);
  const { entries } = run([...handshake(), c(command(COM.QUERY, 'SELECT a FROM t')), s(textResultSet(['a'], rows, { deprecateEof: true }))], { kind: 'whole' }, { maxBodyBytes: 200 });
  const r = entries[1]!.response!.results[0]!;
  assert.ok(r.kind === 'resultset');
  assert.equal(r.rowCount, 100);
  assert.equal(r.rowsTruncated, true);
  assert.ok(r.rows.length > 0 && r.rows.length < 20, `${r.rows.length} rows kept`);
});

test('an unanswered command times out; a flood of them keeps the queue bounded', () => {
  const timeout = run([...handshake(), c(command(COM.QUERY, 'SELECT SLEEP(1000)'), 0), c(command(COM.PING), 200_000_000)], { kind: 'whole' }, { responseTimeoutUs: 1_000_000 });
  assert.deepEqual(timeout.entries[1]?.error?.type, 'timeout');
  const steps: Step[] = [...handshake()];
  for (let i = 0; i < MAX_PENDING * 4; i++) steps.push(c(command(COM.QUERY, `SELECT ${i}`)));
  const rec = recorder();
  const stream = mysqlDissector.open(fakeConn({ b: SERVER }), rec.ctx);
  play(stream, steps);
  // Past MAX_PENDING commands waiting, the oldest leaves unanswered: nothing accumulates.
  assert.ok(rec.all.length >= MAX_PENDING * 4 - MAX_PENDING, `${rec.all.length} entries out`);
  assert.ok(stream.oldestPendingUs() !== Infinity);
  stream.close('end-of-capture', 0);
  assert.equal(rec.all.length, MAX_PENDING * 4 + 1);
});

test('sniff: a greeting matches; a command midway matches and needs the answer to confirm', () => {
  assert.equal(mysqlDissector.sniff(greeting(), 'to-client'), 'match');
  assert.equal(mysqlDissector.sniff(greeting().subarray(0, 10), 'to-client'), 'more');
  assert.equal(mysqlDissector.sniff(command(COM.QUERY, 'SELECT 1 FROM dual'), 'to-server'), 'match');
  assert.equal(mysqlDissector.sniff(str('GET / HTTP/1.1\r\n\r\n'), 'to-server'), 'no');
  assert.equal(mysqlDissector.sniff(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00), 'to-server'), 'no');
  assert.equal(mysqlDissector.confirmReply!(ok(1), 'to-client'), 'match');
  assert.equal(mysqlDissector.confirmReply!(login({ user: 'a', auth: SECRET }), 'to-server'), 'match');
  assert.equal(mysqlDissector.confirmReply!(str('HTTP/1.1 200 OK\r\n'), 'to-client'), 'no');
});

test('the switch to TLS is told to the capture\'s own undissected counter when it has one (the TLS probes\' claims)', () => {
  const told: string[] = [];
  const stats = newCaptureStats();
  const ctx = dissectContextFor({ options: DEFAULT_DISSECT_OPTIONS, stats, emit: () => {}, undissected: (_conn, protocol) => told.push(protocol) }, 'mysql');
  const stream = mysqlDissector.open(fakeConn({ b: SERVER }), ctx);
  play(stream, [s(greeting({ caps: BASE_CAPS | CAPS.SSL })), c(sslRequest())]);
  assert.deepEqual(told, ['tls']);
  assert.deepEqual({ ...stats.undissected.connections }, {}, 'counted there, not twice');
});

test('pipelined commands (prepare and execute sent together, as MariaDB Connector/J does): each answer goes to its command, in order', () => {
  for (const deprecateEof of [true, false]) {
    const es = runEveryWay([
      ...handshake(deprecateEof),
      c(concat(command(COM.STMT_PREPARE, 'SELECT ?'), execute(1, [bin.long(5)]), command(COM.PING))),
      s(concat(
        prepareOk(1, 1, [{ name: '?', type: TYPE.LONG }], deprecateEof),
        packet(1, lenenc(1)), columnDef(2, '?', TYPE.LONG), deprecateEof ? new Uint8Array(0) : eof(3),
        binaryRow(deprecateEof ? 3 : 4, [u32le(5)]), deprecateEof ? ok(4, { header: 0xfe }) : eof(5),
        ok(1),
      )),
    ]);
    assert.deepEqual(es.slice(1).map((e) => [e.request.command, e.response?.prepared?.statementId ?? e.response?.rowCount, e.error]), [
      ['COM_STMT_PREPARE', 1, null], ['COM_STMT_EXECUTE', 1, null], ['COM_PING', 0, null],
    ], `deprecateEof ${deprecateEof}`);
  }
});

test('each entry names its first client byte by TCP sequence number (for merging two sightings), also after a midway join', () => {
  const steps: Step[] = [...handshake(), c(command(COM.QUERY, 'SELECT 1')), s(textResultSet(['1'], [['1']], { deprecateEof: true })), c(command(COM.PING)), s(ok(1))];
  const rec = recorder();
  play(mysqlDissector.open(fakeConn({ b: SERVER }), rec.ctx), steps);
  const login = login_length();
  assert.deepEqual(rec.metas.map((m) => m.requestSeq), [SEQ_ORIGIN[0], SEQ_ORIGIN[0] + login, SEQ_ORIGIN[0] + login + command(COM.QUERY, 'SELECT 1').length]);
  // Joined midway: 7 bytes of an earlier query's tail, then a command; offsets stay exact.
  const mid = recorder();
  play(mysqlDissector.open(fakeConn({ b: SERVER, aIsClientKnown: false }), mid.ctx), [c(str('ECT 1;\n')), c(command(COM.PING)), s(ok(1))]);
  assert.deepEqual(mid.metas.map((m) => m.requestSeq), [SEQ_ORIGIN[0] + 7]);
});

function login_length(): number {
  return login({ user: 'app', auth: SECRET, database: 'shop', caps: BASE_CAPS | CAPS.DEPRECATE_EOF }).length;
}
