/**
 * Robustness of the read path: thousands of damaged captures (truncations, bit flips, random
 * bytes, swapped/duplicated/dropped records, broken HTTP) through readCaptures and the stages.
 * Allowed outcomes: success, or a SharkError with a documented capture code. Anything else, an
 * exception a stage swallowed, a cap exceeded, or a case running for more than HANG_SECONDS,
 * fails with the case's description and index.
 *
 * Reproduce one case in-process (full stack traces):
 *   SHARK_FUZZ_CASE=1234 node --test test/robustness/fuzz.test.ts
 * More cases / another seed: SHARK_FUZZ_CASES=20000 SHARK_FUZZ_SEED=7.
 * WebSocket cases (websocket-damage.ts): SHARK_FUZZ_WS_CASES=5000, one of them SHARK_FUZZ_WS_CASE=12.
 * HTTP/2 cases (http2-damage.ts): SHARK_FUZZ_H2_CASES=5000, one of them SHARK_FUZZ_H2_CASE=12.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { FIXTURE_SEEDS, loadSeeds, makeCase, runCase, type CaseFailure } from './fuzz-cases.ts';
import type { WorkerJob, WorkerMessage } from './fuzz-worker.ts';
import { makeHttp2Case } from './http2-damage.ts';
import { makeWebSocketCase } from './websocket-damage.ts';

const MASTER_SEED = Number(process.env.SHARK_FUZZ_SEED ?? 20_240_601);
const CASES = Number(process.env.SHARK_FUZZ_CASES ?? 8000);
const WORKERS = 2;
/** A case still running after this long is a hang (cases take well under a second). */
const HANG_SECONDS = 20;

function formatFailures(failures: readonly CaseFailure[]): string {
  const byCase = new Map<string, CaseFailure[]>();
  for (const f of failures) byCase.set(`${f.seed}/${f.index}`, [...(byCase.get(`${f.seed}/${f.index}`) ?? []), f]);
  const parts: string[] = [];
  for (const fs of [...byCase.values()].slice(0, 10)) {
    const f0 = fs[0]!;
    const which = f0.description.startsWith('websocket case') ? 'SHARK_FUZZ_WS_CASE' : f0.description.startsWith('http2 case') ? 'SHARK_FUZZ_H2_CASE' : 'SHARK_FUZZ_CASE';
    parts.push(`--- ${f0.description}\n    reproduce: SHARK_FUZZ_SEED=${f0.seed} ${which}=${f0.index} node --test test/robustness/fuzz.test.ts`);
    for (const f of fs.slice(0, 3)) parts.push(`    [${f.where}] ${f.error.split('\n').slice(0, 8).join('\n      ')}`);
  }
  if (byCase.size > 10) parts.push(`... and ${byCase.size - 10} more failing cases`);
  return `${byCase.size} cases failed:\n${parts.join('\n')}`;
}

interface Totals {
  cases: number;
  failures: CaseFailure[];
  outcomes: Record<string, number>;
  entries: number;
  seeds: number;
}

/**
 * One worker from case `job.first` on, adding its results to `totals`. Resolves with the index of
 * a case that ran past HANG_SECONDS (the worker is then terminated), or null when all ran.
 */
function runWorker(job: WorkerJob, totals: Totals): Promise<CaseFailure | null> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fuzz-worker.ts', import.meta.url), { workerData: job });
    let current: { index: number; description: string; since: number } | null = null;
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearInterval(watchdog);
      return true;
    };
    const watchdog = setInterval(() => {
      if (current !== null && Date.now() - current.since > HANG_SECONDS * 1000 && finish()) {
        const hung = current;
        void worker.terminate();
        resolve({ seed: job.masterSeed, index: hung.index, description: hung.description, where: 'hang', error: `still running after ${HANG_SECONDS} s` });
      }
    }, 1000);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'start') {
        current = { index: m.index, description: m.description, since: Date.now() };
      } else if (m.type === 'result') {
        current = null;
        totals.cases++;
        totals.failures.push(...m.failures);
        totals.outcomes[m.outcome] = (totals.outcomes[m.outcome] ?? 0) + 1;
        totals.entries += m.entries;
      } else if (finish()) {
        totals.seeds = m.seeds;
        resolve(null);
      }
    });
    worker.on('error', (err) => {
      if (finish()) reject(new Error(`worker died${current ? ` during ${current.description}` : ''}: ${err.stack ?? err.message}`));
    });
    worker.on('exit', (code) => {
      if (finish()) reject(new Error(`worker exited with ${code}${current ? ` during ${current.description}` : ''}`));
    });
  });
}

