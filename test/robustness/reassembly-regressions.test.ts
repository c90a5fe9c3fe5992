/**
 * Reassembly failures found by the fuzzer, reduced to a few segments. They run in a worker with
 * a hang bound (a stuck synchronous loop cannot be interrupted in-process).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBounded } from './bounded-run.ts';
import type { ReassemblyOutcome } from './reassembly-cases.ts';

const CASES = new URL('./reassembly-cases.ts', import.meta.url);

test('a segment exactly 2^31 ahead in sequence space does not hang closeAll', async () => {
  // Found as fuzz cases SHARK_FUZZ_SEED=7 1201/2540/4726/16445 (bit 31 of seq flipped).
  const r = await runBounded(CASES, 'seq-2^31-away', 20);
  assert.notEqual(r.kind, 'hang', 'TcpAssembler.closeAll did not return within 20 s (flush loop makes no progress)');
  assert.equal(r.kind, 'done', r.kind === 'error' ? r.error : '');
  const out = (r as { value: ReassemblyOutcome }).value;
  assert.equal(out.delivered >= 10, true, 'the in-order bytes were delivered');
  assert.equal(out.closes, 1);
  assert.equal(out.bufferedAfterClose, 0);
});

test('many tiny out-of-order segments held behind a hole are reassembled (no quadratic blow-up)', async () => {
  // 200k segments take well under a second when buffering is linear; the bound is 30 s.
  const r = await runBounded(CASES, 'tiny-segments-behind-a-hole', 30);
  assert.notEqual(r.kind, 'hang', 'reassembling 200k small segments behind a hole did not finish within 30 s');
  assert.equal(r.kind, 'done', r.kind === 'error' ? r.error : '');
  const out = (r as { value: ReassemblyOutcome }).value;
  assert.equal(out.delivered, 800_000, 'every byte after the hole is delivered');
  assert.equal(out.gaps, 1, 'the lost 3 bytes are one gap');
  assert.equal(out.bufferedAfterClose, 0);
});
