/**
 * KFL benchmark (acceptance 4 of the KFL issue), run by `npm run bench`:
 * 1. evaluations per second of compiled filters over 1M distinct in-memory entries, one core;
 * 2. `kubectl shark read F.ndjson --filter Q` against `jq -c 'select(...)' F.ndjson` on the same
 *    NDJSON (written by `read -o json` from a generated capture), timed in the same run, with their ratio.
 * Prints a table and one JSON line. Goal: >= 5M evaluations/s for `http and response.status >= 500`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileKfl } from '../../src/kfl/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import { ensureHttpCapture } from './make-http-capture.ts';
import { makeEntries } from './synthetic-entries.ts';
import { BENCH_KFL_QUERIES } from './kfl-queries.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'test', 'bench', 'out');
const ENTRIES = Number(process.env["KFL_BENCH_ENTRIES"] ?? 1_000_000);


interface EvalResult {
  readonly query: string;
  readonly evalsPerSec: number;
  readonly matched: number;
}

function measureEvals(entries: readonly Entry[], nowMs: number): EvalResult[] {
  const results: EvalResult[] = [];
  for (const query of BENCH_KFL_QUERIES) {
    const compiled = compileKfl(query, { nowMs });
    if (!compiled.ok) throw new Error(`${query}: ${compiled.error.message}`);
    const test = compiled.filter.test.bind(compiled.filter);
    // Warm-up pass (JIT), then the best of three timed passes over every entry.
    let matched = 0;
    for (let i = 0; i < 200_000; i++) if (test(entries[i]!)) matched++;
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      matched = 0;
      const started = performance.now();
      for (let i = 0; i < entries.length; i++) if (test(entries[i]!)) matched++;
      best = Math.min(best, performance.now() - started);
    }
    results.push({ query, evalsPerSec: Math.round(entries.length / (best / 1000)), matched });
  }
  return results;
}

function timeCommand(cmd: string, args: readonly string[], stdoutFile: string | null): Promise<{ seconds: number; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const fd = openSync(stdoutFile ?? '/dev/null', 'w');
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', fd, 'ignore'] });
    child.on('error', reject);
    child.on('close', (code) => {
      closeSync(fd);
      resolvePromise({ seconds: (performance.now() - started) / 1000, code });
    });
  });
}

async function compareWithJq(): Promise<Record<string, number | string>> {
  mkdirSync(OUT, { recursive: true });
  const { path: capture } = ensureHttpCapture({ targetBytes: 50 * 1024 * 1024, seed: 3 });
  const ndjson = join(OUT, 'kfl-bench.ndjson');
  const launcher = join(ROOT, 'bin', 'kubectl-shark');
  const fromCapture = await timeCommand(launcher, ['read', capture, '-o', 'json', '-q'], ndjson);
  if (!existsSync('/usr/bin/jq')) return { note: 'jq is not installed (apt-get install jq): comparison skipped' };
  const ours = await timeCommand(launcher, ['read', ndjson, '-o', 'json', '-q', '--filter', 'http and response.status >= 500'], join(OUT, 'kfl-ours.ndjson'));
  const jq = await timeCommand('/usr/bin/jq', ['-c', 'select(.protocol.name == "http" and .response != null and .response.status >= 500)', ndjson], join(OUT, 'kfl-jq.ndjson'));
  return {
    ndjsonFile: ndjson,
    ndjsonBytes: statSync(ndjson).size,
    dissectCaptureSeconds: round(fromCapture.seconds),
    readFilterOnNdjsonSeconds: round(ours.seconds),
    jqOnNdjsonSeconds: round(jq.seconds),
    ratioJqOverOurs: round(jq.seconds / ours.seconds),
    sameLineCount: lineCount(join(OUT, 'kfl-ours.ndjson')) === lineCount(join(OUT, 'kfl-jq.ndjson')) ? 'yes' : 'NO',
  };
}

function lineCount(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function main(): Promise<void> {
  const nowMs = Date.UTC(2026, 10, 29, 12, 0, 0);
  process.stdout.write(`building ${ENTRIES} in-memory entries ...\n`);
  const entries = makeEntries(ENTRIES, nowMs);
  const evals = measureEvals(entries, nowMs);
  process.stdout.write('\nquery                                                              evals/s   matched\n');
  for (const r of evals) process.stdout.write(`${r.query.padEnd(64)} ${String(r.evalsPerSec).padStart(11)} ${String(r.matched).padStart(9)}\n`);
  const headline = evals[0]!;
  process.stdout.write(`\n${headline.query}: ${(headline.evalsPerSec / 1e6).toFixed(1)}M evaluations/s (goal: at least 5M)\n`);
  const jq = await compareWithJq();
  process.stdout.write(`read --filter vs jq: ${JSON.stringify(jq)}\n`);
  process.stdout.write(`${JSON.stringify({ name: 'kfl-evals', entries: ENTRIES, evals, jq })}\n`);
}

await main();