/** Runs the cases in order; after a hang a new worker goes on with the next case. */
async function runShard(job: WorkerJob, totals: Totals): Promise<void> {
  let rest = job.indexes;
  while (rest.length > 0) {
    const hung = await runWorker({ ...job, indexes: rest }, totals);
    if (hung === null) return;
    totals.cases++;
    totals.failures.push(hung);
    rest = rest.slice(rest.indexOf(hung.index) + 1);
  }
}

function newTotals(): Totals {
  return { cases: 0, failures: [], outcomes: {}, entries: 0, seeds: 0 };
}

/**
 * Cases that failed before, by (master seed, index), kept as reproducers until fixed; they were
 * found before test/fixtures joined the seeds, so they run on the corpus without them:
 * SHARK_FUZZ_SEED=7 cases hang in TcpAssembler.closeAll (TcpConnection flush loop) after a bit
 * flip moved a segment exactly 2^31 away in sequence space (see reassembly-regressions.test.ts).
 */
const KNOWN_CASES: readonly (readonly [number, number])[] = [
  [7, 1201],
  [7, 2540],
  [7, 4726],
  [7, 16445],
];

const single = process.env.SHARK_FUZZ_CASE;
const singleWs = process.env.SHARK_FUZZ_WS_CASE;
const singleH2 = process.env.SHARK_FUZZ_H2_CASE;

if (singleH2 !== undefined) {
  test(`http2 fuzz case ${singleH2} (seed ${MASTER_SEED})`, async (t) => {
    const c = makeHttp2Case(MASTER_SEED, Number(singleH2));
    t.diagnostic(c.description);
    const out = await runCase(c);
    t.diagnostic(`readCaptures: ${out.readOutcome}, ${out.entries} entries`);
    assert.deepEqual(out.failures, [], formatFailures(out.failures));
  });
} else if (singleWs !== undefined) {
  test(`websocket fuzz case ${singleWs} (seed ${MASTER_SEED})`, async (t) => {
    const c = makeWebSocketCase(MASTER_SEED, Number(singleWs));
    t.diagnostic(c.description);
    const out = await runCase(c);
    t.diagnostic(`readCaptures: ${out.readOutcome}, ${out.entries} entries`);
    assert.deepEqual(out.failures, [], formatFailures(out.failures));
  });
} else if (single !== undefined) {
  test(`fuzz case ${single} (seed ${MASTER_SEED})`, async (t) => {
    const c = makeCase(loadSeeds(), MASTER_SEED, Number(single));
    t.diagnostic(c.description);
    const out = await runCase(c);
    t.diagnostic(`readCaptures: ${out.readOutcome}, ${out.entries} entries`);
    assert.deepEqual(out.failures, [], formatFailures(out.failures));
  });
} else {
  test(`${CASES} damaged captures through the read path: no escaped exception, no hang, caps held`, async (t) => {
    const totals = newTotals();
    const all = Array.from({ length: CASES }, (_, i) => i);
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => runShard({ masterSeed: MASTER_SEED, indexes: all.filter((i) => i % WORKERS === w) }, totals)));
    const { cases, failures, outcomes } = totals;
    t.diagnostic(`${cases} cases from ${totals.seeds} seed captures; readCaptures outcomes ${JSON.stringify(outcomes)}; ${totals.entries} entries`);
    assert.equal(cases, CASES, 'every case ran');
    // The mutations must exercise both outcomes, or they are not testing anything.
    assert.ok((outcomes.ok ?? 0) > CASES / 4, `too few successful reads: ${JSON.stringify(outcomes)}`);
    assert.ok(cases - (outcomes.ok ?? 0) > 0, 'no case ended with a SharkError');
    assert.deepEqual(failures, [], formatFailures(failures));
  });
}

