/**
 * A real MariaDB server (Debian's mariadbd 10.11) in a network namespace, its data directory made
 * by mariadb-install-db in a temporary directory, an account with a password; driven from another
 * namespace by the `mysql` client (DDL, an insert, a select, USE, a query error, a multi-statement
 * query with several results) and by `mysql2` from npm (prepared statements with parameters of
 * several types through `execute`, a failing prepare, a query error, a ping, COM_STMT_CLOSE). Captured with
 * tcpdump and read back with `kubectl shark read -o json`, and dissected live by the agent in the
 * server's namespace: every command the clients made is one entry with its outcome, as many as
 * tshark counts client commands, and the password appears nowhere.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { MysqlEntry } from '../../src/remote-agent/dissect/mysql/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT, readWithCli } from '../helpers/capture.ts';
import { Scope, addAddress, addVeth, requireNetns, run, runOk, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const SERVER_IP = '10.97.0.2';
const CLIENT_IP = '10.97.0.1';
const PASSWORD = 'pw-Secret-42';
const USER = 'shark';

/** mysql2: prepared statements with parameters (numbers, text, a date, a double, NULL, a bigint), errors. */
const NODE_CLIENT = `
import mysql from 'mysql2/promise';
const [host, password] = process.argv.slice(1);
const conn = await mysql.createConnection({ host, user: '${USER}', password, database: 'shop' });
await conn.execute('SELECT id, name FROM t WHERE id >= ? AND name <> ? ORDER BY id', [1, 'nobody']);
await conn.execute('INSERT INTO t (name) VALUES (?)', ['from-node']);
await conn.execute('INSERT INTO t (name) VALUES (?)', ['again']);
await conn.execute('SELECT ? AS d, ? AS f, ? AS n, ? AS big', [new Date(Date.UTC(2024, 1, 29, 12, 30, 45)), 2.5, null, 9007199254740993n]);
try { await conn.execute('SELECT * FROM no_such_table WHERE id = ?', [1]); } catch (e) { console.log('prepare error', e.errno); }
try { await conn.query('SELECT nonsense FROM'); } catch (e) { console.log('query error', e.errno); }
await conn.ping();
await conn.unprepare('INSERT INTO t (name) VALUES (?)');
await conn.end();
console.log('done');
`;

interface Server {
  readonly client: Netns;
  readonly server: Netns;
}

