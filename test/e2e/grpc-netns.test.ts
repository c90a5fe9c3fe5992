/**
 * Real gRPC between two network namespaces (acceptance point 2 of issue 13): the `@grpc/grpc-js`
 * server and client of test/helpers/grpc-service.ts on shark_test.proto, as their own Node
 * processes, making unary, server-streaming, client-streaming and bidi calls, a call ending with
 * every status code 1..16, a deadline the server sleeps past, and gzip-compressed requests, one
 * channel (one HTTP/2 connection) for the plain calls and one for the gzip ones. tcpdump and the
 * live agent watch the server's side; the capture is read back with `kubectl shark read -o json`,
 * without a schema and with `--proto-descriptor` (a FileDescriptorSet `protoc -o` makes here), and
 * the agent decodes without a schema (clean link) and with it (impaired link).
 * Every call must come out exactly once with its status, status name, message counts, sizes and
 * messages (test/e2e/fixtures/grpc-expect.ts). Then the same over the impairing relay
 * (reordering, duplication, loss, GSO frames cut into MTU-sized segments).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { NODE, REPO_ROOT, readWithCli } from '../helpers/capture.ts';
import { GRPC_SERVICE_SCRIPT as SERVICE_SCRIPT, PROTO_FILE, statusName, type CallRecord } from '../helpers/grpc-service.ts';
import { Scope, requireNetns, run, runOk, waitForPort } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';
import { checkGrpcEntries, grpcEntries } from './fixtures/grpc-expect.ts';
import { assertNoDifferences } from './fixtures/differences.ts';
import { observe, type ObservedRun } from './fixtures/observed-run.ts';
import { SERVER_IP, cleanTopology, impairedTopology, type Topology } from './fixtures/traffic.ts';

const skip = skipFor(requireNetns(['tcpdump', 'tshark', 'protoc']));
const PORT = 50051;
/** The large call's 120 kB messages are kept whole, as `read` (16 MiB) keeps them. */
const AGENT_ARGS = ['--max-body', '1m'];
const SEED = Number(process.env.KS_E2E_SEED ?? '20261206');

/** Starts the gRPC server in the server namespace and waits until the client can reach it. */
async function startServer(topo: Topology): Promise<void> {
  topo.server.spawn(NODE, [SERVICE_SCRIPT, 'server', '0.0.0.0', String(PORT)], { cwd: REPO_ROOT });
  await waitForPort(topo.client, SERVER_IP, PORT, 20_000);
}

/** The client's whole plan; its account of every call, one JSON line each. */
async function runClient(topo: Topology): Promise<CallRecord[]> {
  const r = await topo.client.exec(NODE, [SERVICE_SCRIPT, 'client', `${SERVER_IP}:${PORT}`], { cwd: REPO_ROOT });
  assert.equal(r.code, 0, `the gRPC client failed: ${r.stderr}`);
  return r.stdout.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as CallRecord);
}

/** protoc -o: the FileDescriptorSet of shark_test.proto, as `--proto-descriptor` takes it. */
async function descriptorSet(dir: string): Promise<string> {
  const out = join(dir, 'shark_test.pb');
  const protoDir = join(PROTO_FILE, '..');
  await runOk('protoc', [`--proto_path=${protoDir}`, '--include_imports', `--descriptor_set_out=${out}`, PROTO_FILE]);
  return out;
}

/** The harness itself: the client made the calls the matrix says, with the outcomes it says. */
function checkClientAccount(records: readonly CallRecord[]): void {
  const byLabel = new Map(records.map((r) => [r.label, r]));
  assert.equal(byLabel.get('unary')?.code, 0);
  assert.ok((byLabel.get('large unary')?.sentSizes[0] ?? 0) > 100_000, 'the large call sent a large message');
  assert.deepEqual(byLabel.get('server-streaming')?.receivedSizes.length, 5);
  assert.deepEqual(byLabel.get('client-streaming')?.received, [{ total: '10', count: 4 }]);
  assert.equal(byLabel.get('bidi')?.received.length, 3);
  for (let code = 1; code <= 16; code++) {
    const r = byLabel.get(`status ${code}`);
    assert.equal(r?.code, code, `the server ended "status ${code}" with ${statusName(code)}`);
  }
  assert.equal(byLabel.get('deadline')?.code, 4, 'the client saw DEADLINE_EXCEEDED');
  assert.ok(records.filter((r) => r.gzip).length >= 3 && records.filter((r) => r.gzip).every((r) => r.code === 0), 'gzip calls succeeded');
}

interface TsharkWitness {
  readonly requestMessages: number;
  readonly responseMessages: number;
  /** grpc-status of every trailer (or trailers-only) block, in capture order. */
  readonly statuses: number[];
}