const WS_CASES = Number(process.env.SHARK_FUZZ_WS_CASES ?? 300);

test(`${WS_CASES} WebSocket connections after an upgrade, damaged: no escaped exception, no internal error, no hang`, async (t) => {
  const totals = newTotals();
  const all = Array.from({ length: WS_CASES }, (_, i) => i);
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => runShard({ masterSeed: MASTER_SEED, indexes: all.filter((i) => i % WORKERS === w), kind: 'websocket' }, totals)));
  t.diagnostic(`${totals.cases} WebSocket cases; readCaptures outcomes ${JSON.stringify(totals.outcomes)}; ${totals.entries} entries`);
  assert.equal(totals.cases, WS_CASES, 'every case ran');
  assert.ok(totals.entries > WS_CASES * 3, 'the cases produce WebSocket messages, not only rejected input');
  assert.deepEqual(totals.failures, [], formatFailures(totals.failures));
});

const H2_CASES = Number(process.env.SHARK_FUZZ_H2_CASES ?? 300);

test(`${H2_CASES} HTTP/2 connections, damaged (random and truncated frames, CONTINUATION chains, HPACK attacks): no escaped exception, no internal error, no hang`, async (t) => {
  const totals = newTotals();
  const all = Array.from({ length: H2_CASES }, (_, i) => i);
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => runShard({ masterSeed: MASTER_SEED, indexes: all.filter((i) => i % WORKERS === w), kind: 'http2' }, totals)));
  t.diagnostic(`${totals.cases} HTTP/2 cases; readCaptures outcomes ${JSON.stringify(totals.outcomes)}; ${totals.entries} entries`);
  assert.equal(totals.cases, H2_CASES, 'every case ran');
  assert.ok(totals.entries > H2_CASES * 2, 'the cases produce HTTP/2 entries, not only rejected input');
  assert.deepEqual(totals.failures, [], formatFailures(totals.failures));
});

test('known reproducers from earlier fuzz runs: no escaped exception, no hang', async (t) => {
  const totals = newTotals();
  for (const seed of new Set(KNOWN_CASES.map(([s]) => s))) {
    await runShard({ masterSeed: seed, indexes: KNOWN_CASES.filter(([s]) => s === seed).map(([, i]) => i), fixtures: false }, totals);
  }
  t.diagnostic(`${totals.cases} known cases; readCaptures outcomes ${JSON.stringify(totals.outcomes)}`);
  assert.equal(totals.cases, KNOWN_CASES.length, 'every known case ran');
  assert.deepEqual(totals.failures, [], formatFailures(totals.failures));
});

test('the fixtures among the seeds, unmutated, whole and a byte at a time: every entry display-safe', async (t) => {
  const fixtures = loadSeeds().filter((seed) => seed.name.startsWith('fixtures/'));
  assert.equal(fixtures.length, FIXTURE_SEEDS.length, 'every fixture is in the corpus');
  for (const seed of fixtures) {
    for (const chunkBytes of [1 << 20, 1]) {
      const out = await runCase({ masterSeed: 0, index: -1, description: `${seed.name} as recorded, chunks of ${chunkBytes}`, data: seed.data, chunkBytes });
      t.diagnostic(`${seed.name}, chunks of ${chunkBytes}: ${out.entries} entries`);
      assert.equal(out.readOutcome, 'ok');
      assert.ok(out.entries > 0, 'the fixture yields entries');
      assert.deepEqual(out.failures, [], formatFailures(out.failures));
    }
  }
});
