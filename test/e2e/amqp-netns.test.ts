/**
 * AMQP 0-9-1 from real programs, in network namespaces: Debian's rabbitmq-server (3.10) runs in one
 * namespace with its own node name, data, log and config in a temporary directory (a user with a
 * password from the config, no plugins); amqplib, the Node client, talks to it from another
 * namespace: declares an exchange and a queue, binds, publishes with properties, consumes and
 * acks, cancels, gets (a message, an empty queue, a body of several frames), provokes a channel
 * error (a passive declare of a missing queue: Channel.Close 404) and closes. tcpdump captures
 * the client's side; our CLI reads it back: every method the client sent is one entry (or the
 * answer of one) with the right outcome, the deliveries carry their bodies, and the password is
 * nowhere in the output. The live agent, in the broker's namespace, sends the same entries (the
 * password nowhere in its frames either). The broker and epmd are gone after the test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { AmqpEntry } from '../../src/remote-agent/dissect/amqp/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT, cliCommand } from '../helpers/capture.ts';
import { entriesOf } from '../helpers/entries-of.ts';
import { Scope, addAddress, addVeth, requireNetns, run, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';
import { parseNdjson } from '../helpers/run-cli.ts';

const RABBITMQ = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const SERVER_IP = '10.87.0.1';
const CLIENT_IP = '10.87.0.2';
const USER = 'kshark';
// A password that appears nowhere else: if it is in the output, redaction failed.
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;

const skip = skipFor(requireNetns(['tcpdump']) ?? (existsSync(RABBITMQ) ? null : `${RABBITMQ} is not installed (apt-get install rabbitmq-server)`));

/** Starts rabbitmq-server in `ns`, everything it writes under `dir`; resolves once it listens. */
async function startRabbit(ns: Netns, dir: string): Promise<void> {
  for (const sub of ['mnesia', 'log', 'schema', 'config']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [`listeners.tcp.1 = ${SERVER_IP}:5672`, 'loopback_users = none', `default_user = ${USER}`, `default_pass = ${PASSWORD}`, 'log.console = false', 'log.file.level = warning', ''].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const env = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    RABBITMQ_NODENAME: 'kshark@localhost',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_SCHEMA_DIR: join(dir, 'schema'),
    RABBITMQ_GENERATED_CONFIG_DIR: join(dir, 'config'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, 'feature_flags'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
  };
  const child = ns.spawn(RABBITMQ, [], { cwd: dir, env });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString('utf8')));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`rabbitmq-server exited (${code}): ${output.slice(-2000)}`))));
  await Promise.race([waitForPort(ns, SERVER_IP, 5672, 90_000), exited]);
}

/** Processes whose command line names `dir` (the broker, epmd is checked by name in the namespace's pids). */
async function processesUnder(dir: string): Promise<string[]> {
  const ps = await run('ps', ['-eo', 'pid=,args=']);
  return ps.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes(dir) && !l.includes(' ps '));
}

interface ClientReport {
  readonly queue: string;
  readonly delivered: string;
  readonly second: string;
  readonly empty: boolean;
  readonly big: number;
  readonly missing: string;
}

/** One line per method the client sent, in order: the method, what it names, and its answer. */
function line(e: AmqpEntry): string {
  const q = e.request;
  const name = q.queue ?? q.exchange ?? q.virtualHost ?? '';
  const a = e.response;
  const answer = a === null ? '-' : a.byClose === true ? `${a.method} ${a.replyCode}` : a.method;
  return `ch${q.channel} ${q.method}${name === '' ? '' : ` ${name}`} -> ${answer}${e.error === null ? '' : ` (${e.error.type})`}`;
}

