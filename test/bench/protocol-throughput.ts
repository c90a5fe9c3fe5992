/**
 * `npm run bench`: entries/s of `kubectl shark read -o json` on one core for each data protocol
 * (Redis, PostgreSQL, MySQL, Kafka, AMQP, MongoDB: every case in test/bench/protocols), beside
 * tshark's time on the same file with the case's display filter, on the same core.
 *
 * Per case and size: a deterministic capture of its conversations
 * (test/bench/out/protocol-<p>-<seed>-<n>.pcap, at least n entries; three sizes, 3x apart, so the
 * README can say how the cost grows with the work), then
 *   ours:   taskset -c 0 bin/kubectl-shark read F -o json      (entries from the summary, checked
 *           against the sum of the conversations' entries and against the protocol of each line)
 *   tshark: taskset -c 0 tshark -r F [args] -Y <filter> -T fields -e frame.number
 * Both are timed by CPU time (user + system, GNU time) as well as the wall clock: the machine may
 * be busy, and the figure asked for is the work on one core.
 * Prints a table, a BENCH-FIGURE line per case and size (figures.ts, for npm run bench's README
 * table), one JSON line, and writes the JSON to <out>/protocol-throughput.json.
 * Exits 1 when a case fails or our entry count is not the case's.
 *
 * Options: --sizes 5000,15000,45000 (entries; --entries N is one size)  --seed 1  --no-tshark
 * --only redis,kafka  --out test/bench/out
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printFigure } from './figures.ts';
import { BENCH_OUT_DIR } from './make-http-capture.ts';
import { BENCH_CPU, buildProtocolCapture, loadBenchCases, measureProtocol, protocolFigure, type ProtocolFigures } from './protocol-bench.ts';
import { MAIN_JS, round } from './timed-run.ts';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

async function main(argv: readonly string[]): Promise<number> {
  const value = (name: string, dflt: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
  };
  const sizes = value('entries', value('sizes', '5000,15000,45000')).split(',').map(Number);
  const seed = Number(value('seed', '1'));
  const only = value('only', '').split(',').filter((p) => p !== '');
  const outDir = value('out', BENCH_OUT_DIR);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isFinite(seed)) {
    process.stderr.write('protocol-throughput: --sizes takes positive integers separated by commas (--entries one), --seed a number\n');
    return 2;
  }
  if (!existsSync(MAIN_JS)) {
    process.stderr.write(`protocol-throughput: ${MAIN_JS} is missing: run npm run build (npm run bench does)\n`);
    return 2;
  }
  const withTshark = !argv.includes('--no-tshark');
  const cases = (await loadBenchCases()).filter((c) => only.length === 0 || only.includes(c.benchCase.protocol));
  if (cases.length === 0) {
    process.stderr.write(`protocol-throughput: no case in test/bench/protocols${only.length > 0 ? ` for ${only.join(', ')}` : ''}\n`);
    return 2;
  }

  const results: ProtocolFigures[] = [];
  for (const { benchCase } of cases) {
    for (const minEntries of sizes) {
      const t = performance.now();
      const capture = buildProtocolCapture(benchCase, { seed, minEntries, outDir });
      log(`${benchCase.protocol}: ${capture.path} (${(capture.bytes / 1e6).toFixed(1)} MB, ${capture.conversations} connections, ${capture.entries} entries), built in ${round((performance.now() - t) / 1000, 1)} s; reading ...`);
      const r = await measureProtocol(benchCase, capture, { tshark: withTshark });
      results.push(r);
      printFigure(protocolFigure(benchCase, r));
    }
  }

  const widths = [12, 7, 8, 12, 10, 14, 11, 7];
  log('');
  log(`one core each (taskset -c ${BENCH_CPU}); s = CPU seconds (user + system), wall clock in brackets; ratio = tshark's CPU seconds / ours`);
  log(row(['protocol', 'MB', 'entries', 'ours s', 'entries/s', 'tshark s', 'tshark pkts', 'ratio'], widths));
  const secs = (cpu: number, wall: number): string => `${cpu.toFixed(2)} (${wall.toFixed(1)})`;
  for (const r of results) {
    log(
      row(
        [r.protocol, (r.captureBytes / 1e6).toFixed(1), String(r.entries), secs(r.cpuSeconds, r.seconds), String(r.entriesPerSec), r.tshark ? secs(r.tshark.cpuSeconds, r.tshark.seconds) : '-', r.tshark ? String(r.tshark.packets) : '-', r.ratio === null ? '-' : `${r.ratio}x`],
        widths,
      ),
    );
  }
  const problems = results.filter((r) => r.problem !== null);
  for (const r of problems) log(`FAIL ${r.protocol}: ${r.problem}`);
  const json = JSON.stringify({ name: 'protocol-throughput', cpu: BENCH_CPU, seed, sizes, protocols: results });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'protocol-throughput.json'), `${json}\n`);
  log(json);
  return problems.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`protocol-throughput: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