/** Namespaces, the data directory, mariadbd in the server's namespace, the account (over the socket, not captured). */
async function setUp(scope: Scope): Promise<Server> {
  const client = await scope.netns('mycli');
  const server = await scope.netns('mysrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  const dir = mkdtempSync(join(tmpdir(), 'ks-mysql-'));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  await runOk('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db']);
  const mariadbd = server.spawn('mariadbd', ['--no-defaults', `--datadir=${data}`, '--user=root', `--socket=${socket}`, '--port=3306', `--bind-address=${SERVER_IP}`, '--skip-name-resolve', `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-log-bin']);
  let log = '';
  mariadbd.stderr?.on('data', (b: Buffer) => (log += b.toString('utf8')));
  try {
    await waitForPort(client, SERVER_IP, 3306, 30_000);
  } catch (err) {
    throw new Error(`mariadbd did not start: ${String(err)}\n${log}`);
  }
  await runOk('mysql', ['--no-defaults', '-S', socket, '-u', 'root', '-e', `CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'; CREATE DATABASE shop; GRANT ALL ON shop.* TO '${USER}'@'%';`]);
  return { client, server };
}

/** The `mysql` client's sessions; the second has a multi-statement query (delimiter changed so it goes as one). */
async function mysqlSessions(client: Netns): Promise<void> {
  const base = ['--no-defaults', '--skip-ssl', '-h', SERVER_IP, '-u', USER, `-p${PASSWORD}`];
  const one = await client.exec('mysql', [...base, 'shop', '-e', "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20)); INSERT INTO t (name) VALUES ('a'),('b'); SELECT id, name FROM t ORDER BY id; USE shop; SELECT * FROM missing_table"]);
  assert.equal(one.code, 1, 'the last query fails');
  assert.match(one.stderr.toString(), /ERROR 1146/);
  await client.execOk('mysql', [...base, '--delimiter=//', '-e', "SELECT 1 AS one; SELECT 2 AS two; UPDATE shop.t SET name = 'z' WHERE id = 1"]);
}

async function nodeSession(client: Netns): Promise<void> {
  const r = await client.exec(NODE, ['--input-type=module', '-e', NODE_CLIENT, SERVER_IP, PASSWORD], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stderr.toString());
  assert.deepEqual(r.stdout.toString('utf8').trim().split('\n'), ['prepare error 1146', 'query error 1064', 'done']);
}

/** One line per entry: command, what it names, and its outcome. */
function line(e: MysqlEntry): string {
  const req = e.request;
  const res = e.response;
  const what = req.command === 'HANDSHAKE' ? `${req.user}${req.database ? `@${req.database}` : ''}` : (req.query ?? req.database ?? (req.statementId !== undefined ? `#${req.statementId}` : ''));
  const params = req.params ? ` [${req.params.map((p) => `${p.type}:${p.value}`).join(', ')}]` : '';
  let outcome: string;
  if (res === null) outcome = e.error === null ? '-' : `(${e.error.type})`;
  else if (!res.success) outcome = `ERR ${res.errorCode} ${res.sqlState}`;
  else if (res.prepared) outcome = `stmt ${res.prepared.statementId} params ${res.prepared.paramCount} cols ${res.prepared.columnCount}`;
  else outcome = res.results.map((r) => (r.kind === 'resultset' ? `rows ${JSON.stringify(r.rows)}` : r.kind === 'ok' ? `ok ${r.affectedRows}${r.lastInsertId ? ` id ${r.lastInsertId}` : ''}` : 'err')).join(' | ');
  return `${req.command} ${what}${params} -> ${outcome}`;
}

const EXPECTED_MYSQL_CLI = [
  `HANDSHAKE ${USER}@shop -> ok 0`,
  'COM_QUERY CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20)) -> ok 0',
  "COM_QUERY INSERT INTO t (name) VALUES ('a'),('b') -> ok 2 id 1",
  'COM_QUERY SELECT id, name FROM t ORDER BY id -> rows [["1","a"],["2","b"]]',
  // The client's own question before USE, then USE as COM_INIT_DB.
  'COM_QUERY SELECT DATABASE() -> rows [["shop"]]',
  'COM_INIT_DB shop -> ok 0',
  'COM_QUERY SELECT * FROM missing_table -> ERR 1146 42S02',
  'COM_QUIT  -> -',
  `HANDSHAKE ${USER} -> ok 0`,
  // One COM_QUERY, three results (CLIENT_MULTI_STATEMENTS, SERVER_MORE_RESULTS_EXISTS).
  "COM_QUERY SELECT 1 AS one; SELECT 2 AS two; UPDATE shop.t SET name = 'z' WHERE id = 1 -> rows [[\"1\"]] | rows [[\"2\"]] | ok 1",
  'COM_QUIT  -> -',
];

const SELECT = 'SELECT id, name FROM t WHERE id >= ? AND name <> ? ORDER BY id';
const INSERT = 'INSERT INTO t (name) VALUES (?)';
const TYPED = 'SELECT ? AS d, ? AS f, ? AS n, ? AS big';
const EXPECTED_MYSQL2 = [
  `HANDSHAKE ${USER}@shop -> ok 0`,
  `COM_STMT_PREPARE ${SELECT} -> stmt 1 params 2 cols 2`,
  `COM_STMT_EXECUTE ${SELECT} [DOUBLE:1, VAR_STRING:nobody] -> rows [["1","z"],["2","b"]]`,
  `COM_STMT_PREPARE ${INSERT} -> stmt 2 params 1 cols 0`,
  `COM_STMT_EXECUTE ${INSERT} [VAR_STRING:from-node] -> ok 1 id 3`,
  `COM_STMT_EXECUTE ${INSERT} [VAR_STRING:again] -> ok 1 id 4`,
  `COM_STMT_PREPARE ${TYPED} -> stmt 3 params 4 cols 4`,
  `COM_STMT_EXECUTE ${TYPED} [DATETIME:2024-02-29 12:30:45.000000, DOUBLE:2.5, NULL:null, VAR_STRING:9007199254740993] -> rows [["2024-02-29 12:30:45","2.5",null,"9007199254740993"]]`,
  'COM_STMT_PREPARE SELECT * FROM no_such_table WHERE id = ? -> ERR 1146 42S02',
  'COM_QUERY SELECT nonsense FROM -> ERR 1064 42000',
  'COM_PING  -> ok 0',
  // mysql2 closes the statement on unprepare, and again as it ends (its cache forgets it late).
  `COM_STMT_CLOSE ${INSERT} -> -`,
  'COM_STMT_CLOSE #2 -> -',
  'COM_QUIT  -> -',
];

/** Our entries of each connection, as lines, in connection order. */
function connections(all: readonly Entry[]): string[][] {
  const byConn = new Map<string, MysqlEntry[]>();
  for (const e of all) {
    if (e.protocol.name !== 'mysql') continue;
    assert.equal(e.src.ip, CLIENT_IP);
    assert.deepEqual([e.dst.ip, e.dst.port], [SERVER_IP, 3306]);
    const key = String(e.src.port);
    byConn.set(key, [...(byConn.get(key) ?? []), e as MysqlEntry]);
  }
  return [...byConn.values()]
    .sort((a, b) => a[0]!.timestamp - b[0]!.timestamp || a[0]!.startTime.localeCompare(b[0]!.startTime))
    .map((es) => es.map(line));
}

/** Client command packets tshark counts in the capture (every packet carrying mysql.command). */
async function tsharkCommands(file: string): Promise<number> {
  const r = await run('tshark', ['-r', file, '-Y', 'mysql.command', '-T', 'fields', '-e', 'mysql.command']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;
}

const skip = skipFor(requireNetns(['tcpdump', 'tshark', 'mariadbd', 'mariadb-install-db', 'mysql']));

test('mariadbd driven by the mysql client and mysql2: every command once with its outcome, read back and live, no password', { skip, timeout: 240_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server } = await setUp(scope);
    const dir = prepareAgentDir(scope);
    const agent = startAgent(server, ['--iface', 'eth0'], { dir, scope });
    await agent.ready();
    const capture = await Capture.start(server, 'eth0', join(dir, 'mysql.pcap'));
    await mysqlSessions(client);
    await nodeSession(client);
    await capture.stop();

    const read = await readWithCli(capture.file);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(read.stderr.trim());
    const got = connections(read.all);
    t.diagnostic(got.flat().join('\n'));
    assert.deepEqual(got, [EXPECTED_MYSQL_CLI.slice(0, 8), EXPECTED_MYSQL_CLI.slice(8), EXPECTED_MYSQL2]);
    for (const e of read.all) assert.equal(e.error, null, `${e.id}: ${e.error?.msg}`);
    assert.match(read.stderr, new RegExp(`, ${got.flat().length} entries,`), 'the summary counts them');
    // tshark's count of client commands: each is exactly one of our non-handshake entries.
    const commands = got.flat().filter((l) => !l.startsWith('HANDSHAKE')).length;
    assert.equal(commands, await tsharkCommands(capture.file), 'as many command entries as tshark sees commands');
    assert.ok(!JSON.stringify(read.all).includes(PASSWORD), 'the password is nowhere in the output');

    const expected = got.flat().length;
    await agent.waitUntil(() => (agent.entries(0, 'mysql').length >= expected ? true : undefined), 20_000, `${expected} MySQL entries from the agent`);
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    assert.equal(agent.internalError, null);
    assert.deepEqual(connections(agent.allEntries()), got, 'the live agent sees the same');
    assert.ok(!JSON.stringify(agent.allEntries()).includes(PASSWORD), 'the password is nowhere in the agent output');
  } finally {
    await scope.close();
  }
});

/** mysql2 on a connection opened (and a statement prepared) before the capture starts: it joins midway. */
const POOLED_CLIENT = `
import mysql from 'mysql2/promise';
const [host, password] = process.argv.slice(1);
const conn = await mysql.createConnection({ host, user: '${USER}', password, database: 'shop' });
await conn.execute('SELECT ? + 0 AS early', [1]);
console.log('ready');
await new Promise((resolve) => process.stdin.once('data', resolve));
await conn.execute('SELECT ? + 0 AS early', [2]);
await conn.query('SELECT 42 AS answer');
try { await conn.query('SELECT * FROM nope'); } catch (e) { console.log('query error', e.errno); }
await conn.end();
console.log('done');
`;

test('a connection opened before the capture (a pool): joined midway, every command after the join once', { skip, timeout: 240_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server } = await setUp(scope);
    const dir = prepareAgentDir(scope);
    const child = client.spawn(NODE, ['--input-type=module', '-e', POOLED_CLIENT, SERVER_IP, PASSWORD], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const until = async (what: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!out.includes(what)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the client did not print ${what}: ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await until('ready');
    const capture = await Capture.start(server, 'eth0', join(dir, 'pooled.pcap'));
    child.stdin!.write('go\n');
    await until('done');
    await capture.stop();
    const read = await readWithCli(capture.file);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(read.stderr.trim());
    const got = connections(read.all);
    t.diagnostic(got.flat().join('\n'));
    assert.deepEqual(got, [[
      // The statement was prepared before the capture: its id only, the answer decoded from its own column definitions.
      'COM_STMT_EXECUTE #1 -> rows [["2"]]',
      'COM_QUERY SELECT 42 AS answer -> rows [["42"]]',
      'COM_QUERY SELECT * FROM nope -> ERR 1146 42S02',
      'COM_QUIT  -> -',
    ]]);
    for (const e of read.all) assert.equal(e.error, null, `${e.id}: ${e.error?.msg}`);
    assert.equal(await tsharkCommands(capture.file), 4, 'tshark sees the same four commands');
  } finally {
    await scope.close();
  }
});
