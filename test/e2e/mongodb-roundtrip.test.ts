/**
 * The official `mongodb` driver (7.9.1) against a small responder (test/helpers/mongodb-responder.ts:
 * no MongoDB server installs here), on real sockets between two network namespaces, captured with
 * tcpdump and read back with `kubectl shark read -o json`. The driver's bytes are real: its
 * handshake (legacy OP_QUERY isMaster answered by OP_REPLY), ping, insertMany (a document
 * sequence), find with a getMore, updateOne, deleteOne, a duplicate key (writeErrors) and an
 * unknown command (ok: 0), both of which it surfaces as MongoServerError, endSessions at close; once
 * plain and once with zlib compression (OP_COMPRESSED both ways).
 *
 * The responder logs every message it received; every one must be one entry, exactly once, paired
 * (responseTo == requestID), with its command, database, collection, opcode, compressor and outcome;
 * and the same again with the live agent (`agent.js capture` in the server's namespace).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { isMongodbEntry, type MongodbEntry } from '../../src/remote-agent/dissect/mongodb/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT, readWithCli } from '../helpers/capture.ts';
import { Scope, addAddress, addVeth, requireNetns, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const SERVER_IP = '10.97.0.2';
const CLIENT_IP = '10.97.0.1';
const PORT = 27017;

/** One session of the driver; exits 0 and prints `done` only when every reply was accepted as expected. */
const CLIENT = `
import { MongoClient, MongoServerError } from 'mongodb';
const [uri, compress] = process.argv.slice(1);
const client = new MongoClient(uri, {
  directConnection: true, serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 60000, maxPoolSize: 1,
  ...(compress === 'zlib' ? { compressors: ['zlib'] } : {}),
});
await client.connect();
const db = client.db('shop');
const check = (cond, what) => { if (!cond) throw new Error('unexpected: ' + what); };
check((await db.command({ ping: 1 })).ok === 1, 'ping');
const orders = db.collection(compress === 'zlib' ? 'orders_zlib' : 'orders');
check((await orders.insertMany([{ _id: 1, item: 'pen' }, { _id: 2, item: 'ink' }, { _id: 3, item: 'pad' }])).insertedCount === 3, 'insertMany');
const found = await orders.find({}, { batchSize: 2 }).toArray();
check(found.map((d) => d.item).join() === 'pen,ink,pad', 'find + getMore: ' + JSON.stringify(found));
check((await orders.updateOne({ _id: 1 }, { $set: { item: 'pencil' } })).modifiedCount === 1, 'updateOne');
check((await orders.deleteOne({ _id: 2 })).deletedCount === 1, 'deleteOne');
let dup = null;
try { await orders.insertOne({ _id: 1, item: 'again' }); } catch (e) { dup = e; }
check(dup instanceof MongoServerError && dup.code === 11000, 'duplicate key: ' + dup);
let unknown = null;
try { await db.command({ failMe: 1 }); } catch (e) { unknown = e; }
check(unknown instanceof MongoServerError && unknown.code === 59 && unknown.codeName === 'CommandNotFound', 'unknown command: ' + unknown);
await client.close();
console.log('done');
`;

interface Received {
  readonly port: number;
  readonly requestId: number;
  readonly opcode: string;
  readonly command: string;
  readonly database: string;
  readonly collection: string;
  readonly ok: boolean;
  readonly code: number;
  readonly compressor: number | null;
  readonly moreToCome: boolean;
}

async function session(client: Netns, compress: string): Promise<void> {
  const r = await client.exec(NODE, ['--input-type=module', '-e', CLIENT, `mongodb://${SERVER_IP}:${PORT}/`, compress], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, `${r.stdout.toString('utf8')}\n${r.stderr}`);
  assert.equal(r.stdout.toString('utf8').trim(), 'done');
}

/** What the responder received, as our entries should say it. */
function expected(x: Received): string {
  const compressor = x.compressor === 2 ? 'zlib' : x.compressor === 0 ? 'noop' : '-';
  const outcome = x.moreToCome ? 'no reply expected' : `${x.ok ? 'ok' : `error ${x.code}`} paired`;
  return `${x.port} #${x.requestId} ${x.opcode} ${compressor} ${x.command} ${x.database}.${x.collection} -> ${outcome}`;
}

