import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecEnd } from '../kube/agent-runner.ts';
import { classifyRunEnd } from './agent-run.ts';

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
