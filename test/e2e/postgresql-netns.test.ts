/**
 * PostgreSQL from real programs, in network namespaces: Debian's postgres 15 (a fresh cluster made
 * by initdb as the postgres user) with password authentication (SCRAM-SHA-256 for `postgres`, and
 * cleartext `password` for a second role so the password does cross the wire), driven by psql
 * (simple queries, two statements in one, an error, COPY FROM STDIN and COPY TO STDOUT) and the
 * `pg` npm client (extended query with parameters, a named prepared statement used twice, an
 * error). tcpdump captures the client's side and `read -o json` reads it back: every query made
 * is exactly one entry with its command tags, rows or SQLSTATE, and the password is nowhere.
 */
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { PostgresqlEntry } from '../../src/remote-agent/dissect/postgresql/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT } from '../helpers/capture.ts';
import { entriesOf } from '../helpers/entries-of.ts';
import { Scope, addAddress, addVeth, requireNetns, run, waitForPort } from '../helpers/netns.ts';
import { requireBuild } from '../helpers/tap.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';
import { missingCommand, skipFor } from '../helpers/requirements.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const SERVER_IP = '10.116.0.2';
const CLIENT_IP = '10.116.0.1';
const PASSWORD = 'Pg-S3cret-in-the-test-7781';
const CLEAR_PASSWORD = 'Clear-Text-Pw-0x5eed-4412';

const skip = skipFor(requireNetns(['tcpdump', 'psql', 'runuser']) ?? missingCommand(`${PG_BIN}/postgres`, 'apt-get install -y postgresql') ?? requireBuild());

/** The pg client's part: extended queries with parameters, a named statement reused, an error. */
const PG_CLIENT = `
import pg from ${JSON.stringify(join(REPO_ROOT, 'node_modules/pg/lib/index.js'))};
const out = [];
const client = new pg.Client({ host: ${JSON.stringify(SERVER_IP)}, port: 5432, user: 'clear_user', password: ${JSON.stringify(CLEAR_PASSWORD)}, database: 'postgres' });
await client.connect();
out.push((await client.query('SELECT $1::int + $2::int AS sum', [2, 3])).rows[0].sum);
const named = { name: 'item-by-id', text: 'SELECT name FROM items WHERE id = $1' };
out.push((await client.query({ ...named, values: [1] })).rows[0].name);
out.push((await client.query({ ...named, values: [4] })).rows[0].name);
try {
  await client.query('SELECT * FROM missing_table WHERE id = $1', [1]);
} catch (err) {
  out.push(err.code);
}
await client.end();
console.log(JSON.stringify(out));
`;

