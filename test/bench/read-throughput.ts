/**
 * `npm run bench`: throughput of `kubectl shark read` against tshark on the same HTTP/1.1 capture,
 * and the CLI's peak RSS on a capture of at least 1 GB.
 *
 * Steps (captures are generated once into test/bench/out and reused):
 *  1. ours:   bin/kubectl-shark read F -o json > /dev/null  (entries from the summary on stderr)
 *  2. tshark: tshark -r F -Y http -T fields -e http.request.method -e http.request.uri
 *             -e http.response.code  (entries = lines with a request method)
 *  3. ours on the >= 1 GB capture under /usr/bin/time -f %M (or an in-process rusage probe when
 *     /usr/bin/time is missing) for the peak RSS.
 *
 * MB are 10^6 bytes of capture file. Prints a table, then one JSON line. Exits 1 when the peak RSS
 * reaches 300 MB (hard bound) or a reader fails; a ratio under 3 is reported, not failed.
 *
 * Options: --throughput-bytes 200MiB  --rss-bytes 1GiB  --seed 1  --no-tshark  --profile
 * (--profile also runs the CLI under `node --cpu-prof` on the throughput capture and prints the
 * top functions by self time.)
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseByteSize } from '../../cmd/byte-size.ts';
import { ensureHttpCapture, type HttpCaptureSummary } from './make-http-capture.ts';
import { readProfile, summarizeProfile } from './profile-summary.ts';
import { CLI, entriesFromSummary, GNU_TIME, MAIN_JS, round, run, type RunResult } from './timed-run.ts';
const RSS_LIMIT_MB = 300;
const RATIO_GOAL = 3;

interface Figures {
  mbPerSec: number;
  entriesPerSec: number;
  seconds: number;
  entries: number;
}

function figures(bytes: number, seconds: number, entries: number): Figures {
  return {
    mbPerSec: round(bytes / 1e6 / seconds, 2),
    entriesPerSec: Math.round(entries / seconds),
    seconds: round(seconds, 2),
    entries,
  };
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function runOurs(path: string, measureRss: boolean): Promise<{ result: RunResult; entries: number }> {
  const result = await run(CLI, ['read', path, '-o', 'json'], { measureRss });
  const entries = entriesFromSummary(result.stderr);
  if (result.code !== 0 || entries === null) {
    throw new Error(`kubectl-shark read ${path} failed (exit ${result.code}):\n${result.stderr.slice(-4000)}`);
  }
  return { result, entries };
}

function checkEntries(who: string, got: number, summary: HttpCaptureSummary): string | null {
  if (got === summary.exchanges) return null;
  return `note: ${who} found ${got} entries, the generator wrote ${summary.exchanges} exchanges`;
}

async function profile(path: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shark-prof-'));
  try {
    const node = process.execPath;
    const r = await run(node, ['--cpu-prof', `--cpu-prof-dir=${dir}`, MAIN_JS, 'read', path, '-o', 'json']);
    if (r.code !== 0) throw new Error(`profiling run failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error('no .cpuprofile written');
    log('');
    log(`CPU profile of kubectl-shark read (${round(r.seconds, 1)} s with the profiler), top functions by self time:`);
    for (const h of summarizeProfile(readProfile(join(dir, file))).slice(0, 25)) {
      log(`  ${h.selfPercent.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.where}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const flag = (name: string): boolean => argv.includes(`--${name}`);
  const value = (name: string, dflt: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
  };
  const throughputBytes = parseByteSize(value('throughput-bytes', '200MiB'));
  const rssBytes = parseByteSize(value('rss-bytes', '1GiB'));
  const seed = Number(value('seed', '1'));
  if (throughputBytes === undefined || rssBytes === undefined || !Number.isFinite(seed)) {
    process.stderr.write('read-throughput: bad --throughput-bytes, --rss-bytes or --seed\n');
    return 2;
  }
  if (!existsSync(MAIN_JS)) {
    process.stderr.write(`read-throughput: ${MAIN_JS} is missing: run npm run build (npm run bench does)\n`);
    return 2;
  }
  const withTshark = !flag('no-tshark');
  const notes: string[] = [];

  // Captures.
  let t = performance.now();
  const small = ensureHttpCapture({ targetBytes: throughputBytes, seed });
  log(`throughput capture: ${small.path} (${(small.summary.bytes / 1e6).toFixed(1)} MB, ${small.summary.exchanges} exchanges, ${small.summary.packets} packets, ${small.summary.connections} connections)${small.generated ? `, generated in ${round((performance.now() - t) / 1000, 1)} s` : ', cached'}`);
  t = performance.now();
  const big = ensureHttpCapture({ targetBytes: rssBytes, seed: seed + 1 });
  log(`RSS capture:        ${big.path} (${(big.summary.bytes / 1e6).toFixed(1)} MB, ${big.summary.exchanges} exchanges, ${big.summary.packets} packets)${big.generated ? `, generated in ${round((performance.now() - t) / 1000, 1)} s` : ', cached'}`);
  const smallBytes = statSync(small.path).size;
  const bigBytes = statSync(big.path).size;

  // Ours on the throughput capture.
  log('running kubectl-shark read on the throughput capture ...');
  const ours = await runOurs(small.path, true);
  const oursFig = figures(smallBytes, ours.result.seconds, ours.entries);
  const n1 = checkEntries('kubectl-shark', ours.entries, small.summary);
  if (n1) notes.push(n1);

  // tshark on the same capture.
  let tsharkFig: Figures | null = null;
  let tsharkRssKb: number | null = null;
  if (withTshark) {
    log('running tshark on the throughput capture (slow) ...');
    const r = await run(
      'tshark',
      ['-r', small.path, '-Y', 'http', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code'],
      { countLine: (line) => line !== '' && !line.startsWith('\t'), measureRss: true },
    );
    if (r.code !== 0) throw new Error(`tshark failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    tsharkFig = figures(smallBytes, r.seconds, r.counted);
    tsharkRssKb = r.peakRssKb;
    const n2 = checkEntries('tshark', r.counted, small.summary);
    if (n2) notes.push(n2);
  }

  // Ours on the >= 1 GB capture, for the peak RSS.
  log('running kubectl-shark read on the RSS capture ...');
  const bigRun = await runOurs(big.path, true);
  const bigFig = figures(bigBytes, bigRun.result.seconds, bigRun.entries);
  const n3 = checkEntries('kubectl-shark (RSS capture)', bigRun.entries, big.summary);
  if (n3) notes.push(n3);
  const peakRssKb = bigRun.result.peakRssKb;
  const peakRssMb = peakRssKb === null ? null : round((peakRssKb * 1024) / 1e6, 1);
  const rssMethod = existsSync(GNU_TIME) ? '/usr/bin/time -f %M' : 'rusage probe (NODE_OPTIONS --import)';

  const ratio = tsharkFig === null ? null : round(oursFig.mbPerSec / tsharkFig.mbPerSec, 2);

  // Report.
  log('');
  log(`reader                          capture   seconds     MB/s   entries   entries/s   peak RSS`);
  const row = (name: string, f: Figures, bytes: number, rssKb: number | null): string =>
    `${name.padEnd(31)} ${`${(bytes / 1e6).toFixed(0)} MB`.padStart(7)} ${f.seconds.toFixed(2).padStart(9)} ${f.mbPerSec.toFixed(2).padStart(8)} ${String(f.entries).padStart(9)} ${String(f.entriesPerSec).padStart(11)} ${rssKb === null ? '         -' : `${((rssKb * 1024) / 1e6).toFixed(1)} MB`.padStart(10)}`;
  log(row('kubectl-shark read -o json', oursFig, smallBytes, ours.result.peakRssKb));
  if (tsharkFig) log(row('tshark -Y http -T fields', tsharkFig, smallBytes, tsharkRssKb));
  log(row('kubectl-shark read (RSS run)', bigFig, bigBytes, peakRssKb));
  log('');
  if (ratio !== null) log(`throughput ratio (ours / tshark, MB/s on the same capture): ${ratio}x (goal: at least ${RATIO_GOAL}x)`);
  log(`peak RSS on ${(bigBytes / 1e6).toFixed(0)} MB: ${peakRssMb ?? 'unknown'} MB (bound: under ${RSS_LIMIT_MB} MB; measured with ${rssMethod})`);

  let failed = false;
  if (peakRssMb === null) {
    notes.push(`FAIL: peak RSS could not be measured`);
    failed = true;
  } else if (peakRssMb >= RSS_LIMIT_MB) {
    notes.push(`FAIL: peak RSS ${peakRssMb} MB on a ${(bigBytes / 1e6).toFixed(0)} MB capture is not under ${RSS_LIMIT_MB} MB`);
    failed = true;
  }
  if (ratio !== null && ratio < RATIO_GOAL) notes.push(`note: throughput ratio ${ratio}x is under the ${RATIO_GOAL}x goal (not a failure)`);
  for (const n of notes) log(n);

  if (flag('profile')) await profile(small.path);

  log(
    JSON.stringify({
      name: 'read-throughput',
      ours: { mbPerSec: oursFig.mbPerSec, entriesPerSec: oursFig.entriesPerSec, seconds: oursFig.seconds, entries: oursFig.entries },
      tshark: tsharkFig && { mbPerSec: tsharkFig.mbPerSec, entriesPerSec: tsharkFig.entriesPerSec, seconds: tsharkFig.seconds, entries: tsharkFig.entries },
      ratio,
      peakRssMb,
      captureBytes: smallBytes,
      rssCaptureBytes: bigBytes,
      rssRun: { mbPerSec: bigFig.mbPerSec, entriesPerSec: bigFig.entriesPerSec, seconds: bigFig.seconds, entries: bigFig.entries },
      rssMethod,
    }),
  );
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`read-throughput: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
