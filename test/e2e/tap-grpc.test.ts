/**
 * `kubectl shark tap` on gRPC in the sandbox cluster (acceptance point 3 of issue 13): a pod runs
 * the `@grpc/grpc-js` Echo server of test/helpers/grpc-service.ts, another its client in a loop
 * (a unary call, a server-streaming call and a call the server ends with NOT_FOUND, every 300 ms,
 * each round on a new connection). Both pods are tapped with `--proto-descriptor` (a
 * FileDescriptorSet protoc makes here, uploaded with each agent). Every call must come out as one
 * named gRPC row (`protocol.abbr` "gRPC", `grpc.service`/`grpc.method`, status and status name,
 * messages decoded with the schema) from the caller pod to the echo pod, once (the two sightings
 * merged), and the service map built from the rows (the TUI's own ServiceGraphBuilder) must have a
 * gRPC edge between the two workloads with every call on it and the NOT_FOUNDs counted as client
 * errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { ServiceGraphBuilder } from '../../src/pipeline/service-graph.ts';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { GRPC_SERVICE_SCRIPT, PROTO_FILE } from '../helpers/grpc-service.ts';
import { runOk } from '../helpers/netns.ts';
import { missingCommand, skipFor } from '../helpers/requirements.ts';
import { requireBuild, startTap } from '../helpers/tap.ts';
import { requireSandbox, startSandbox, type Sandbox, type SandboxFixture } from '../sandbox/index.ts';
import { grpcEntries } from './fixtures/grpc-expect.ts';

const skip = skipFor(requireSandbox() ?? requireBuild() ?? missingCommand('protoc'));
const SERVER_IP = '10.244.0.81';
const PORT = 50051;
const ROUNDS = 4;

const FIXTURE: SandboxFixture = {
  namespaces: [{ name: 'grpc' }],
  pods: [
    {
      namespace: 'grpc',
      name: 'echo',
      labels: { app: 'echo' },
      ip: SERVER_IP,
      containers: [{ name: 'echo', image: 'node:24-slim', command: ['node', GRPC_SERVICE_SCRIPT, 'server', '0.0.0.0', String(PORT)] }],
    },
    {
      namespace: 'grpc',
      name: 'caller',
      labels: { app: 'caller' },
      containers: [{ name: 'caller', image: 'node:24-slim', command: ['node', GRPC_SERVICE_SCRIPT, 'client', `${SERVER_IP}:${PORT}`, '--loop'] }],
    },
  ],
};

let sandbox: Sandbox;

before(async () => {
  if (!skip) sandbox = await startSandbox(FIXTURE);
});

after(async () => {
  if (!skip) await sandbox.stop();
});

/** What tells a call apart: its method and the round its first request message names (schema JSON). */
function callKey(e: HttpEntry): string {
  const json = e.grpc?.requestMessages[0]?.json as { text?: string; prefix?: string } | undefined;
  return `${e.grpc?.method} ${json?.text ?? json?.prefix ?? '(not decoded with the schema)'}`;
}

test('tap -n grpc --proto-descriptor: named gRPC rows between the two pods, decoded, each call once, and a gRPC edge on the service map', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-tap-grpc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const descriptor = join(dir, 'shark_test.pb');
  await runOk('protoc', [`--proto_path=${dirname(PROTO_FILE)}`, '--include_imports', `--descriptor_set_out=${descriptor}`, PROTO_FILE]);
  const tap = startTap(sandbox, ['-n', 'grpc', '-o', 'json', '--proto-descriptor', descriptor]);
  try {
    await tap.until(`${ROUNDS} rounds of gRPC calls`, () => grpcEntries(tap.allEntries()).length >= ROUNDS * 3, 60_000);
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
  const calls = grpcEntries(tap.allEntries());
  t.diagnostic(calls.slice(0, 6).map((e) => `${e.src.name} -> ${e.dst.name}:${e.dst.port} ${e.grpc?.service}/${e.grpc?.method} ${e.grpc?.statusName} ${callKey(e)}`).join('\n'));
  for (const e of calls) {
    const where = `${e.id} (${callKey(e)})`;
    assert.deepEqual(e.protocol, { name: 'http', version: '2.0', abbr: 'gRPC' }, where);
    assert.match(e.src.name, /^caller/, where);
    assert.match(e.dst.name, /^echo/, where);
    assert.equal(e.dst.port, PORT, where);
    assert.equal(e.grpc?.service, 'sharktest.Echo', where);
    assert.ok(e.grpc.method === 'Say' || e.grpc.method === 'Count', `${where}: method ${e.grpc.method}`);
    const notFound = e.grpc.method === 'Say' && /missing$/.test(callKey(e));
    assert.equal(e.grpc.status, notFound ? 5 : 0, where);
    assert.equal(e.grpc.statusName, notFound ? 'NOT_FOUND' : 'OK', where);
    if (e.grpc.method === 'Count') assert.equal(e.grpc.responseMessageCount, 3, where);
    // Decoded in the agents with the set tap uploaded next to them.
    const type = e.grpc.method === 'Say' ? 'sharktest.SayRequest' : 'sharktest.CountRequest';
    assert.equal(e.grpc.requestMessages[0]?.type, type, where);
  }
  // Both pods see every call: merged, each comes out once.
  const seen = new Map<string, number>();
  for (const e of calls) seen.set(callKey(e), (seen.get(callKey(e)) ?? 0) + 1);
  assert.deepEqual([...seen].filter(([, n]) => n > 1), [], 'calls that came out more than once');
  // No call lost between the first and the last round seen (those two may be cut by the tap's start and end).
  const rounds = [...seen.keys()].map((k) => Number(/(\d+)/.exec(k)?.[1])).filter(Number.isFinite);
  const [first, last] = [Math.min(...rounds), Math.max(...rounds)];
  assert.ok(last - first + 1 >= ROUNDS, `rounds ${first}..${last}`);
  for (let round = first + 1; round < last; round++) {
    for (const key of [`Say round ${round}`, `Count r${round}`, `Say round ${round} missing`]) assert.equal(seen.get(key), 1, `${key}: every call of round ${round} once`);
  }

  // The service map as the TUI builds it from these rows: one gRPC edge caller -> echo.
  const graph = new ServiceGraphBuilder();
  tap.allEntries().forEach((e, seq) => graph.add(e, seq));
  const edges = graph.graph().edges.filter((edge) => edge.protocol === 'gRPC');
  t.diagnostic(JSON.stringify(graph.graph().edges.map((edge) => [edge.from, edge.to, edge.protocol, edge.requests, edge.clientErrors])));
  assert.equal(edges.length, 1, 'one gRPC edge');
  const [edge] = edges;
  assert.match(edge!.from, /^caller/);
  assert.match(edge!.to, /^echo/);
  assert.equal(edge!.requests, calls.length, 'every call on the edge');
  assert.equal(edge!.clientErrors, calls.filter((e) => e.grpc?.status === 5).length, 'NOT_FOUND counts as a client error');
});
