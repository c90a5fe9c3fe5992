import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecEnd } from '../kube/agent-runner.ts';
import { AGENT_PROTOCOL_VERSION } from '../remote-agent/wire/protocol.ts';
import { AgentFrameReader, classifyRunEnd } from './agent-run.ts';

const exit = (code: number): ExecEnd['status'] =>
  code === 0 ? { status: 'Success' } : { status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } };
const end = (status: ExecEnd['status'], stopping = false, stderr = ''): ExecEnd => ({ status, closeCode: 1006, closeReason: '', stderr, stopping });
const silent = { bye: null, errorMessage: null };

test("an agent run's end is told from the exec's end and the agent's last frames", () => {
  assert.deepEqual(classifyRunEnd(end(undefined, true), silent), { kind: 'stopped' });
  assert.deepEqual(classifyRunEnd(end(undefined), silent), { kind: 'broken', detail: "exec stream closed (1006) without the agent's exit status" });
  assert.deepEqual(classifyRunEnd(end(exit(0)), { bye: 'idle', errorMessage: null }), { kind: 'bye', reason: 'idle', exitCode: 0 });
  assert.deepEqual(classifyRunEnd(end(exit(0), true), silent), { kind: 'stopped' });
  // The agent's own verdicts are final; its error frame wins over stderr.
  assert.deepEqual(classifyRunEnd(end(exit(1), false, 'boom'), { bye: null, errorMessage: 'CAPTURE_OPEN: no such interface' }), {
    kind: 'failed',
    message: 'CAPTURE_OPEN: no such interface',
    exitCode: 1,
  });
  assert.deepEqual(classifyRunEnd(end(exit(2), false, 'usage'), silent), { kind: 'failed', message: 'usage', exitCode: 2 });
  assert.deepEqual(classifyRunEnd(end(exit(137)), silent), { kind: 'killed', exitCode: 137 });
  assert.deepEqual(classifyRunEnd(end(exit(143), false, 'a\nterminated'), silent), { kind: 'broken', detail: 'the agent exited with code 143 (terminated)' });
});

const hello = (version: unknown, agentVersion: unknown = '9.0.0'): string => JSON.stringify({ type: 'hello', version, agentVersion, capabilities: [], iface: 'any', pid: 7 });
const entry = '{"type":"entry","entry":{"id":"1-0","protocol":{"name":"http","version":"1.1","abbr":"HTTP"}}}';

function read(lines: readonly string[]): { reader: AgentFrameReader; frames: string[]; refused: number } {
  const frames: string[] = [];
  let refused = 0;
  const reader = new AgentFrameReader('shop/web-0', (f) => frames.push(f.type), () => refused++);
  for (const line of lines) reader.line(line);
  return { reader, frames, refused };
}

test('an agent of this wire protocol version is read: its hello and entries reach the tap', () => {
  const { reader, frames, refused } = read([hello(AGENT_PROTOCOL_VERSION), entry, '{"type":"bye","reason":"stop"}']);
  assert.deepEqual(frames, ['hello', 'entry', 'bye']);
  assert.equal(refused, 0);
  assert.equal(reader.refusal, null);
  assert.equal(reader.bye, 'stop');
});

test('an agent of another wire protocol version is refused at its hello: named, told what to do, stopped once, none of its frames read', () => {
  const { reader, frames, refused } = read([hello(AGENT_PROTOCOL_VERSION + 1), entry, '{"type":"error","code":"INTERNAL","message":"x"}', hello(AGENT_PROTOCOL_VERSION)]);
  assert.deepEqual(frames, []);
  assert.equal(refused, 1);
  assert.equal(reader.errorMessage, null);
  const why = reader.refusal ?? '';
  assert.match(why, /^pod shop\/web-0: the capture agent speaks wire protocol version 2 \(agent "9\.0\.0"\); this kubectl-shark reads version 1/);
  assert.match(why, /reinstall kubectl-shark, or from a checkout run npm run build/);
  // The run ends failed with that message, even though the tap stopped it (stdin closed) for it.
  assert.deepEqual(classifyRunEnd(end(exit(0), true), reader), { kind: 'failed', message: why, exitCode: 0 });
  assert.deepEqual(classifyRunEnd(end(undefined, true), reader), { kind: 'failed', message: why, exitCode: -1 });
});

test('a hello without a usable version is refused too, its agent version quoted bounded', () => {
  for (const version of [undefined, '1', 1.5, null]) {
    const { reader, frames } = read([hello(version, `x${'"'.repeat(100)}`), entry]);
    assert.deepEqual(frames, [], String(version));
    const why = reader.refusal ?? '';
    assert.match(why, /speaks no wire protocol version/);
    // 40 characters of what the pod said, no more.
    assert.ok(why.includes(`x${'\\"'.repeat(39)}"`) && !why.includes('\\"'.repeat(40)), why);
  }
});
