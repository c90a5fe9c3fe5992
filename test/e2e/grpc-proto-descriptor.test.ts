/**
 * `--proto-descriptor` end to end. A real @grpc/grpc-js server and client (test/fixtures/grpc/
 * shark_test.proto, loaded with @grpc/proto-loader, so protobufjs encodes the messages) in two
 * network namespaces: unary Say (with 64-bit, nested, repeated, bytes, enum and map fields),
 * server-streaming Count, client-streaming Sum, bidi Chat, a gzip channel, and an error status.
 * Captured with tcpdump, read back with `kubectl shark read --proto-descriptor SET` (the set made
 * by protoc here), and dissected live by the agent with `capture --proto-descriptor` (the
 * push-down tap uses). Without the flag the same messages show as protobuf wire fields. A bad
 * descriptor file ends `read` and `tap` with one message and exit 2 (1 when it cannot be read).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { GrpcCall } from '../../src/remote-agent/dissect/grpc/entry.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { Capture, NODE, REPO_ROOT, cliCommand, readWithCli } from '../helpers/capture.ts';
import { Scope, addAddress, addVeth, requireNetns, run, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';
import { requireBuild, runTap } from '../helpers/tap.ts';

const SERVER_IP = '10.97.0.2';
const CLIENT_IP = '10.97.0.1';
const PORT = 50051;
const PROTO = join(REPO_ROOT, 'test/fixtures/grpc/shark_test.proto');

const work = mkdtempSync(join(tmpdir(), 'shark-grpc-e2e-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The set a user makes: `protoc --include_imports -o`. */
const SET = join(work, 'shark_test.pb');
execFileSync('protoc', [`-I${join(REPO_ROOT, 'test/fixtures/grpc')}`, '--include_imports', `-o${SET}`, 'shark_test.proto']);

const LOADER = `
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
const def = protoLoader.loadSync(${JSON.stringify(PROTO)}, { longs: String, enums: String, defaults: false });
const { Echo } = grpc.loadPackageDefinition(def).sharktest;
`;

/** Say echoes (or fails with reply_status), Count streams, Sum adds, Chat answers each message. */
const SERVER =
  LOADER +
  `
const server = new grpc.Server({ 'grpc.default_compression_algorithm': 2 });
server.addService(Echo.service, {
  Say(call, cb) {
    const r = call.request;
    if (r.replyStatus) return cb({ code: r.replyStatus, details: 'no such user: café 100%' });
    cb(null, { text: 'hi ' + r.from.name, big: r.big, echoed: r.from, mood: 'MOOD_HAPPY' });
  },
  Count(call) {
    for (let i = 0; i < call.request.count; i++) call.write({ index: i, text: call.request.prefix + i });
    call.end();
  },
  Sum(call, cb) {
    let total = 0n, count = 0;
    call.on('data', (m) => { total += BigInt(m.number); count++; });
    call.on('end', () => cb(null, { total: total.toString(), count }));
  },
  Chat(call) {
    call.on('data', (m) => call.write({ user: 'server', text: 'got ' + m.text, seq: m.seq }));
    call.on('end', () => call.end());
  },
});
server.bindAsync('0.0.0.0:${PORT}', grpc.ServerCredentials.createInsecure(), (err) => { if (err) throw err; });
`;

const CLIENT =
  LOADER +
  `
const target = process.argv[1];
const plain = new Echo(target, grpc.credentials.createInsecure());
const zipped = new Echo(target, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
const unary = (client, method, req) => new Promise((resolve) => client[method](req, (err, res) => resolve(err ? { code: err.code } : res)));
await unary(plain, 'Say', {
  text: 'hello', password: 'hunter2', big: '-9007199254740993', huge: '18446744073709551615', delta: '-5', stamp: '1234',
  loud: true, ratio: 0.5, blob: Buffer.from([0, 1, 2, 255]), mood: 'MOOD_GRUMPY',
  from: { name: 'Ann', age: 41, address: { street: 'Main St', city: 'Springfield', zip: 12345 }, tags: ['a', 'b'] },
  friends: [{ name: 'Bob' }, { name: 'Cy' }], numbers: [1, -2, 3], labels: { env: 'prod' },
});
await unary(plain, 'Say', { text: 'who', replyStatus: 5, from: { name: 'Zed' } });
await new Promise((resolve, reject) => { const s = plain.Count({ count: 3, prefix: 'n' }); s.on('data', () => {}); s.on('end', resolve); s.on('error', reject); });
await new Promise((resolve, reject) => {
  const s = plain.Sum((err) => (err ? reject(err) : resolve()));
  for (const n of ['1', '2', '9007199254740993']) s.write({ number: n });
  s.end();
});
await new Promise((resolve, reject) => {
  const s = plain.Chat(); let got = 0;
  s.on('data', () => { if (++got === 2) s.end(); }); s.on('end', resolve); s.on('error', reject);
  s.write({ user: 'ann', text: 'one', seq: '1', password: 'pw1' }); s.write({ user: 'ann', text: 'two', seq: '2' });
});
await unary(zipped, 'Say', { text: 'z'.repeat(200), from: { name: 'Gz' } });
plain.close(); zipped.close();
console.log('done');
`;

