/**
 * boundHeapGrowth: the flag exists in this runtime's V8 (v8.setFlagsFromString ignores one it does
 * not know, silently), and with it a heap whose long-lived objects keep being replaced stays
 * within twice its live size plus the young generation, where V8's own choice lets it grow further.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HEAP_GROWING_FLAG, STREAMING_HEAP_GROWING_PERCENT } from '../../cmd/heap-growth.ts';

const MODULE = fileURLToPath(new URL('../../cmd/heap-growth.ts', import.meta.url));
const MIB = 1024 * 1024;
/** As bin/kubectl-shark starts the CLI: the young generation is at most 3 of these. */
const SEMI_SPACE_MB = 8;

test('the heap-growing flag is one this runtime knows', () => {
  const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
  assert.ok(options.includes(`${HEAP_GROWING_FLAG} `), `${HEAP_GROWING_FLAG} is not in node --v8-options`);
});

/**
 * A ring of 100k records, each replaced after 100k more were made: they live long enough to be
 * promoted and then die in the old generation, as the tap's remembered calls do. The peak of the
 * heap's use (sampled) and its live size after a full collection at the end.
 */
function churn(bound: boolean): { peak: number; live: number } {
  const script = `
    import v8 from 'node:v8';
    if (${bound}) (await import(${JSON.stringify(MODULE)})).boundHeapGrowth();
    const LIVE = 100_000;
    const ring = new Array(LIVE);
    let peak = 0;
    for (let n = 0; n < 2_000_000; n++) {
      ring[n % LIVE] = { key: \`10.0.0.\${n & 255}|\${n}|s\${n * 7}|GET /items?page=\${n}\`, id: \`ns/pod/\${n >> 4}-\${n & 15}\`, at: n };
      if (n % 2000 === 0) peak = Math.max(peak, v8.getHeapStatistics().used_heap_size);
    }
    globalThis.gc();
    globalThis.gc();
    console.log(JSON.stringify({ peak, live: v8.getHeapStatistics().used_heap_size, kept: ring.length }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', `--max-semi-space-size=${SEMI_SPACE_MB}`, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { peak: number; live: number };
}

test('with the bound, the heap stays within twice what is live plus the young generation', () => {
  const bounded = churn(true);
  const free = churn(false);
  const factor = 1 + STREAMING_HEAP_GROWING_PERCENT / 100;
  const mb = (b: number): string => `${(b / MIB).toFixed(1)} MB`;
  const detail = `bounded: peak ${mb(bounded.peak)}, live ${mb(bounded.live)}; V8's default: peak ${mb(free.peak)}, live ${mb(free.live)}`;
  assert.ok(bounded.live > 20 * MIB, `the ring is live: ${detail}`);
  assert.ok(bounded.peak <= factor * bounded.live + (3 * SEMI_SPACE_MB + 8) * MIB, detail);
  // The flag is what keeps it there: without it the same work takes the heap well past that.
  assert.ok(free.peak > 1.3 * bounded.peak, detail);
});
