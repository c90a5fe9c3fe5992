/**
 * `kubectl shark tap --proto-descriptor SET` in the sandbox cluster: the set (made by protoc from
 * test/fixtures/grpc/shark_test.proto) is checked by the CLI, uploaded with the agent into each
 * tapped pod and loaded there, so the gRPC calls between a grpc-js client pod and its Echo server
 * pod (test/helpers/grpc-service.ts, `--loop`) leave the pods decoded as their message types'
 * JSON. The agents' command lines name the uploaded file next to agent.js.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { GRPC_SERVICE_SCRIPT } from '../helpers/grpc-service.ts';
import { REPO_ROOT } from '../helpers/capture.ts';
import { skipFor } from '../helpers/requirements.ts';
import { agentsIn, requireBuild, startTap } from '../helpers/tap.ts';
import { requireSandbox, startSandbox, type Sandbox, type SandboxFixture } from '../sandbox/index.ts';
import { grpcEntries } from './fixtures/grpc-expect.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
const SERVER_IP = '10.244.0.82';
const PORT = 50051;
const ROUNDS = 3;

const FIXTURE: SandboxFixture = {
  namespaces: [{ name: 'grpcpd' }],
  pods: [
    {
      namespace: 'grpcpd',
      name: 'echo',
      labels: { app: 'echo' },
      ip: SERVER_IP,
      containers: [{ name: 'echo', image: 'node:24-slim', command: ['node', GRPC_SERVICE_SCRIPT, 'server', '0.0.0.0', String(PORT)] }],
    },
    {
      namespace: 'grpcpd',
      name: 'caller',
      labels: { app: 'caller' },
      containers: [{ name: 'caller', image: 'node:24-slim', command: ['node', GRPC_SERVICE_SCRIPT, 'client', `${SERVER_IP}:${PORT}`, '--loop'] }],
    },
  ],
};

const work = mkdtempSync(join(tmpdir(), 'shark-tap-proto-'));
const SET = join(work, 'shark_test.pb');
let sandbox: Sandbox;

before(async () => {
  if (skip) return;
  execFileSync('protoc', [`-I${join(REPO_ROOT, 'test/fixtures/grpc')}`, '--include_imports', `-o${SET}`, 'shark_test.proto']);
  sandbox = await startSandbox(FIXTURE);
});

after(async () => {
  if (!skip) await sandbox.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A call's messages as [type, json] per side. */
function decoded(e: HttpEntry): { request: unknown[]; response: unknown[] } {
  const side = (list: ReadonlyArray<{ type?: string; json?: unknown }> | undefined) => (list ?? []).map((m) => [m.type, m.json]);
  return { request: side(e.grpc?.requestMessages), response: side(e.grpc?.responseMessages) };
}

test('tap --proto-descriptor: the set goes to every agent, and calls leave the pods as their types JSON', { skip, timeout: 240_000 }, async (t) => {
  const tap = startTap(sandbox, ['-n', 'grpcpd', '-o', 'json', '--proto-descriptor', SET]);
  let agents: string[] = [];
  try {
    await tap.until(`${ROUNDS} rounds of gRPC calls`, () => grpcEntries(tap.allEntries()).length >= ROUNDS * 3, 90_000);
    agents = agentsIn(sandbox, [
      ['grpcpd', 'echo'],
      ['grpcpd', 'caller'],
    ]);
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
  assert.equal(agents.length, 2, agents.join('\n'));
  for (const cmdline of agents) assert.match(cmdline, /agent\.js capture .*--proto-descriptor=\/\S+\/proto-descriptor\.pb/, cmdline);

  const calls = grpcEntries(tap.allEntries());
  t.diagnostic(calls.slice(0, 3).map((e) => JSON.stringify(decoded(e))).join('\n'));
  for (const e of calls) {
    const where = `${e.id} ${e.grpc?.method}`;
    const first = e.grpc!.requestMessages[0]!;
    if (e.grpc!.method === 'Count') {
      const prefix = (first.json as { prefix: string }).prefix;
      assert.match(prefix, /^r\d+$/, where);
      assert.deepEqual(decoded(e), {
        request: [['sharktest.CountRequest', { count: 3, prefix }]],
        response: [1, 2, 3].map((index) => ['sharktest.CountReply', { index, text: `${prefix}-${index}` }]),
      }, where);
      continue;
    }
    assert.equal(e.grpc!.method, 'Say', where);
    const text = (first.json as { text: string }).text;
    const round = /^round (\d+)( missing)?$/.exec(text);
    assert.ok(round, `${where}: ${text}`);
    assert.deepEqual(
      decoded(e),
      round[2]
        ? { request: [['sharktest.SayRequest', { text, replyStatus: 5 }]], response: [] }
        : { request: [['sharktest.SayRequest', { text }]], response: [['sharktest.SayReply', { text: `you said ${text}`, big: '-42', mood: 'MOOD_HAPPY' }]] },
      where,
    );
  }
});