const SAY_REQUEST = {
  text: 'hello',
  password: 'hunter2',
  big: '-9007199254740993',
  huge: '18446744073709551615',
  delta: '-5',
  stamp: '1234',
  loud: true,
  ratio: 0.5,
  blob: 'AAEC/w==',
  mood: 'MOOD_GRUMPY',
  from: { name: 'Ann', age: 41, address: { street: 'Main St', city: 'Springfield', zip: 12345 }, tags: ['a', 'b'] },
  friends: [{ name: 'Bob' }, { name: 'Cy' }],
  numbers: [1, -2, 3],
  labels: { env: 'prod' },
};

/** [method, status, request JSONs, response JSONs, encodings] per call, in capture order. */
type CallRow = [string, string | null, unknown[], unknown[], string];

const EXPECTED: CallRow[] = [
  ['Say', 'OK', [SAY_REQUEST], [{ text: 'hi Ann', big: '-9007199254740993', echoed: SAY_REQUEST.from, mood: 'MOOD_HAPPY' }], 'identity/identity'],
  ['Say', 'NOT_FOUND', [{ text: 'who', from: { name: 'Zed' }, replyStatus: 5 }], [], 'identity/identity'],
  ['Count', 'OK', [{ count: 3, prefix: 'n' }], [{ text: 'n0' }, { index: 1, text: 'n1' }, { index: 2, text: 'n2' }], 'identity/identity'],
  ['Sum', 'OK', [{ number: '1' }, { number: '2' }, { number: '9007199254740993' }], [{ total: '9007199254740996', count: 3 }], 'identity/identity'],
  ['Chat', 'OK', [{ user: 'ann', text: 'one', seq: '1', password: 'pw1' }, { user: 'ann', text: 'two', seq: '2' }], [{ user: 'server', text: 'got one', seq: '1' }, { user: 'server', text: 'got two', seq: '2' }], 'identity/identity'],
  // grpc-js compresses what the client sends; its server answers in identity (it has no server-side compression setting).
  ['Say', 'OK', [{ text: 'z'.repeat(200), from: { name: 'Gz' } }], [{ text: 'hi Gz', echoed: { name: 'Gz' }, mood: 'MOOD_HAPPY' }], 'gzip/identity'],
];

function grpcCalls(entries: readonly Entry[]): GrpcCall[] {
  return entries.flatMap((e) => {
    const g = (e as { grpc?: GrpcCall }).grpc;
    return g === undefined ? [] : [g];
  });
}

function rowsOf(calls: readonly GrpcCall[]): CallRow[] {
  return calls.map((c) => [c.method, c.statusName, c.requestMessages.map((m) => m.json), c.responseMessages.map((m) => m.json), `${c.requestEncoding}/${c.responseEncoding}`]);
}

async function setUp(scope: Scope): Promise<{ client: Netns; server: Netns }> {
  const client = await scope.netns('grpccli');
  const server = await scope.netns('grpcsrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  server.spawn(NODE, ['--input-type=module', '-e', SERVER], { cwd: REPO_ROOT });
  await waitForPort(client, SERVER_IP, PORT);
  return { client, server };
}

async function calls(client: Netns): Promise<void> {
  const r = await client.exec(NODE, ['--input-type=module', '-e', CLIENT, `${SERVER_IP}:${PORT}`], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString('utf8').trim(), 'done');
}

const skip = skipFor(requireNetns(['tcpdump', 'protoc']));

test('grpc-js calls captured by tcpdump: read --proto-descriptor shows every message as its type JSON; without it, wire fields', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { client, server } = await setUp(scope);
    const capture = await Capture.start(server, 'eth0', join(work, 'grpc.pcap'));
    await calls(client);
    await capture.stop();
    const read = await readWithCli(capture.file, ['--proto-descriptor', SET, '--no-redact']);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(read.stderr.trim());
    const decoded = grpcCalls(read.all);
    assert.deepEqual(rowsOf(decoded), EXPECTED);
    for (const c of decoded) {
      assert.equal(c.service, 'sharktest.Echo');
      for (const m of [...c.requestMessages, ...c.responseMessages]) {
        assert.equal(m.type, `sharktest.${c.method === 'Say' ? (c.requestMessages.includes(m) ? 'SayRequest' : 'SayReply') : typeOf(c.method, c.requestMessages.includes(m))}`);
        assert.equal(m.error, undefined);
      }
    }
    assert.equal(decoded[1]!.message, 'no such user: café 100%');
    const gz = decoded[5]!.requestMessages[0]!;
    assert.ok(gz.compressed && gz.decodedSize! > gz.size, `gzip: ${gz.size} -> ${gz.decodedSize}`);

    const plain = grpcCalls((await readWithCli(capture.file, ['--no-redact'])).all);
    assert.equal(plain.length, EXPECTED.length);
    assert.ok(plain.every((c) => [...c.requestMessages, ...c.responseMessages].every((m) => m.json === undefined && m.type === undefined)));
    assert.deepEqual(plain[2]!.responseMessages[2]!.fields, [{ no: 1, wire: 'varint', value: 2 }, { no: 2, wire: 'len', string: 'n2' }]);
    assert.deepEqual(plain[3]!.requestMessages[2]!.fields, [{ no: 1, wire: 'varint', value: '9007199254740993' }]);
  } finally {
    await scope.close();
  }
});

