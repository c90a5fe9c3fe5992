/**
 * Goal 2 of issue 17: `kubectl shark read F.ndjson --filter Q -o json` against `jq -c 'select(...)'`
 * on the same NDJSON and query, timed in the same run, at three sizes (NDJSON written by
 * `read -o json` from generated HTTP captures, cached in test/bench/out).
 *
 * Method: CPU seconds (user + system, GNU time) of each command pinned to the same core with
 * taskset, so the figure is the work done, not the wait on a shared machine; each command is run
 * twice and its lower CPU time kept. The two outputs are compared (bytes, else line by line
 * parsed): a figure whose outputs differ is reported as such and never as met.
 *
 * Each size also times json-parse-floor.ts (JSON.parse of every line and nothing else) against jq's
 * first query: the ceiling of any filter in Node that must tell bad lines from dropped ones.
 *
 *   node --import tsx test/bench/ndjson-filter.ts            # 60, 200 and 600 MB of NDJSON
 *   NDJSON_FILTER_SIZES=60MB node --import tsx test/bench/ndjson-filter.ts
 *   NDJSON_FILTER_CLI=/path/to/other/bin/kubectl-shark ...   # another build, for before/after
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { printFigure } from './figures.ts';
import { BENCH_OUT_DIR, ensureHttpCapture } from './make-http-capture.ts';
import { CLI, round, run } from './timed-run.ts';

const JQ = '/usr/bin/jq';
/** A Node program that only parses each line (json-parse-floor.ts): what no filter in Node can beat. */
const FLOOR = join(dirname(fileURLToPath(import.meta.url)), 'json-parse-floor.ts');

/**
 * json-parse-floor.ts as plain JavaScript in test/bench/out: run as .ts, Node strips its types at
 * every start (measured ~0.04 CPU-s, a fifth of the 61 MB figure), which the ceiling must not pay.
 */
function floorScript(): string {
  const path = join(BENCH_OUT_DIR, 'json-parse-floor.mjs');
  writeFileSync(path, stripTypeScriptTypes(readFileSync(FLOOR, 'utf8')));
  return path;
}
/** Another build's launcher (e.g. of the commit before a change), for before/after figures. */
const SHARK = process.env['NDJSON_FILTER_CLI'] ?? CLI;
const CORE = 1;
const GOAL_RATIO = 5;
/** NDJSON is about 1.32 times the capture it was read from (bodies as JSON text, headers as maps). */
const NDJSON_PER_CAPTURE_BYTE = 1.32;
const MB = 1_000_000;

/** Each query in KFL and as jq's select(): the same entries either way on these files. */
const QUERIES: readonly { readonly kfl: string; readonly jq: string; readonly what: string }[] = [
  { kfl: 'response.status >= 404', jq: 'select(.response.status >= 404)', what: 'selective (~8%)' },
  { kfl: 'request.method == "DELETE" and response.status < 300', jq: 'select(.request.method == "DELETE" and .response.status < 300)', what: 'selective (~5%)' },
  { kfl: 'response.status >= 200', jq: 'select(.response.status >= 200)', what: 'matches all' },
];

function sizesFromEnv(): number[] {
  const text = process.env['NDJSON_FILTER_SIZES'] ?? '60MB,200MB,600MB';
  return text.split(',').map((s) => {
    const m = /^(\d+)MB$/i.exec(s.trim());
    if (!m) throw new Error(`NDJSON_FILTER_SIZES: ${s} is not a size like 200MB`);
    return Number(m[1]) * MB;
  });
}

/** `read -o json` of a generated capture of about the size that gives `bytes` of NDJSON. */
async function ensureNdjson(bytes: number, seed: number): Promise<string> {
  mkdirSync(BENCH_OUT_DIR, { recursive: true });
  const path = join(BENCH_OUT_DIR, `ndjson-filter-s${seed}-${bytes / MB}MB.ndjson`);
  if (existsSync(path)) return path;
  const { path: capture } = ensureHttpCapture({ targetBytes: Math.round(bytes / NDJSON_PER_CAPTURE_BYTE), seed });
  const partial = `${path}.part`;
  const made = await run(CLI, ['read', capture, '-o', 'json', '-q'], { stdoutFile: partial });
  if (made.code !== 0) throw new Error(`read -o json ${capture} failed (${made.code}): ${made.stderr}`);
  renameSync(partial, path);
  return path;
}

/** Lower CPU seconds of two runs, pinned to CORE, stdout to `out`. */
async function cpuOf(cmd: string, args: readonly string[], out: string): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const r = await run(cmd, args, { stdoutFile: out, measureCpu: true, pinCpu: CORE });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
    if (r.cpuSeconds === null) throw new Error(`no CPU time for ${cmd} (GNU time at /usr/bin/time is needed)`);
    best = Math.min(best, r.cpuSeconds);
  }
  return best;
}