test('psql and the pg client against postgres 15, captured in a namespace and read back: one entry per query, no password', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'ks-pg-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const data = join(dir, 'data');
    const sockets = join(dir, 'sock');
    mkdirSync(data);
    mkdirSync(sockets);
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, `${PASSWORD}\n`);
    for (const p of [data, sockets, pwfile]) chownSync(p, 101, 104);
    const postgresUid = await run('id', ['-u', 'postgres']);
    assert.equal(postgresUid.stdout.toString().trim(), '101', 'the postgres user is uid 101');
    const init = await run('runuser', ['-u', 'postgres', '--', `${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`]);
    assert.equal(init.code, 0, init.stderr.toString());
    // The cleartext role first (pg_hba is read top-down), then every other host connection by SCRAM.
    appendFileSync(join(data, 'pg_hba.conf'), 'host all clear_user 0.0.0.0/0 password\nhost all all 0.0.0.0/0 scram-sha-256\n');

    const client = await scope.netns('pgc');
    const server = await scope.netns('pgs');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    server.spawn('runuser', ['-u', 'postgres', '--', `${PG_BIN}/postgres`, '-D', data, '-k', sockets, '-h', SERVER_IP, '-p', '5432', '-c', 'ssl=off', '-c', 'fsync=off']);
    await waitForPort(client, SERVER_IP, 5432, 30_000);
    const role = await server.exec('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-h', sockets, '-U', 'postgres', '-c', `CREATE ROLE clear_user LOGIN PASSWORD '${CLEAR_PASSWORD}' SUPERUSER`]);
    assert.equal(role.code, 0, role.stderr.toString());

    const file = join(dir, 'pg.pcap');
    const capture = await Capture.start(client, 'eth0', file);
    // The live agent on the server's side sees the same traffic.
    const agent = startAgent(server, ['--iface', 'eth0', '--stats-interval', '250'], { dir: prepareAgentDir(scope), scope });
    // Generous: the agent starts slowly on a loaded machine (it must be listening before the traffic).
    const hello = await agent.ready(90_000);
    assert.ok(hello.protocols?.includes('postgresql'), `the hello frame lists postgresql: ${JSON.stringify(hello.protocols)}`);
    const env = { ...process.env, PGPASSWORD: PASSWORD, PGCONNECT_TIMEOUT: '10' };
    const psql = (args: readonly string[], input?: string) =>
      client.exec('psql', ['-X', '-q', '-A', '-t', '-h', SERVER_IP, '-U', 'postgres', '-d', 'postgres', ...args], { env, ...(input === undefined ? {} : { input }) });
    const session = await psql([
      '-c', 'CREATE TABLE items (id int, name text)',
      '-c', "INSERT INTO items VALUES (1, 'one'), (2, 'two'); SELECT count(*) FROM items",
      '-c', 'SELECT * FROM nope_table',
      '-c', 'COPY items FROM STDIN',
      '-c', 'COPY items TO STDOUT',
    ], '3\tthree\n4\tfour\n\\.\n');
    const printed = session.stdout.toString();
    t.diagnostic(`psql: ${printed.replace(/\n/g, ' | ')} ${session.stderr.toString()}`);
    assert.match(printed, /^2$/m, 'the count');
    assert.match(printed, /1\tone\n2\ttwo\n3\tthree\n4\tfour/, 'COPY TO STDOUT');
    assert.match(session.stderr.toString(), /relation "nope_table" does not exist/);
    const script = join(dir, 'client.mjs');
    writeFileSync(script, PG_CLIENT);
    const node = await client.exec(NODE, [script]);
    assert.equal(node.code, 0, node.stderr.toString());
    assert.deepEqual(JSON.parse(node.stdout.toString()), [5, 'one', 'four', '42P01']);
    await capture.stop();
    assert.ok(readFileSync(file).includes(CLEAR_PASSWORD), 'the cleartext password did cross the wire (so not showing it is the parser\'s doing)');

    const read = await runShark(['read', '-o', 'json', file]);
    assert.equal(read.code, 0, read.stderr);
    assert.ok(!read.stdout.includes(PASSWORD) && !read.stdout.includes(CLEAR_PASSWORD), 'no password in the entries');
    const entries = entriesOf(parseNdjson<Entry>(read.stdout), 'postgresql') as PostgresqlEntry[];
    t.diagnostic(entries.map((e) => `${e.id} ${e.request.kind} ${e.request.query} -> ${e.response?.error?.code ?? e.response?.commandTags.join(',') ?? '-'}`).join('\n'));
    assert.equal(entries.length, parseNdjson<Entry>(read.stdout).length, 'every entry is PostgreSQL');
    assert.equal(entries.filter((e) => e.error !== null).length, 0, 'no entry with an error');

    const simple = entries.filter((e) => e.request.kind === 'simple-query');
    const bySql = (sql: string): PostgresqlEntry => {
      const found = entries.filter((e) => e.request.query === sql);
      assert.equal(found.length, 1, `one entry for ${sql}: ${found.map((e) => e.id).join(', ')}`);
      return found[0]!;
    };
    assert.deepEqual(simple.map((e) => e.request.query), [
      'CREATE TABLE items (id int, name text)', "INSERT INTO items VALUES (1, 'one'), (2, 'two'); SELECT count(*) FROM items",
      'SELECT * FROM nope_table', 'COPY items FROM STDIN', 'COPY items TO STDOUT',
    ]);
    assert.deepEqual(bySql('CREATE TABLE items (id int, name text)').response?.commandTags, ['CREATE TABLE']);
    const two = bySql("INSERT INTO items VALUES (1, 'one'), (2, 'two'); SELECT count(*) FROM items");
    assert.deepEqual([two.response?.commandTags, two.response?.results[0]?.rows], [['INSERT 0 2', 'SELECT 1'], [['2']]]);
    const nope = bySql('SELECT * FROM nope_table');
    assert.deepEqual([nope.response?.error?.severity, nope.response?.error?.code, nope.response?.error?.message], ['ERROR', '42P01', 'relation "nope_table" does not exist']);
    const copyIn = bySql('COPY items FROM STDIN');
    assert.deepEqual([copyIn.response?.commandTags, copyIn.request.copy?.rows, copyIn.request.copy?.data], [['COPY 2'], 2, '3\tthree\n4\tfour\n\\.\n'], 'the data as sent (psql ends it with the \\. line), the rows without it');
    const copyOut = bySql('COPY items TO STDOUT');
    assert.deepEqual([copyOut.response?.commandTags, copyOut.response?.copy?.rows, copyOut.response?.copy?.data], [['COPY 4'], 4, '1\tone\n2\ttwo\n3\tthree\n4\tfour\n']);

    const sum = bySql('SELECT $1::int + $2::int AS sum');
    assert.deepEqual(sum.request.executions?.[0]?.parameters.map((p) => p.value), ['2', '3']);
    assert.deepEqual([sum.response?.commandTags, sum.response?.results[0]?.rows], [['SELECT 1'], [['5']]]);
    const named = entries.filter((e) => e.request.query === 'SELECT name FROM items WHERE id = $1');
    assert.equal(named.length, 2, 'the named statement: two executions');
    assert.deepEqual(named.map((e) => [e.request.executions?.[0]?.statement, e.request.executions?.[0]?.parameters[0]?.value, e.response?.results[0]?.rows[0]?.[0]]), [['item-by-id', '1', 'one'], ['item-by-id', '4', 'four']]);
    assert.equal(named[0]!.request.prepares?.[0]?.statement, 'item-by-id', 'prepared by the first');
    assert.deepEqual(named[1]!.request.prepares, [], 'reused by the second, its SQL remembered');
    const missing = bySql('SELECT * FROM missing_table WHERE id = $1');
    assert.equal(missing.response?.error?.code, '42P01');

    const startups = entries.filter((e) => e.request.kind === 'startup');
    assert.deepEqual(startups.map((e) => [e.request.user, e.response?.authentication, e.response?.transactionStatus]), [['postgres', 'SCRAM-SHA-256', 'idle'], ['clear_user', 'cleartext', 'idle']]);
    assert.deepEqual(startups[0]!.request.messages, ['StartupMessage', 'SASLInitialResponse', 'SASLResponse']);
    assert.deepEqual(startups[1]!.request.messages, ['StartupMessage', 'PasswordMessage']);
    // psql asks for TLS first (sslmode=prefer) and the server, without ssl, answers N.
    assert.deepEqual(entries.filter((e) => e.request.kind === 'ssl-request').map((e) => e.response?.encryptionAnswer), ['N']);
    assert.equal(entries.filter((e) => e.request.kind === 'terminate').length, 2);
    assert.equal(entries.length, 5 + 4 + 2 + 1 + 2, 'nothing else: 5 psql queries, 4 pg queries, 2 startups, 1 SSLRequest, 2 Terminates');

    // The live agent: the same units, the same outcomes, no password in any frame.
    await agent.waitUntil(() => (agent.entries(0, 'postgresql').length >= entries.length ? true : undefined), 60_000, 'the PostgreSQL entry frames');
    const live = agent.entries(0, 'postgresql') as PostgresqlEntry[];
    const outcome = (e: PostgresqlEntry): string => `${e.request.kind} ${e.request.query} -> ${e.response?.error?.code ?? e.response?.commandTags.join(',') ?? '-'} ${e.response?.rows ?? '-'}`;
    assert.deepEqual(live.map(outcome).sort(), entries.map(outcome).sort());
    assert.ok(!JSON.stringify(agent.frames).includes(PASSWORD) && !JSON.stringify(agent.frames).includes(CLEAR_PASSWORD), 'no password in the agent\'s frames');
    assert.equal((await agent.stop()).code, 0);

    // KFL2 on the same capture: the failing queries by SQLSTATE.
    const failed = await runShark(['read', '-o', 'json', file, '--filter', 'postgresql and postgresql_error_code == "42P01"']);
    assert.equal(failed.code, 0, failed.stderr);
    assert.deepEqual(entriesOf(parseNdjson<Entry>(failed.stdout), 'postgresql').map((e) => (e as PostgresqlEntry).request.query).sort(), ['SELECT * FROM missing_table WHERE id = $1', 'SELECT * FROM nope_table']);
  } finally {
    await scope.close();
  }
});
