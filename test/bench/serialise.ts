/**
 * The output side of `read -o json` (issue 17, goal 1): entries to NDJSON bytes, and the start-up
 * of a `read -o json` that has almost nothing to read.
 *
 * 1. Sink throughput, in entries per CPU second of this process (process.cpuUsage, so waiting for
 *    the machine's other work does not count), at 100k / 300k / 1M entries, each written to
 *    /dev/null the way Node writes stdout to a file or pipe (synchronously), best of 3 runs:
 *    - ours: LineWriter.writeJson, the sink `read`, `demo` and `tap` use (64 KiB chunks, one pass to
 *      UTF-8 that also proves a line pure ASCII);
 *    - peer 1: JSON.stringify alone, making the string only (the floor: no terminal check, no bytes);
 *    - peer 2: the sink before issue 17, `stringifyJson(entry) + "\n"` written as one string per line.
 *    A serialiser specialised to the HTTP entry shape (template strings, a per-string "nothing to
 *    escape" check) was measured too and dropped: 1.3x slower than JSON.stringify on these entries,
 *    no faster on 12 KB ones (V8's JSON.stringify is native and has its own fast path).
 * 2. Start-up: CPU milliseconds (user + sys, GNU time) of `read -o json` on three small corpus
 *    captures against bare `node -e ""` with the launcher's flags, both pinned to CPU 1 (taskset),
 *    median of 7; peak RSS beside it.
 *
 *   node test/bench/serialise.ts [--sizes 100000,300000,1000000] [--runs 7]
 */
import { once } from 'node:events';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Entry } from '../../src/model/entry.ts';
import { stringifyJson } from '../../src/model/terminal-text.ts';
import { LineWriter } from '../../src/pipeline/sinks/line-writer.ts';
import { printFigure } from './figures.ts';
import { makeEntries } from './synthetic-entries.ts';
import { CLI, MAIN_JS, ROOT, round, run } from './timed-run.ts';

const BENCH = 'serialise';
/** Distinct entry objects; bigger sizes write them again (JSON.stringify caches nothing). */
const DISTINCT_ENTRIES = 100_000;
const PIN_CPU = 1;
/** Timed runs per path and size (the best counts). */
const ROUNDS = 3;
const NODE = join(ROOT, 'node_modules', 'node', 'bin', 'node');
/** The launcher's V8 flag (bin/kubectl-shark), so the bare-node peer starts the same runtime. */
const LAUNCHER_FLAGS = ['--max-semi-space-size=8'];
const STARTUP_CAPTURES: ReadonlyArray<{ readonly file: string; readonly label: string }> = [
  { file: 'test/fixtures/pcaps/http/chunked-gzip-wireshark-org.pcap', label: '29 KB capture (1 entry)' },
  { file: 'test/fixtures/pcaps/http/dvwa-login-keepalive-post.pcapng', label: '32 KB capture (8 entries)' },
  { file: 'assets/demo/microservices.pcapng', label: 'demo capture (196 KB)' },
];

function argOf(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function cpuSecondsOf(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  return work().then(() => {
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1e6;
  });
}

/**
 * /dev/null written as Node writes process.stdout to a file or pipe on Linux: synchronously, one
 * write(2) per chunk (no thread pool whose CPU would blur the figure).
 */
function devNullStream(): Writable {
  const fd = openSync('/dev/null', 'w');
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writeSync(fd, chunk);
      callback();
    },
    final(callback) {
      closeSync(fd);
      callback();
    },
  });
}

async function closeStream(out: Writable): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** ours: the sink as `read -o json` drives it, waiting when the stream asks. */
async function viaLineWriter(entries: readonly Entry[], count: number): Promise<void> {
  const out = devNullStream();
  const writer = new LineWriter(out);
  for (let i = 0; i < count; i++) {
    writer.writeJson(entries[i % entries.length]!);
    const wait = writer.drained();
    if (wait !== undefined) await wait;
  }
  await writer.end();
  await closeStream(out);
}

/** The sink before issue 17: one terminal-safe string and one write per line. */
async function viaLineStrings(entries: readonly Entry[], count: number): Promise<void> {
  const out = devNullStream();
  for (let i = 0; i < count; i++) {
    if (!out.write(`${stringifyJson(entries[i % entries.length]!)}\n`)) await once(out, 'drain');
  }
  await closeStream(out);
}

/** The floor: the JSON text only. The lengths are summed so the work cannot be skipped. */
async function stringifyOnly(entries: readonly Entry[], count: number): Promise<void> {
  let chars = 0;
  for (let i = 0; i < count; i++) chars += JSON.stringify(entries[i % entries.length]!).length;
  if (chars === 0) throw new Error('no JSON written');
}

