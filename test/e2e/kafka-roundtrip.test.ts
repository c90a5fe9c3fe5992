/**
 * Real Kafka client traffic between two network namespaces: the pinned `kafkajs` client producing
 * to a topic and polling it in a consumer group, against the small test broker
 * (test/helpers/kafka-broker.ts: no Kafka server can be installed here). kafkajs must accept every
 * answer (the test asserts what its producer and consumer got back), so both directions are real
 * client-checked. Captured with tcpdump in the broker's namespace and read back with
 * `kubectl shark read -o json`: every request kafkajs made (the broker's log of what it received)
 * must come out exactly once, paired with its answer, with its API name, version and topics; and
 * the same from the live agent capturing in the broker's namespace.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { test } from 'node:test';
import { requestTopics } from '../../src/remote-agent/dissect/kafka/descriptor.ts';
import { isKafkaEntry, type KafkaEntry } from '../../src/remote-agent/dissect/kafka/entry.ts';
import { apiKeyName } from '../../src/remote-agent/dissect/kafka/api-keys.ts';
import type { Entry } from '../../src/model/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT, readWithCli } from '../helpers/capture.ts';
import { Scope, addAddress, addVeth, requireNetns, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const SERVER_IP = '10.96.16.2';
const CLIENT_IP = '10.96.16.1';
const PORT = 9092;

/** Why the agent test cannot run: the agent bundle is built by `npm run build`. */
function agentMissing(): string | null {
  return existsSync(join(REPO_ROOT, 'dist/agent/agent.js')) ? null : 'dist/agent/agent.js is missing: run npm run build';
}

/** kafkajs: a producer's two sends, then a consumer group that polls the three messages and commits. */
const CLIENT = `
import kafkajs from 'kafkajs';
const { Kafka, logLevel } = kafkajs;
const [broker] = process.argv.slice(1);
const kafka = new Kafka({ clientId: 'shop-api', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const sent = [];
sent.push(await producer.send({ topic: 'orders', messages: [{ key: 'o-1', value: 'pen' }, { key: 'o-2', value: 'ink' }] }));
sent.push(await producer.send({ topic: 'orders', messages: [{ key: 'o-3', value: 'paper' }] }));
await producer.disconnect();
const consumer = kafka.consumer({ groupId: 'billing', heartbeatInterval: 100 });
await consumer.connect();
await consumer.subscribe({ topic: 'orders', fromBeginning: true });
const received = [];
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no messages in 20 s')), 20000);
  consumer.run({ eachMessage: async ({ message, partition }) => {
    received.push({ partition, offset: message.offset, key: message.key?.toString(), value: message.value?.toString() });
    if (received.length === 3) { clearTimeout(timer); resolve(); }
  } }).catch(reject);
});
await consumer.commitOffsets([{ topic: 'orders', partition: 0, offset: '3' }]);
await consumer.disconnect();
console.log(JSON.stringify({ sent, received }));
`;

interface BrokerRecord {
  readonly event: 'request' | 'answer';
  readonly port: number;
  readonly correlationId: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly topics: readonly string[];
}

const skip = skipFor(requireNetns(['tcpdump']));

interface Session {
  readonly client: Netns;
  readonly server: Netns;
  readonly log: BrokerRecord[];
  brokerErr(): string;
}

/** Two namespaces joined by a veth pair, the test broker listening in the server's. */
async function setUp(scope: Scope): Promise<Session> {
  const client = await scope.netns('kcli');
  const server = await scope.netns('ksrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  const broker = server.spawn(NODE, [join(REPO_ROOT, 'test/helpers/kafka-broker.ts'), SERVER_IP, String(PORT)], { cwd: REPO_ROOT });
  const log: BrokerRecord[] = [];
  let err = '';
  broker.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
  createInterface({ input: broker.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) log.push(JSON.parse(line) as BrokerRecord);
  });
  await waitForPort(client, SERVER_IP, PORT);
  return { client, server, log, brokerErr: () => err };
}

/** kafkajs's session; asserts what it got back (the broker's answers, as the test-side encoder wrote them). */
async function runKafkajs(session: Session): Promise<void> {
  const r = await session.client.exec(NODE, ['--input-type=module', '-e', CLIENT, `${SERVER_IP}:${PORT}`], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, `kafkajs failed: ${r.stderr.toString()} ${session.brokerErr()}`);
  const result = JSON.parse(r.stdout.toString('utf8').trim()) as {
    sent: { topicName: string; errorCode: number; baseOffset: string }[][];
    received: { partition: number; offset: string; key: string; value: string }[];
  };
  assert.deepEqual(result.sent.map((s) => s.map((x) => [x.topicName, x.errorCode, x.baseOffset])), [[['orders', 0, '0']], [['orders', 0, '2']]]);
  assert.deepEqual(result.received, [
    { partition: 0, offset: '0', key: 'o-1', value: 'pen' },
    { partition: 0, offset: '1', key: 'o-2', value: 'ink' },
    { partition: 0, offset: '2', key: 'o-3', value: 'paper' },
  ]);
  assert.equal(session.brokerErr(), '', 'the broker read every request');
}

