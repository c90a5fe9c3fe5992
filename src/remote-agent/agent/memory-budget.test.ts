import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MIN_AGENT_MEMORY_BYTES } from '../../model/agent-memory.ts';
import { RING_BLOCK_SIZE } from '../live/live-capture.ts';
import { heapFlags } from './heap-flags.ts';
import { BASELINE_RSS_BYTES, memoryBudget } from './memory-budget.ts';

const MiB = 1024 * 1024;

test('the default bound: a 4 MiB ring that grows to 25 MiB (a fixed 4 MiB one lost frames at 8k requests/s), 3 MiB semi-spaces', () => {
  const b = memoryBudget(200 * MiB);
  assert.equal(b.ringBytes, 25 * MiB);
  assert.equal(b.initialRingBytes, 4 * MiB);
  assert.equal(b.semiSpaceMb, 3);
  assert.deepEqual(heapFlags(b), [`--max-old-space-size=${b.oldSpaceMb}`, '--max-semi-space-size=3']);
});

test('every bound: the ring is whole blocks of 2 to 32 MiB, the parts fit under the bound, and more memory never shrinks a part', () => {
  fc.assert(
    fc.property(fc.integer({ min: MIN_AGENT_MEMORY_BYTES, max: 8192 * MiB }), fc.integer({ min: 0, max: 64 * MiB }), (max, more) => {
      const b = memoryBudget(max);
      assert.equal(b.ringBytes % RING_BLOCK_SIZE, 0);
      assert.ok(b.ringBytes >= 2 * MiB && b.ringBytes <= 32 * MiB, `ring ${b.ringBytes}`);
      assert.ok(b.initialRingBytes % RING_BLOCK_SIZE === 0 && b.initialRingBytes <= Math.min(b.ringBytes, 4 * MiB), `initial ring ${b.initialRingBytes}`);
      assert.ok(b.semiSpaceMb >= 1 && b.semiSpaceMb <= 8, `semi-space ${b.semiSpaceMb}`);
      // The old generation's floor (32 MiB) is the one part that may not fit a bound near the minimum.
      if (b.oldSpaceMb > 32) {
        const parts = BASELINE_RSS_BYTES + b.ringBytes + b.tcpTotalBytes + 3 * b.semiSpaceMb * MiB + b.oldSpaceMb * MiB;
        assert.ok(parts <= max, `parts ${parts} > bound ${max}`);
      }
      const bigger = memoryBudget(max + more);
      assert.ok(bigger.ringBytes >= b.ringBytes && bigger.semiSpaceMb >= b.semiSpaceMb && bigger.oldSpaceMb >= b.oldSpaceMb);
    }),
  );
});

test('a bound below the minimum is raised to it', () => {
  assert.deepEqual(memoryBudget(10 * MiB), memoryBudget(MIN_AGENT_MEMORY_BYTES));
});