/** What tshark finds in the capture: gRPC messages per direction and every grpc-status sent. */
async function tsharkWitness(pcap: string): Promise<TsharkWitness> {
  const fields = async (filter: string, ...names: string[]): Promise<string[][]> => {
    const r = await run('tshark', ['-r', pcap, '-d', `tcp.port==${PORT},http2`, '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', ...names.flatMap((n) => ['-e', n])]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.toString('utf8').split('\n').filter(Boolean).map((line) => line.split('\t'));
  };
  let requestMessages = 0;
  let responseMessages = 0;
  for (const [src = '', lengths = ''] of await fields('grpc', 'tcp.srcport', 'grpc.message_length')) {
    const n = lengths.split('|').filter(Boolean).length;
    if (src === String(PORT)) responseMessages += n;
    else requestMessages += n;
  }
  const statuses: number[] = [];
  for (const [names = '', values = ''] of await fields(`http2.type == 1 and tcp.srcport == ${PORT}`, 'http2.header.name', 'http2.header.value')) {
    const v = values.split('|');
    names.split('|').forEach((name, i) => name === 'grpc-status' && statuses.push(Number(v[i])));
  }
  return { requestMessages, responseMessages, statuses };
}

/** `agentSchema`: the agent was given the FileDescriptorSet (and --no-redact, as the schema read). */
async function checkRun(t: TestContext, observed: ObservedRun<CallRecord[]>, topo: Topology, agentSchema: boolean): Promise<void> {
  const records = observed.result;
  await t.test('the client made every call of the matrix, with the outcomes asked for', () => checkClientAccount(records));
  if (!topo.stopRelay) {
    // Only on the clean link: over the relay tshark's own reassembly loses messages in duplicated
    // and reordered segments (as seen for HTTP/2), which says nothing about the traffic.
    await t.test('tshark finds the same messages and statuses in the capture', async () => {
      const w = await tsharkWitness(observed.pcap);
      t.diagnostic(`tshark: ${w.requestMessages} request and ${w.responseMessages} response messages, grpc-status ${w.statuses.join(' ')}`);
      assert.equal(w.requestMessages, records.reduce((n, r) => n + r.sentSizes.length, 0), 'request messages');
      assert.equal(w.responseMessages, records.reduce((n, r) => n + r.receivedSizes.length, 0), 'response messages');
      // The deadline call's DEADLINE_EXCEEDED comes from the server only when its timer beat the client's reset.
      const sent = [...w.statuses].sort((a, b) => a - b);
      const want = records.filter((r) => r.label !== 'deadline').map((r) => r.code).sort((a, b) => a - b);
      assert.ok(isDeepStrictEqual(sent, want) || isDeepStrictEqual(sent, [...want, 4].sort((a, b) => a - b)), `grpc-status ${sent.join(' ')}`);
    });
  }
  assert.equal(observed.tcpdumpDrops, 0, 'tcpdump lost packets: the capture is incomplete');

  await t.test('kubectl shark read: every call once, status, counts, sizes, schemaless messages', async () => {
    const read = await readWithCli(observed.pcap);
    assert.equal(read.exitCode, 0, read.stderr);
    t.diagnostic(`read: ${read.stderr}; ${grpcEntries(read.all).length} gRPC entries for ${records.length} calls`);
    const deadline = grpcEntries(read.all).find((e) => e.grpc?.timeoutMs !== null);
    t.diagnostic(`the deadline call: grpc-timeout ${deadline?.grpc?.timeoutMs} ms, status ${deadline?.grpc?.statusName}, reset ${JSON.stringify(deadline?.http2?.reset ?? null)}`);
    assertNoDifferences(t, 'read', checkGrpcEntries(records, read.all, { schema: false }));
  });

  await t.test('kubectl shark read --proto-descriptor (protoc -o): messages as JSON with their types', async () => {
    // --no-redact: the JSON is compared whole, and the schema names fields the default redaction
    // hides (`user`, `address`); what redaction does to gRPC messages its own tests check.
    const read = await readWithCli(observed.pcap, ['--proto-descriptor', await descriptorSet(topo.workDir), '--no-redact']);
    assert.equal(read.exitCode, 0, read.stderr);
    assertNoDifferences(t, 'read --proto-descriptor', checkGrpcEntries(records, read.all, { schema: true }));
  });

  await t.test(`the live agent in the server namespace${agentSchema ? ' with --proto-descriptor' : ''}: every call once, the same fields`, () => {
    assert.equal(observed.agentError, null);
    t.diagnostic(`agent: ${observed.agent.summary()}; ${grpcEntries(observed.agentEntries).length} gRPC entries${observed.agentWait ? `; ${observed.agentWait}` : ''}`);
    assertNoDifferences(t, 'agent', checkGrpcEntries(records, observed.agentEntries, { schema: agentSchema }));
  });
}

const enough = (entries: Parameters<typeof grpcEntries>[0], records: readonly CallRecord[]): boolean => grpcEntries(entries).length >= records.length;

test('gRPC between two namespaces: every RPC kind, every status, gzip, a deadline; read and agent', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await cleanTopology(scope);
    await startServer(topo);
    const observed = await observe(scope, topo, 'grpc', () => runClient(topo), enough, { agentArgs: AGENT_ARGS });
    await checkRun(t, observed, topo, false);
  } finally {
    await scope.close();
  }
});

test('gRPC over the impairing relay (loss, reordering, duplication, MTU-sized segments): the same', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await impairedTopology(scope, SEED);
    await startServer(topo);
    // This run's agent decodes with the schema, as `tap --proto-descriptor` has it do in a pod.
    const agentArgs = [...AGENT_ARGS, `--proto-descriptor=${await descriptorSet(topo.workDir)}`, '--no-redact'];
    const observed = await observe(scope, topo, 'grpc-impaired', () => runClient(topo), enough, { agentArgs });
    const relay = await topo.stopRelay!();
    t.diagnostic(`relay (seed ${SEED}): ${JSON.stringify(relay)}`);
    assert.equal(relay.send_errors, 0, relay.last_send_error);
    assert.ok(relay.reordered > 0 && relay.duplicated + relay.dropped > 0, 'the link was impaired');
    assert.ok(relay.gso_frames > 0, 'over-MTU (GSO) frames reached the relay and were cut into segments');
    await checkRun(t, observed, topo, true);
  } finally {
    await scope.close();
  }
});