/** Every request the broker received is exactly one entry, paired when it was answered, with its API, version and topics. */
function checkAgainstBroker(all: readonly Entry[], log: readonly BrokerRecord[]): void {
  const entries = all.filter(isKafkaEntry);
  const requests = log.filter((x) => x.event === 'request');
  const answered = new Set(log.filter((x) => x.event === 'answer').map((x) => `${x.port}/${x.correlationId}`));
  assert.ok(requests.length >= 15, `${requests.length} requests`);
  const seen = new Map<string, KafkaEntry[]>();
  for (const e of entries) {
    const key = `${e.src.port}/${e.request.correlationID}`;
    seen.set(key, [...(seen.get(key) ?? []), e]);
  }
  const problems: string[] = [];
  for (const q of requests) {
    const key = `${q.port}/${q.correlationId}`;
    const found = seen.get(key) ?? [];
    if (found.length !== 1) {
      problems.push(`${apiKeyName(q.apiKey)} ${key}: ${found.length} entries`);
      continue;
    }
    const e = found[0]!;
    const row = [e.request.apiKey, e.request.apiKeyName, e.request.apiVersion, e.request.clientID, requestTopics(e.request.payload), e.request.decoded];
    const want = [q.apiKey, apiKeyName(q.apiKey), q.apiVersion, 'shop-api', q.topics, 'body'];
    if (JSON.stringify(row) !== JSON.stringify(want)) problems.push(`${key}: ours ${JSON.stringify(row)}, broker ${JSON.stringify(want)}`);
    if (answered.has(key)) {
      if (e.response === null) problems.push(`${key} ${e.request.apiKeyName}: no response`);
      else if (e.response.decoded !== 'body' || e.response.errorCode !== 0) problems.push(`${key}: response ${e.response.decoded} ${e.response.errorName} ${e.response.note ?? ''}`);
    } else if (e.response !== null) problems.push(`${key}: a response the broker never sent`);
  }
  assert.deepEqual(problems, []);
  assert.equal(entries.length, requests.length, 'no entry beyond the requests kafkajs made');
  assert.equal(all.length, entries.length, 'nothing else');

  const names = new Set(entries.map((e) => e.request.apiKeyName));
  for (const n of ['ApiVersions', 'Metadata', 'Produce', 'FindCoordinator', 'JoinGroup', 'SyncGroup', 'OffsetFetch', 'ListOffsets', 'Fetch', 'OffsetCommit', 'LeaveGroup']) {
    assert.ok(names.has(n), `a ${n} entry`);
  }
  // The record batches: the produce of two messages, and a fetch that returned all three.
  const produce = entries.find((e) => e.request.apiKeyName === 'Produce')!;
  const records = ((produce.request.payload['topicData'] as { partitions: { records: { recordCount: number; sample: { key: string; value: string }[] } }[] }[])[0]!).partitions[0]!.records;
  assert.equal(records.recordCount, 2);
  assert.deepEqual(records.sample.map((s) => [s.key, s.value]), [['o-1', 'pen'], ['o-2', 'ink']]);
  const fetched = entries
    .filter((e) => e.request.apiKeyName === 'Fetch' && e.response !== null)
    .map((e) => (e.response!.payload['responses'] as { partitions: { records: { recordCount: number } | null }[] }[])[0]?.partitions[0]?.records?.recordCount ?? 0);
  assert.ok(fetched.includes(3), `a fetch answered with the 3 records (${fetched.join(',')})`);
}

test('kafkajs producer and consumer group against the test broker, captured and read back: every request once, paired', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const session = await setUp(scope);
    const dir = mkdtempSync(join(tmpdir(), 'kshark-kafka-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const capture = await Capture.start(session.server, 'eth0', join(dir, 'kafka.pcap'));
    await runKafkajs(session);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await capture.stop();
    const read = await readWithCli(capture.file);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(read.stderr.trim());
    assert.match(read.stderr, / 0 unpaired requests, 0 gaps/);
    checkAgainstBroker(read.all, session.log);
  } finally {
    await scope.close();
  }
});

test('the live agent in the broker namespace: the same requests as entry frames', { skip: skip || skipFor(agentMissing()), timeout: 180_000 }, async () => {
  const scope = new Scope();
  try {
    const session = await setUp(scope);
    const dir = prepareAgentDir(scope);
    const agent = startAgent(session.server, ['--iface', 'eth0'], { dir, scope });
    await agent.ready();
    await runKafkajs(session);
    const requests = () => session.log.filter((x) => x.event === 'request').length;
    await agent.waitFor(() => agent.allEntries().length >= requests(), 20_000, `${requests()} entries`);
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    assert.equal(agent.internalError, null);
    checkAgainstBroker(agent.allEntries(), session.log);
  } finally {
    await scope.close();
  }
});