function actual(e: MongodbEntry): string {
  const r = e.request;
  const res = e.response;
  const paired = res !== null && res.responseTo === r.requestId ? 'paired' : 'unpaired';
  const outcome = res === null && e.error === null && r.moreToCome ? 'no reply expected' : `${res === null ? 'none' : res.success ? 'ok' : `error ${res.errorCode}`} ${paired}`;
  return `${e.src.port} #${r.requestId} ${r.opcode} ${r.compressor ?? '-'} ${r.command} ${r.database}.${r.collection} -> ${outcome}`;
}

const skip = skipFor(requireNetns(['tcpdump']));

interface Setup {
  readonly client: Netns;
  readonly server: Netns;
  readonly dir: string;
  readonly log: string;
}

async function setUp(scope: Scope): Promise<Setup> {
  const client = await scope.netns('mgcli');
  const server = await scope.netns('mgsrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  const dir = prepareAgentDir(scope);
  const log = join(dir, 'received.ndjson');
  server.spawn(NODE, [join(REPO_ROOT, 'test/helpers/mongodb-responder.ts'), SERVER_IP, String(PORT), log], { cwd: REPO_ROOT });
  await waitForPort(client, SERVER_IP, PORT);
  return { client, server, dir, log };
}

function receivedBy(log: string): Received[] {
  return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Received);
}

/** Every message the responder received is exactly one entry, paired, with the right facts and outcome. */
function checkEntries(received: readonly Received[], all: readonly Entry[]): void {
  // What the session must have exercised, as the responder saw it.
  const commands = new Set(received.map((x) => `${x.opcode} ${x.command}`));
  for (const c of ['OP_QUERY ismaster', 'OP_MSG ping', 'OP_MSG insert', 'OP_MSG find', 'OP_MSG getMore', 'OP_MSG update', 'OP_MSG delete', 'OP_MSG failMe', 'OP_MSG endSessions']) {
    assert.ok(commands.has(c), `the driver sent ${c} (${[...commands].join(', ')})`);
  }
  assert.ok(received.some((x) => x.compressor === 2), 'the zlib session sent OP_COMPRESSED');
  assert.ok(received.some((x) => x.code === 11000) && received.some((x) => x.code === 59), 'both errors were answered');

  const entries = all.filter(isMongodbEntry);
  assert.deepEqual(entries.map(actual).sort(), received.map(expected).sort());
  for (const e of entries) assert.equal(e.error, null, `${e.id}: ${e.error?.msg}`);
  const dup = entries.find((e) => e.response?.errorCode === 11000)!;
  assert.match(dup.response!.writeErrors[0]!.errmsg, /E11000 duplicate key/);
  const failed = entries.find((e) => e.request.command === 'failMe')!;
  assert.equal(failed.response!.errorCodeName, 'CommandNotFound');
  assert.equal(failed.response!.errorMessage, "no such command: 'failMe'");
  const insert = entries.find((e) => e.request.command === 'insert' && e.request.sequences.length > 0)!;
  assert.equal(insert.request.sequences[0]!.identifier, 'documents');
  assert.equal(insert.request.sequences[0]!.documents.count, 3);
  assert.match(insert.request.sequences[0]!.documents.text, /"item":"pen"/);
  const handshake = entries.find((e) => e.request.opcode === 'OP_QUERY')!;
  assert.equal(handshake.response!.opcode, 'OP_REPLY');
}

test('mongodb driver sessions (plain and zlib) captured by tcpdump and read back: every command once, paired, right outcome', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server, dir, log } = await setUp(scope);
    const capture = await Capture.start(server, 'eth0', join(dir, 'mongodb.pcap'));
    await session(client, 'plain');
    await session(client, 'zlib');
    await capture.stop();
    const received = receivedBy(log);
    const read = await readWithCli(capture.file);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(read.stderr);
    t.diagnostic(`${received.length} messages received by the responder, ${read.all.filter(isMongodbEntry).length} MongoDB entries read`);
    checkEntries(received, read.all);
  } finally {
    await scope.close();
  }
});

test('live agent in the server namespace: the same commands as entry frames', { skip, timeout: 180_000 }, async () => {
  const scope = new Scope();
  try {
    const { client, server, dir, log } = await setUp(scope);
    const agent = startAgent(server, ['--iface', 'eth0'], { dir, scope });
    await agent.ready();
    await session(client, 'plain');
    await session(client, 'zlib');
    const received = receivedBy(log);
    await agent.waitFor(() => agent.allEntries().filter(isMongodbEntry).length >= received.length, 20_000, `${received.length} entries`);
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    assert.equal(agent.internalError, null);
    checkEntries(received, agent.allEntries());
  } finally {
    await scope.close();
  }
});