function sizeLabel(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M entries` : `${n / 1000}k entries`;
}

async function sinkThroughput(sizes: readonly number[]): Promise<void> {
  const entries = makeEntries(DISTINCT_ENTRIES, Date.UTC(2026, 0, 1));
  const bytesPerEntry = Buffer.byteLength(entries.slice(0, 1000).map((e) => `${stringifyJson(e)}\n`).join('')) / 1000;
  console.log(`sink throughput: synthetic HTTP entries, ${Math.round(bytesPerEntry)} B of NDJSON each, to /dev/null; entries per CPU second of this process`);
  console.log(`${'entries'.padStart(10)}  ${'LineWriter.writeJson'.padStart(22)}  ${'per-line stringifyJson'.padStart(22)}  ${'JSON.stringify only'.padStart(20)}`);
  // Warm-up: all three paths optimised before anything is timed.
  await viaLineWriter(entries, 20_000);
  await viaLineStrings(entries, 20_000);
  await stringifyOnly(entries, 20_000);
  for (const size of sizes) {
    // The least CPU of ROUNDS alternating runs per path: the machine's other work only adds.
    let ours = 0;
    let before = 0;
    let floor = 0;
    for (let round = 0; round < ROUNDS; round++) {
      ours = Math.max(ours, size / (await cpuSecondsOf(() => viaLineWriter(entries, size))));
      before = Math.max(before, size / (await cpuSecondsOf(() => viaLineStrings(entries, size))));
      floor = Math.max(floor, size / (await cpuSecondsOf(() => stringifyOnly(entries, size))));
    }
    console.log(`${String(size).padStart(10)}  ${Math.round(ours).toString().padStart(22)}  ${Math.round(before).toString().padStart(22)}  ${Math.round(floor).toString().padStart(20)}`);
    const common = { bench: BENCH, size: sizeLabel(size), sizeValue: size, ours: Math.round(ours), unit: 'entries/CPU-s', higherIsBetter: true } as const;
    printFigure({ ...common, figure: 'NDJSON sink throughput vs the per-line sink before issue 17', peer: { name: 'stringifyJson + one write per line', value: Math.round(before) } });
    printFigure({ ...common, figure: 'NDJSON sink throughput vs JSON.stringify alone (string only)', peer: { name: 'JSON.stringify', value: Math.round(floor) } });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

async function startup(runs: number): Promise<void> {
  console.log(`\nstart-up: CPU ms (user+sys) pinned to CPU ${PIN_CPU}, median of ${runs}; peak RSS`);
  const bare: number[] = [];
  const bareRss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(NODE, [...LAUNCHER_FLAGS, '-e', ''], { measureCpu: true, measureRss: true, pinCpu: PIN_CPU });
    if (r.cpuSeconds === null) throw new Error('GNU time is needed for CPU seconds (/usr/bin/time)');
    bare.push(r.cpuSeconds * 1000);
    bareRss.push((r.peakRssKb ?? 0) / 1024);
  }
  const bareMs = median(bare);
  console.log(`  bare node -e "": ${round(bareMs, 0)} ms, ${round(median(bareRss), 1)} MB`);
  for (const { file, label } of STARTUP_CAPTURES) {
    const ms: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await run(CLI, ['read', join(ROOT, file), '-o', 'json', '-q'], { measureCpu: true, measureRss: true, pinCpu: PIN_CPU });
      if (r.code !== 0 || r.cpuSeconds === null) throw new Error(`read ${file} failed (exit ${r.code}): ${r.stderr}`);
      ms.push(r.cpuSeconds * 1000);
      rss.push((r.peakRssKb ?? 0) / 1024);
    }
    const oursMs = median(ms);
    console.log(`  read -o json, ${label}: ${round(oursMs, 0)} ms, ${round(median(rss), 1)} MB (${round(oursMs - bareMs, 0)} ms over bare node)`);
    printFigure({
      bench: BENCH,
      figure: 'read -o json start-up on a small capture (CPU ms, pinned to one core)',
      size: label,
      sizeValue: STARTUP_CAPTURES.findIndex((c) => c.file === file) + 1,
      ours: round(oursMs, 0),
      unit: 'CPU ms',
      higherIsBetter: false,
      peer: { name: 'bare node -e ""', value: round(bareMs, 0) },
    });
    printFigure({
      bench: BENCH,
      figure: 'read -o json peak RSS on a small capture',
      size: label,
      sizeValue: STARTUP_CAPTURES.findIndex((c) => c.file === file) + 1,
      ours: round(median(rss), 1),
      unit: 'MB',
      higherIsBetter: false,
      peer: { name: 'bare node -e ""', value: round(median(bareRss), 1) },
    });
  }
}

const sizes = (argOf('sizes') ?? '100000,300000,1000000').split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes ${argOf('sizes')}: whole numbers of entries, comma-separated`);
const runs = Number(argOf('runs') ?? '7');
if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build first`);
await sinkThroughput(sizes);
await startup(runs);
