/**
 * The live agent on the data protocols, end to end: Debian's redis-server, PostgreSQL 15 and
 * MariaDB 10.11 in one server namespace, their own clients (redis-cli, psql, mariadb) in another,
 * and two agents in the server's namespace: one as tap starts it, one with `--no-redact`.
 * - the hello frame lists every data protocol;
 * - each command and statement the clients sent comes out once, with its outcome (a Redis error,
 *   PostgreSQL's 23505, MariaDB's 1062);
 * - no password leaves the redacting agent: Redis AUTH masked by the descriptor's redact, the
 *   PostgreSQL cleartext password and MariaDB's auth data not even kept by the parsers, so they are
 *   absent from the `--no-redact` agent's output as well.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { summarizeEntry } from '../../src/remote-agent/dissect/descriptors.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { startMariadb, startPostgres, startRedis } from '../helpers/database-servers.ts';
import { Scope, addAddress, addVeth, requireNetns, type ExecResult } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['redis-server', 'redis-cli', 'psql', 'mariadbd', 'mariadb', 'mariadb-install-db', 'runuser']));
const CLIENT_IP = '10.96.0.1';
const SERVER_IP = '10.96.0.2';
const REDIS_PASSWORD = 'agent-redis-pw-7f3a';
const PG_PASSWORD = 'agent-pg-pw-91c2';
const MARIA = { user: 'shark', password: 'agent-maria-pw-5d0e', database: 'shop' } as const;
const DATA_PROTOCOLS = ['redis', 'postgresql', 'mysql', 'kafka', 'amqp', 'mongodb'];

function describe(entries: readonly Entry[]): string {
  return entries
    .map((e) => {
      const r = summarizeEntry(e);
      return `${e.protocol.name} :${e.src.port} ${r.verb} ${r.target} -> ${r.outcome}`;
    })
    .join('\n');
}

test('live agent: Redis, PostgreSQL and MariaDB from real servers and clients, each call once, no password out of the agent', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const client = await scope.netns('dcli');
    const server = await scope.netns('dsrv');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    await startRedis(scope, server, SERVER_IP, REDIS_PASSWORD);
    await startPostgres(scope, server, SERVER_IP, PG_PASSWORD);
    await startMariadb(scope, server, SERVER_IP, MARIA);

    const redacting = startAgent(server, ['--iface', 'eth0', '--stats-interval', '250'], { dir: prepareAgentDir(scope), scope, keepRaw: true });
    const open = startAgent(server, ['--iface', 'eth0', '--stats-interval', '250', '--no-redact'], { dir: prepareAgentDir(scope), scope, keepRaw: true });
    for (const agent of [redacting, open]) {
      const hello = await agent.ready();
      for (const p of DATA_PROTOCOLS) assert.ok(hello.protocols?.includes(p), `the hello frame lists ${p}: ${JSON.stringify(hello.protocols)}`);
    }

    // Redis: one connection per redis-cli call, AUTH first; the INCR of a string fails.
    const redis = async (...args: string[]): Promise<void> => {
      await client.execOk('redis-cli', ['-h', SERVER_IP, '-a', REDIS_PASSWORD, '--no-auth-warning', ...args]);
    };
    await redis('SET', 'agent:greeting', 'hello');
    await redis('GET', 'agent:greeting');
    await redis('INCR', 'agent:greeting');
    // PostgreSQL: psql sends each -c as one simple query; the second INSERT breaks the primary key.
    const psqlEnv = { ...process.env, PGPASSWORD: PG_PASSWORD, PGCONNECT_TIMEOUT: '5' };
    const psql = (...sql: string[]): Promise<ExecResult> => client.exec('psql', ['-h', SERVER_IP, '-U', 'postgres', '-d', 'postgres', '-X', '-q', ...sql.flatMap((s) => ['-c', s])], { env: psqlEnv });
    const pgOk = await psql('CREATE TABLE agent_items (id int PRIMARY KEY)', 'INSERT INTO agent_items VALUES (1)', 'SELECT 40 + 2 AS answer');
    assert.equal(pgOk.code, 0, pgOk.stderr);
    assert.match((await psql('INSERT INTO agent_items VALUES (1)')).stderr, /duplicate key/);
    // MariaDB: the same, through the mariadb client in batch mode (one COM_QUERY per statement).
    const maria = (sql: string): Promise<ExecResult> => client.exec('mariadb', ['--no-defaults', '-h', SERVER_IP, '-u', MARIA.user, `-p${MARIA.password}`, MARIA.database, '-e', sql]);
    const myOk = await maria('CREATE TABLE agent_items (id int PRIMARY KEY); INSERT INTO agent_items VALUES (1); SELECT 40 + 2 AS answer');
    assert.equal(myOk.code, 0, myOk.stderr);
    assert.match((await maria('INSERT INTO agent_items VALUES (1)')).stderr, /ERROR 1062/);

    const wanted = (agent: AgentProcess): boolean => {
      const rows = agent.allEntries().map((e) => summarizeEntry(e));
      return (
        rows.filter((r) => /INCR/i.test(r.verb)).length === 1 &&
        rows.filter((r) => /SELECT 40 \+ 2/.test(r.target)).length >= 2 &&
        rows.filter((r) => /INSERT INTO agent_items/.test(r.target)).length >= 4
      );
    };
    for (const agent of [redacting, open]) await agent.waitUntil(() => (wanted(agent) ? true : undefined), 20_000, 'the last call of each protocol');
    // Entries still in flight (the last statements' replies) have had their chance.
    await new Promise((resolve) => setTimeout(resolve, 500));

    for (const [name, agent] of [['redacting', redacting], ['--no-redact', open]] as const) {
      const all = agent.allEntries();
      t.diagnostic(`${name}:\n${describe(all)}`);
      const of = (p: string): Entry[] => all.filter((e) => e.protocol.name === p);
      // Redis: AUTH, then the command, per connection; each once.
      const redisRows = of('redis').map((e) => summarizeEntry(e));
      assert.deepEqual(redisRows.map((r) => r.verb.toUpperCase()).sort(), ['AUTH', 'AUTH', 'AUTH', 'GET', 'INCR', 'SET'], `${name}: Redis commands`);
      assert.equal(redisRows.find((r) => /INCR/i.test(r.verb))?.isError, true, 'INCR of a string fails');
      // PostgreSQL: each statement once; the duplicate key is 23505.
      const pg = of('postgresql').map((e) => summarizeEntry(e));
      const pgStatements = pg.filter((r) => /agent_items|40 \+ 2/.test(r.target));
      assert.equal(pgStatements.length, 4, `${name}: PostgreSQL statements:\n${describe(of('postgresql'))}`);
      const pgInserts = pgStatements.filter((r) => /INSERT/.test(r.target));
      assert.deepEqual(pgInserts.map((r) => r.isError).sort(), [false, true]);
      assert.match(pgInserts.find((r) => r.isError)!.outcome, /23505/);
      // MariaDB: each statement once; the duplicate key is 1062.
      const my = of('mysql').map((e) => summarizeEntry(e));
      const myStatements = my.filter((r) => /agent_items|40 \+ 2/.test(r.target));
      assert.equal(myStatements.length, 4, `${name}: MariaDB statements:\n${describe(of('mysql'))}`);
      const myInserts = myStatements.filter((r) => /INSERT/.test(r.target));
      assert.deepEqual(myInserts.map((r) => r.isError).sort(), [false, true]);
      assert.match(myInserts.find((r) => r.isError)!.outcome, /1062/);
    }

    // Passwords: none leaves the redacting agent; the parsers never keep PostgreSQL's or MariaDB's.
    const raw = redacting.rawStdout().toString('latin1');
    for (const pw of [REDIS_PASSWORD, PG_PASSWORD, MARIA.password]) assert.ok(!raw.includes(pw), `the redacting agent's output holds ${pw}`);
    const openRaw = open.rawStdout().toString('latin1');
    for (const pw of [PG_PASSWORD, MARIA.password]) assert.ok(!openRaw.includes(pw), `the --no-redact agent's output holds ${pw}`);
    // With redaction off the AUTH argument is shown as captured (docs/redaction.md): the traffic carried it.
    assert.ok(openRaw.includes(REDIS_PASSWORD), 'with --no-redact the Redis AUTH argument is shown as captured');

    for (const agent of [redacting, open]) {
      const exit = await agent.stop();
      assert.equal(exit.code, 0);
      assert.equal(agent.lastStats()?.internalErrors ?? 0, 0);
    }
  } finally {
    await scope.close();
  }
});
