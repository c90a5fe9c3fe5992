/**
 * Robustness of the HPACK decoder on hostile header blocks (cases in hpack-damage.ts): damaged
 * encoder output, random bytes, table size attacks, integer overflows, huge Huffman strings and
 * header lists. The cases run in workers under a time bound (bounded-run.ts), so a decoder stuck
 * in a loop fails the test instead of freezing it. Then the memory a decoder keeps under attack is
 * measured: the dynamic table is capped whatever the peers negotiate.
 *
 * More cases / another seed: SHARK_FUZZ_HPACK_CASES=20000 SHARK_FUZZ_SEED=7; one case in-process
 * (full stack traces): SHARK_FUZZ_HPACK_CASE=123.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HpackDecoder, TABLE_BYTES_CAP } from '../../src/remote-agent/dissect/http2/hpack.ts';
import { runBounded } from './bounded-run.ts';
import { run, type HpackFuzzSummary } from './hpack-damage.ts';
import { hpackInteger, hpackString } from '../helpers/hpack-encoder.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_HPACK_CASES'] ?? 3000);
const WORKERS = 2;
/** The whole run's hang bound: cases take milliseconds, the largest a few hundred. */
const RUN_SECONDS = 300;
const MB = 1024 * 1024;

const single = process.env['SHARK_FUZZ_HPACK_CASE'];

if (single !== undefined) {
  test(`HPACK fuzz case ${single} (seed ${MASTER_SEED})`, () => {
    const out = run({ masterSeed: MASTER_SEED, first: Number(single), count: 1 });
    assert.deepEqual(out.failures, []);
  });
} else {
  test(`${CASES} hostile HPACK block sequences: no exception, results well formed, header lists bounded, no hang`, async (t) => {
    const per = Math.ceil(CASES / WORKERS);
    const results = await Promise.all(
      Array.from({ length: WORKERS }, (_, w) =>
        runBounded(new URL('./hpack-damage.ts', import.meta.url), { masterSeed: MASTER_SEED, first: w * per, count: Math.min(per, CASES - w * per) }, RUN_SECONDS),
      ),
    );
    const summaries: HpackFuzzSummary[] = [];
    for (const [w, r] of results.entries()) {
      assert.notEqual(r.kind, 'hang', `worker ${w} still running after ${RUN_SECONDS} s: a case hangs (run its cases with SHARK_FUZZ_HPACK_CASE=n)`);
      if (r.kind === 'error') assert.fail(`worker ${w}: ${r.error}`);
      if (r.kind === 'done') summaries.push(r.value as HpackFuzzSummary);
    }
    const cases = summaries.reduce((n, s) => n + s.cases, 0);
    const ok = summaries.reduce((n, s) => n + s.blocksOk, 0);
    const failed = summaries.reduce((n, s) => n + s.blocksFailed, 0);
    const slowest = summaries.reduce((a, b) => (b.slowestMs > a.slowestMs ? b : a));
    t.diagnostic(`${cases} cases: ${ok} blocks decoded, ${failed} failed; slowest ${slowest.slowestMs.toFixed(0)} ms: ${slowest.slowest}`);
    assert.equal(cases, CASES, 'every case ran');
    // Both outcomes are exercised, or the cases test nothing.
    assert.ok(ok > CASES && failed > CASES / 2, `${ok} ok, ${failed} failed`);
    const failures = summaries.flatMap((s) => s.failures);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
  });
}

/** Live heap growth (after a collection) while `hold` keeps what `make` returned. */
function retainedBy<T>(make: () => T): { bytes: number; kept: T } {
  gc();
  const before = process.memoryUsage();
  const kept = make();
  gc();
  const after = process.memoryUsage();
  return { bytes: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers, kept };
}

test('decoders under table size attacks keep at most the capped table', (t) => {
  const DECODERS = 200;
  // Peers agree on a 4 GiB table; the encoder fills it with 64 KiB entries, then with the smallest
  // entries (32 bytes each in the accounting, the most objects per byte).
  const bigEntries = Array.from({ length: 8 }, (_, i) =>
    Buffer.concat([Uint8Array.of(0x40), Uint8Array.from(hpackString(`x${i}`)), Uint8Array.from(hpackString(String(i).padEnd(TABLE_BYTES_CAP - 40, 'v')))]),
  );
  const hugeUpdate = Uint8Array.from(hpackInteger(0xffffffff, 5, 0x20));
  const big = retainedBy(() =>
    Array.from({ length: DECODERS }, () => {
      const dec = new HpackDecoder();
      dec.setMaxTableSize(0xffffffff);
      dec.decode(hugeUpdate);
      for (const entry of bigEntries) dec.decode(entry);
      return dec;
    }),
  );
  const tinyEntries = new Uint8Array(40_000 * 3);
  for (let i = 0; i < 40_000; i++) tinyEntries.set([0x40, 0x00, 0x00], i * 3);
  const small = retainedBy(() =>
    Array.from({ length: DECODERS }, () => {
      const dec = new HpackDecoder({ maxHeaderListBytes: 16 * MB });
      dec.setMaxTableSize(0xffffffff);
      dec.decode(hugeUpdate);
      dec.decode(tinyEntries);
      return dec;
    }),
  );
  const perBig = big.bytes / DECODERS;
  const perSmall = small.bytes / DECODERS;
  t.diagnostic(`per decoder: ${(perBig / 1024).toFixed(0)} KiB with 64 KiB entries, ${(perSmall / 1024).toFixed(0)} KiB with ${TABLE_BYTES_CAP / 32} empty entries (cap ${TABLE_BYTES_CAP / 1024} KiB)`);
  assert.ok(perBig < 2 * TABLE_BYTES_CAP, `${perBig} bytes per decoder`);
  assert.ok(perSmall < 4 * TABLE_BYTES_CAP, `${perSmall} bytes per decoder`);
  assert.equal(big.kept.length + small.kept.length, 2 * DECODERS);
});