/** Lines of a file, read in chunks (the outputs can be hundreds of MB). */
function* linesOf(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let rest = '';
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const parts = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = parts.pop()!;
      yield* parts.filter((l) => l !== '');
    }
    if (rest !== '') yield rest;
  } finally {
    closeSync(fd);
  }
}

/** The same entries: equal bytes, else equal line by line once parsed (jq may spell numbers its way). */
function sameOutput(a: string, b: string): { same: boolean; lines: number } {
  const ia = linesOf(a);
  const ib = linesOf(b);
  let lines = 0;
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return { same: x.done === true && y.done === true, lines };
    lines++;
    if (x.value !== y.value && !isDeepStrictEqual(JSON.parse(x.value), JSON.parse(y.value))) return { same: false, lines };
  }
}

async function main(): Promise<void> {
  if (!existsSync(JQ)) {
    process.stdout.write(`ndjson-filter: ${JQ} is not installed (apt-get install jq): no peer to compare with, nothing measured\n`);
    return;
  }
  // Per process: a before/after pair of runs may share test/bench/out.
  const ours = join(BENCH_OUT_DIR, `ndjson-filter-ours-${process.pid}.ndjson`);
  const theirs = join(BENCH_OUT_DIR, `ndjson-filter-jq-${process.pid}.ndjson`);
  process.stdout.write(`read F.ndjson --filter Q -o json vs jq -c 'select(...)': CPU seconds, both pinned to core ${CORE}, best of 2\n\n`);
  process.stdout.write(`${'NDJSON'.padEnd(8)} ${'query'.padEnd(56)} ${'lines'.padStart(7)} ${'ours s'.padStart(7)} ${'jq s'.padStart(7)} ${'ratio'.padStart(6)}  same\n`);
  const floor = floorScript();
  for (const [i, target] of sizesFromEnv().entries()) {
    const file = await ensureNdjson(target, 40 + i);
    const bytes = statSync(file).size;
    const size = `${Math.round(bytes / MB)} MB NDJSON`;
    let firstJqCpu: number | null = null;
    for (const q of QUERIES) {
      const oursCpu = await cpuOf(SHARK, ['read', file, '-o', 'json', '-q', '--filter', q.kfl], ours);
      const jqCpu = await cpuOf(JQ, ['-c', q.jq, file], theirs);
      firstJqCpu ??= jqCpu;
      const { same, lines } = sameOutput(ours, theirs);
      const ratio = jqCpu / oursCpu;
      process.stdout.write(
        `${size.padEnd(8)} ${`${q.kfl} [${q.what}]`.padEnd(56)} ${String(lines).padStart(7)} ${oursCpu.toFixed(2).padStart(7)} ${jqCpu.toFixed(2).padStart(7)} ${ratio.toFixed(2).padStart(6)}  ${same ? 'yes' : 'NO'}\n`,
      );
      printFigure({
        bench: 'ndjson-filter',
        figure: `read --filter '${q.kfl}' over NDJSON (MB per CPU second, one core)`,
        size,
        sizeValue: bytes,
        ours: round(bytes / MB / oursCpu, 1),
        unit: 'MB/s',
        higherIsBetter: true,
        peer: { name: `jq -c '${q.jq}'`, value: round(bytes / MB / jqCpu, 1) },
        goal: `>= ${GOAL_RATIO}x jq, same entries`,
        met: same && ratio >= GOAL_RATIO,
      });
    }
    // The ceiling: nothing but JSON.parse of every line, against jq's first (selective) query.
    const floorCpu = await cpuOf(process.execPath, [floor, file], ours);
    const jqCpu = firstJqCpu!;
    process.stdout.write(`${size.padEnd(8)} ${'JSON.parse of every line, nothing else'.padEnd(56)} ${''.padStart(7)} ${floorCpu.toFixed(2).padStart(7)} ${jqCpu.toFixed(2).padStart(7)} ${(jqCpu / floorCpu).toFixed(2).padStart(6)}  (ceiling)\n`);
    printFigure({
      bench: 'ndjson-filter',
      figure: 'JSON.parse of every line alone, the ceiling of a filter in Node (MB per CPU second, one core)',
      size,
      sizeValue: bytes,
      ours: round(bytes / MB / floorCpu, 1),
      unit: 'MB/s',
      higherIsBetter: true,
      peer: { name: `jq -c '${QUERIES[0]!.jq}'`, value: round(bytes / MB / jqCpu, 1) },
    });
  }
  rmSync(ours, { force: true });
  rmSync(theirs, { force: true });
}

await main();