test('amqplib against rabbitmq-server in namespaces, captured and read back: every method once, with its outcome', { skip, timeout: 240_000 }, async (t) => {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'ks-amqp-'));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const server = await scope.netns('amqps');
    const client = await scope.netns('amqpc');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    const started = Date.now();
    await startRabbit(server, join(dir, 'rabbit'));
    t.diagnostic(`rabbitmq-server listening after ${Date.now() - started} ms`);

    // The live agent captures the same traffic on the broker's side, tcpdump on the client's.
    const agent = startAgent(server, ['--iface', 'eth0', '--stats-interval', '250'], { dir: prepareAgentDir(scope), scope, keepRaw: true });
    const hello = await agent.ready();
    assert.ok(hello.protocols?.includes('amqp'), `the hello frame lists amqp: ${JSON.stringify(hello.protocols)}`);
    const file = join(dir, 'amqp.pcap');
    const capture = await Capture.start(client, 'eth0', file);
    const ran = await client.exec(NODE, [join(REPO_ROOT, 'test/e2e/fixtures/amqp-client.ts'), `amqp://${USER}:${PASSWORD}@${SERVER_IP}:5672/`], { cwd: REPO_ROOT });
    await capture.stop();
    assert.equal(ran.code, 0, ran.stderr.toString());
    const report = JSON.parse(ran.stdout.toString('utf8')) as ClientReport;
    assert.deepEqual(
      { ...report, missing: /404/.test(report.missing) },
      { queue: 'jobs', delivered: '{"id":1}', second: 'second', empty: true, big: 300 * 1024, missing: true },
      'the client did what the test says',
    );

    const [cmd, pre] = cliCommand();
    const read = await run(cmd, [...pre, 'read', file, '-o', 'json', '--max-body', '1MiB'], { cwd: REPO_ROOT });
    const stdout = read.stdout.toString('utf8');
    assert.equal(read.code, 0, read.stderr.toString());
    assert.ok(!stdout.includes(PASSWORD) && !read.stderr.toString().includes(PASSWORD), 'the password is nowhere in the output');
    const entries = entriesOf(parseNdjson<Entry>(stdout), 'amqp') as AmqpEntry[];
    entries.sort((a, b) => (a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : 0));
    t.diagnostic(entries.map(line).join('\n'));

    const fromClient = entries.filter((e) => e.request.sender === 'client').map(line);
    assert.deepEqual(fromClient, [
      'ch0 connection open / -> connection open-ok',
      'ch1 channel open -> channel open-ok',
      'ch1 exchange declare orders -> exchange declare-ok',
      'ch1 queue declare jobs -> queue declare-ok',
      'ch1 queue bind jobs -> queue bind-ok',
      'ch1 basic publish orders -> -',
      'ch1 basic consume jobs -> basic consume-ok',
      'ch1 basic ack -> -',
      'ch1 basic cancel -> basic cancel-ok',
      'ch1 basic publish orders -> -',
      'ch1 basic get jobs -> basic get-ok',
      'ch1 basic ack -> -',
      'ch1 basic get jobs -> basic get-empty',
      'ch1 basic publish orders -> -',
      'ch1 basic get jobs -> basic get-ok',
      'ch2 channel open -> channel open-ok',
      'ch2 queue declare no-such-queue -> channel close 404',
      'ch1 channel close -> channel close-ok',
      'ch0 connection close -> connection close-ok',
    ]);
    const fromServer = entries.filter((e) => e.request.sender === 'server').map(line);
    assert.deepEqual(fromServer, [
      'ch0 connection start -> connection start-ok',
      'ch0 connection tune -> connection tune-ok',
      'ch1 basic deliver orders -> -',
      'ch2 channel close -> channel close-ok',
    ]);

    const start = entries.find((e) => e.request.method === 'connection start')!;
    assert.deepEqual([start.response?.mechanism, start.response?.user, start.response?.response], ['PLAIN', USER, '[REDACTED]']);
    const publish = entries.find((e) => e.request.method === 'basic publish')!;
    assert.deepEqual(publish.request.properties, { contentType: 'application/json', headers: { 'x-trace': 'trace-1' }, deliveryMode: 2, correlationId: 'corr-1' });
    assert.deepEqual([publish.request.routingKey, publish.request.body?.text], ['order.created', '{"id":1}']);
    const deliver = entries.find((e) => e.request.method === 'basic deliver')!;
    assert.deepEqual([deliver.request.consumerTag, deliver.request.deliveryTag, deliver.request.body?.text, deliver.request.properties?.correlationId], ['ctag-1', 1, '{"id":1}', 'corr-1']);
    const gets = entries.filter((e) => e.request.method === 'basic get');
    assert.deepEqual([gets[0]!.response?.body?.text, gets[0]!.response?.properties?.messageId], ['second', 'm-2']);
    const bigBody = gets[2]!.response?.body;
    assert.deepEqual([bigBody?.size, bigBody?.text.length, bigBody?.truncated], [300 * 1024, 300 * 1024, undefined], 'a body of three frames joined whole');
    const failed = entries.find((e) => e.request.queue === 'no-such-queue')!;
    assert.deepEqual([failed.request.passive, failed.response?.replyCode, failed.response?.failedMethod], [true, 404, 'queue declare']);

    // The agent saw the same calls, redacted before they left it.
    const sameLines = (list: readonly AmqpEntry[]): string[] => [...list].sort((a, b) => (a.startTime < b.startTime ? -1 : 1)).map(line);
    const dropped = (): boolean => agent.notices('KERNEL_DROPS').length > 0;
    await agent.waitUntil(() => (agent.entries(0, 'amqp').length >= entries.length || dropped() ? true : undefined), 20_000, `${entries.length} AMQP entry frames`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const fromAgent = sameLines(agent.entries(0, 'amqp') as AmqpEntry[]);
    if (dropped()) {
      // The kernel dropped packets the agent needed (the machine was too busy): what it did see
      // must still be among the calls, but it cannot have all of them.
      t.diagnostic(`the agent's capture ring overran (${agent.notices('KERNEL_DROPS')[0]?.message}): ${fromAgent.length} of ${entries.length} entries`);
      const all = new Set(sameLines(entries));
      for (const l of fromAgent) assert.ok(all.has(l) || /\(connection\)$/.test(l), `the agent's ${l} is one of the calls`);
    } else {
      assert.deepEqual(fromAgent, sameLines(entries), 'the live agent: the same entries');
    }
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    assert.ok(!agent.rawStdout().toString('utf8').includes(PASSWORD), 'the password is nowhere in what the agent sent');

    // With redaction off the password is there: it was captured, and redaction is what hid it.
    const raw = await run(cmd, [...pre, 'read', file, '-o', 'json', '--no-redact'], { cwd: REPO_ROOT });
    assert.ok(raw.stdout.toString('utf8').includes(PASSWORD), 'the capture holds the password (read --no-redact shows it)');

    // A KFL2 filter on AMQP's variables selects the failed declare.
    const filtered = await run(cmd, [...pre, 'read', file, '-o', 'json', '--filter', 'amqp and amqp_method == "queue.declare" and response.replyCode == 404'], { cwd: REPO_ROOT });
    assert.deepEqual(entriesOf(parseNdjson<Entry>(filtered.stdout.toString('utf8')), 'amqp').map((e) => (e as AmqpEntry).request.queue), ['no-such-queue']);
  } finally {
    await scope.close();
  }
  // The namespace's processes were killed (SIGKILL): give them a moment to be reaped.
  let left: string[] = [];
  for (let i = 0; i < 50; i++) {
    const epmd = (await run('pgrep', ['-x', 'epmd'])).stdout.toString().trim();
    left = [...(await processesUnder(dir)), ...(epmd === '' ? [] : [`epmd ${epmd}`])];
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(left, [], 'the broker and epmd are gone');
});