test('the agent with capture --proto-descriptor (what tap pushes down) decodes the same calls live, and redacts them in the pod', { skip, timeout: 180_000 }, async () => {
  const scope = new Scope();
  try {
    const { client, server } = await setUp(scope);
    const dir = prepareAgentDir(scope);
    const live = async (flags: readonly string[]): Promise<Entry[]> => {
      const agent = startAgent(server, ['--iface', 'eth0', ...flags, `--proto-descriptor=${SET}`], { dir, scope });
      await agent.ready();
      await calls(client);
      await agent.waitFor(() => grpcCalls(agent.allEntries()).length >= EXPECTED.length, 20_000, `${EXPECTED.length} gRPC calls`);
      const exit = await agent.stop();
      assert.equal(exit.code, 0);
      assert.equal(agent.internalError, null);
      return agent.allEntries();
    };
    assert.deepEqual(rowsOf(grpcCalls(await live(['--no-redact']))), EXPECTED);

    // Redaction on (the default): the schema's JSON is redacted by key before it leaves, and the
    // raw bodies that hold the same bytes are dropped.
    const redacted = await live([]);
    const say = grpcCalls(redacted)[0]!;
    assert.equal((say.requestMessages[0]!.json as { password: string }).password, '[REDACTED]');
    assert.equal((grpcCalls(redacted)[4]!.requestMessages[0]!.json as { password: string }).password, '[REDACTED]');
    // Nowhere in the entries, nor in a base64 body's bytes.
    const bodies = redacted.flatMap((e) => {
      const h = e as { request?: { postData?: { text?: string } | null } | null; response?: { content?: { text?: string } } | null };
      return [h.request?.postData?.text, h.response?.content?.text].filter((t): t is string => typeof t === 'string');
    });
    const all = JSON.stringify(redacted) + bodies.map((b) => Buffer.from(b, 'base64').toString('latin1')).join('');
    for (const secret of ['hunter2', 'pw1']) assert.ok(!all.includes(secret), `${secret} left the agent`);
  } finally {
    await scope.close();
  }
});

function typeOf(method: string, request: boolean): string {
  return { Count: request ? 'CountRequest' : 'CountReply', Sum: request ? 'SumRequest' : 'SumReply', Chat: 'ChatMessage' }[method]!;
}

test('a bad --proto-descriptor: read and tap end with one message saying what, where and what to do, exit 2 (1: unreadable)', async () => {
  const source = join(work, 'source.proto');
  writeFileSync(source, 'syntax = "proto3";\n');
  const junk = join(work, 'junk.pb');
  writeFileSync(junk, Buffer.from([0xff, 0xff, 0xff, 0xff]));
  const missing = join(work, 'missing.pb');
  const HOW = 'write one with `protoc --include_imports -o FILE.pb your.proto` or `buf build -o FILE.pb`';
  const cases: Array<[string, number, string]> = [
    [source, 2, `--proto-descriptor ${source}: this is .proto source text; the flag takes the compiled FileDescriptorSet: ${HOW}`],
    [junk, 2, `--proto-descriptor ${junk}: not a FileDescriptorSet (premature EOF): ${HOW}`],
    [missing, 1, `--proto-descriptor ${missing}: cannot read the file (ENOENT: no such file or directory, open '${missing}')`],
  ];
  const [cmd, pre] = cliCommand();
  for (const [file, code, message] of cases) {
    const r = await run(cmd, [...pre, 'read', '--proto-descriptor', file, join(REPO_ROOT, 'test/fixtures/pcaps/http2/grpc-unary-port50051.pcap'), '-o', 'json'], { cwd: REPO_ROOT });
    assert.equal(r.code, code, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.equal(r.stderr, `kubectl shark read: ${message}\n${code === 2 ? "Run 'kubectl shark read --help' for usage.\n" : ''}`);
  }
  if (requireBuild() === null) {
    for (const [file, code, message] of cases) {
      // Checked before the kubeconfig (which does not exist here) and before any API call.
      const r = await runTap(join(work, 'no-kubeconfig'), ['--proto-descriptor', file, '-o', 'json']);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stderr, `kubectl shark tap: ${message}\n${code === 2 ? "Run 'kubectl shark tap --help' for usage.\n" : ''}`);
    }
  }
});
