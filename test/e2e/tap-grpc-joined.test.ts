/**
 * `kubectl shark tap` joining a gRPC channel that was open before it (issue 13: "recover at the
 * first HEADERS block that decodes with an empty dynamic table, and say how many streams were
 * lost"). In the sandbox cluster, a pod runs the `@grpc/grpc-js` Echo server of
 * test/helpers/grpc-service.ts and another its client with `--long-channel`: ONE channel opened when
 * the pod starts and called through every 300 ms, as real services keep theirs for hours, and every
 * tenth round one call on a channel of its own. The tap starts seconds later, so the agents never
 * saw the long connection's HPACK tables built. It must:
 * - say once per pod why, as a notice on stderr and an EXCHANGES_LOST warning frame, and count the
 *   lost streams in the --stats lines (`protocols.http.lost`, growing) and the summary;
 * - never show a wrong row: every gRPC entry it shows is a call the client made, named right;
 * - show the calls on channels opened after it started, by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { GRPC_SERVICE_SCRIPT, PROTO_FILE } from '../helpers/grpc-service.ts';
import { runOk } from '../helpers/netns.ts';
import { missingCommand, skipFor } from '../helpers/requirements.ts';
import { requireBuild, startTap, type TapProcess } from '../helpers/tap.ts';
import { requireSandbox, startSandbox, type Sandbox, type SandboxFixture } from '../sandbox/index.ts';
import { grpcEntries } from './fixtures/grpc-expect.ts';

const skip = skipFor(requireSandbox() ?? requireBuild() ?? missingCommand('protoc'));
const NAMESPACE = 'grpc-joined';
const SERVER_IP = '10.244.0.86';
const PORT = 50051;

const FIXTURE: SandboxFixture = {
  namespaces: [{ name: NAMESPACE }],
  pods: [
    {
      namespace: NAMESPACE,
      name: 'echo',
      labels: { app: 'echo' },
      ip: SERVER_IP,
      containers: [{ name: 'echo', image: 'node:24-slim', command: ['node', GRPC_SERVICE_SCRIPT, 'server', '0.0.0.0', String(PORT)] }],
    },
    {
      namespace: NAMESPACE,
      name: 'caller',
      labels: { app: 'caller' },
      containers: [{ name: 'caller', image: 'node:24-slim', command: ['node', GRPC_SERVICE_SCRIPT, 'client', `${SERVER_IP}:${PORT}`, '--long-channel'] }],
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

interface WarningLine {
  readonly type: 'warning';
  readonly pod: string;
  readonly code: string;
  readonly message: string;
}

/** The caller pod's lost HTTP/2 streams in each of its --stats lines, in order. */
function lostCounts(tap: TapProcess): number[] {
  return tap.lines
    .map((l) => l.value as unknown as { type?: string; pod?: string; protocols?: { http?: { lost?: number } } })
    .filter((v) => v.type === 'stats' && v.pod === 'caller')
    .map((v) => v.protocols?.http?.lost ?? 0);
}

function lostWarnings(tap: TapProcess, pod: string): WarningLine[] {
  return tap.lines.map((l) => l.value as unknown as WarningLine).filter((v) => v.type === 'warning' && v.code === 'EXCHANGES_LOST' && v.pod === pod);
}

/** The text of a call's first request message, as the schema decodes it (`long 12`, `fresh 30`, `long12` for Count). */
function firstText(e: HttpEntry): string {
  const json = e.grpc?.requestMessages[0]?.json as { text?: string; prefix?: string } | undefined;
  return json?.text ?? json?.prefix ?? '(not decoded with the schema)';
}

test('tap joining a gRPC channel opened before it: says once per pod why its streams are not shown, counts them, shows no wrong row, and shows new channels by name', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-tap-grpc-joined-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const descriptor = join(dir, 'shark_test.pb');
  await runOk('protoc', [`--proto_path=${dirname(PROTO_FILE)}`, '--include_imports', `--descriptor_set_out=${descriptor}`, PROTO_FILE]);
  // The long channel is open and busy before any agent runs: its HPACK tables were built unseen.
  await sleep(3000);
  const tap = startTap(sandbox, ['-n', NAMESPACE, '-o', 'json', '--stats', '--proto-descriptor', descriptor]);
  const freshCalls = (): HttpEntry[] => grpcEntries(tap.allEntries()).filter((e) => /^fresh \d+$/.test(firstText(e)));
  try {
    await tap.until(
      'the caller pod: an EXCHANGES_LOST warning, a lost count that grows in its --stats lines, and a call on a fresh channel shown',
      () => {
        const counts = lostCounts(tap).filter((n) => n > 0);
        return lostWarnings(tap, 'caller').length > 0 && counts.length >= 2 && counts.at(-1)! > counts[0]! && freshCalls().length > 0;
      },
      60_000,
    );
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
  const stderr = tap.stderr;
  const counts = lostCounts(tap);
  t.diagnostic(`caller's lost HTTP/2 streams per stats line: ${counts.join(' ')}`);
  t.diagnostic(stderr.split('\n').filter((l) => l.includes('not shown') || l.startsWith('by protocol')).join('\n'));

  // Said once per pod (not per stats frame): one warning frame, one notice, then the summary's line.
  const [warning, ...more] = lostWarnings(tap, 'caller');
  assert.deepEqual(more, [], 'one EXCHANGES_LOST warning for the caller pod');
  assert.match(warning!.message, new RegExp(`^pod ${NAMESPACE}/caller: \\d+ HTTP/2 streams? not shown: .*open before the tap started.*restart the client or wait for it to reconnect$`));
  assert.equal(stderr.split(warning!.message).length - 1, 1, 'the notice is printed once');
  assert.ok(counts.every((n, i) => i === 0 || n >= counts[i - 1]!), `the count never goes down: ${counts.join(' ')}`);
  // The summary: the final count, why, and the split by protocol.
  const final = new RegExp(`^pod ${NAMESPACE}/caller: (\\d+) HTTP/2 streams not shown: `, 'm').exec(stderr);
  assert.ok(final, `the summary says why the caller's streams were not shown:\n${stderr}`);
  assert.ok(Number(final[1]) >= counts.at(-1)!, `the summary's count ${final[1]} is the final one (last stats line: ${counts.at(-1)})`);
  assert.match(stderr, new RegExp(`^by protocol in ${NAMESPACE}/caller: HTTP \\d+ entr(y|ies) \\(${final[1]} HTTP/2 streams lost: not captured whole\\)$`, 'm'));

  // No wrong row: whatever is shown is a call the client made, named and decoded right.
  const calls = grpcEntries(tap.allEntries());
  t.diagnostic(`${calls.length} gRPC rows, ${freshCalls().length} of them on fresh channels`);
  for (const e of calls) {
    const text = firstText(e);
    const where = `${e.id} (${e.grpc?.method} ${text})`;
    assert.equal(e.grpc?.service, 'sharktest.Echo', where);
    assert.equal(e.request.path, `/sharktest.Echo/${e.grpc.method}`, where);
    if (e.grpc.method === 'Say') assert.match(text, /^(long|fresh) \d+$/, where);
    else if (e.grpc.method === 'Count') assert.match(text, /^long\d+$/, where);
    else assert.fail(`${where}: a method the client never called`);
    assert.equal(e.grpc.status, 0, where);
  }
  // Calls on channels opened after the tap started are shown by name, from the caller to the echo pod.
  for (const e of freshCalls()) {
    assert.match(e.src.name, /^caller/, e.id);
    assert.match(e.dst.name, /^echo/, e.id);
    assert.equal(e.grpc?.method, 'Say', e.id);
  }
});
