/**
 * The data-protocol benchmark's steps, shared by the `npm run bench` script (protocol-throughput.ts)
 * and its fast test: load every case of test/bench/protocols (bench-case.ts is the contract), turn a
 * case into a deterministic capture file (TcpCaptureBuilder), then time `kubectl shark read -o json`
 * and tshark on that file, both pinned to the same CPU, by their CPU time (user + system: GNU time).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TcpCaptureBuilder } from '../robustness/tcp-capture.ts';
import type { BenchFigure } from './figures.ts';
import { BENCH_OUT_DIR } from './make-http-capture.ts';
import { Prng } from './prng.ts';
import type { ProtocolBenchCase } from './protocols/bench-case.ts';
import { CLI, entriesFromSummary, round, run } from './timed-run.ts';

export const PROTOCOL_CASES_DIR = join(BENCH_OUT_DIR, '..', 'protocols');
/** Segments as an Ethernet path cuts them. */
const MAX_SEGMENT = 1460;
/** The CPU both readers are pinned to: the figures are per core. */
export const BENCH_CPU = 0;

export interface LoadedCase {
  /** The case's file name (`redis.ts`), for messages. */
  readonly file: string;
  readonly benchCase: ProtocolBenchCase;
}

/** Every `<protocol>.ts` of the cases folder, in name order; a file without a usable `benchCase` is an error. */
export async function loadBenchCases(dir: string = PROTOCOL_CASES_DIR): Promise<LoadedCase[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'bench-case.ts' && !f.endsWith('.test.ts'))
    .sort();
  const out: LoadedCase[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { benchCase?: unknown };
    const c = mod.benchCase as Partial<ProtocolBenchCase> | undefined;
    if (c === undefined || typeof c.protocol !== 'string' || typeof c.conversation !== 'function' || typeof c.serverPort !== 'number' || typeof c.tshark?.filter !== 'string') {
      throw new Error(`${join(dir, file)}: exports no benchCase of the shape in bench-case.ts (protocol, serverPort, conversation, tshark.filter)`);
    }
    out.push({ file, benchCase: c as ProtocolBenchCase });
  }
  return out;
}

export interface ProtocolCapture {
  readonly protocol: string;
  readonly path: string;
  readonly bytes: number;
  readonly conversations: number;
  /** The sum of the conversations' `entries`: what our reader must find. */
  readonly entries: number;
}

/**
 * Writes `<outDir>/protocol-<p>-<seed>-<minEntries>.pcap`: the case's conversations 0, 1, 2 ... (each
 * with a handshake and a close, segments up to 1460 bytes, in order) until they hold `minEntries`.
 * Same case, seed and size: same bytes.
 */
export function buildProtocolCapture(c: ProtocolBenchCase, opts: { readonly seed: number; readonly minEntries: number; readonly outDir?: string }): ProtocolCapture {
  const rng = new Prng(opts.seed);
  const builder = new TcpCaptureBuilder();
  let entries = 0;
  let conversations = 0;
  // The builder numbers client addresses with 16 bits: more conversations would reuse a tuple.
  while (entries < opts.minEntries && conversations < 65_536) {
    const index = conversations++;
    const conv = c.conversation(rng, index);
    if (!Number.isInteger(conv.entries) || conv.entries < 0) throw new Error(`${c.protocol}: conversation ${index} gives entries = ${conv.entries}`);
    entries += conv.entries;
    builder.conversation(rng, index, conv.exchanges, { maxSegment: MAX_SEGMENT, handshake: true, close: true, clientPort: 30_000 + (index % 30_000), serverPort: c.serverPort });
  }
  const outDir = opts.outDir ?? BENCH_OUT_DIR;
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `protocol-${c.protocol}-${opts.seed}-${opts.minEntries}.pcap`);
  writeFileSync(path, builder.build(rng, false));
  return { protocol: c.protocol, path, bytes: statSync(path).size, conversations, entries };
}

export interface ProtocolFigures {
  readonly protocol: string;
  readonly captureBytes: number;
  readonly conversations: number;
  readonly expectedEntries: number;
  /** From `read`'s summary line. */
  readonly entries: number;
  /** Lines of `-o json` whose protocol is the case's. */
  readonly entriesOfProtocol: number;
  /** Wall-clock seconds, spawn to exit. */
  readonly seconds: number;
  /** User + system CPU seconds (GNU time): the work, whatever else the machine runs. */
  readonly cpuSeconds: number;
  /** Entries per CPU second (the figure for one core). */
  readonly entriesPerSec: number;
  /** tshark's wall and CPU seconds on the same file with the case's filter, when it ran. */
  readonly tshark: { readonly seconds: number; readonly cpuSeconds: number; readonly packets: number } | null;
  /** tshark's CPU seconds over ours (how many times less work our read of the same file is). */
  readonly ratio: number | null;
  /** Why the figures are not to be trusted (entry count off), or null. */
  readonly problem: string | null;
}

/** Whether an `-o json` line is an entry of `protocol`: `protocol.name` follows `id` at the start of the line. */
function entryOf(protocol: string): (line: string) => boolean {
  const mark = `"protocol":{"name":${JSON.stringify(protocol)}`;
  return (line) => line.slice(0, 200).includes(mark);
}

/** Times our reader, then tshark when asked, on one capture, both pinned to BENCH_CPU. */
export async function measureProtocol(c: ProtocolBenchCase, capture: ProtocolCapture, opts: { readonly tshark: boolean }): Promise<ProtocolFigures> {
  const ours = await run(CLI, ['read', capture.path, '-o', 'json'], { pinCpu: BENCH_CPU, measureCpu: true, countLine: entryOf(c.protocol) });
  const entries = entriesFromSummary(ours.stderr);
  if (ours.code !== 0 || entries === null) {
    throw new Error(`kubectl-shark read ${capture.path} failed (exit ${ours.code}):\n${ours.stderr.slice(-4000)}`);
  }
  let tshark: ProtocolFigures['tshark'] = null;
  if (opts.tshark) {
    const args = ['-r', capture.path, ...(c.tshark.args ?? []), '-Y', c.tshark.filter, '-T', 'fields', '-e', 'frame.number'];
    const r = await run('tshark', args, { pinCpu: BENCH_CPU, measureCpu: true, countLine: (line) => line !== '' });
    if (r.code !== 0) throw new Error(`tshark ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    tshark = { seconds: round(r.seconds, 3), cpuSeconds: round(r.cpuSeconds ?? r.seconds, 3), packets: r.counted };
  }
  // Without GNU time the wall clock stands in for the CPU time (an idle machine makes them close).
  const cpuSeconds = Math.max(0.01, ours.cpuSeconds ?? ours.seconds);
  const problems: string[] = [];
  if (entries !== capture.entries) problems.push(`read found ${entries} entries, the case's conversations make ${capture.entries}`);
  if (ours.counted !== entries) problems.push(`${entries - ours.counted} of read's entries are not ${c.protocol}`);
  if (tshark !== null && tshark.packets === 0) problems.push(`tshark's filter '${c.tshark.filter}' selects no packet`);
  return {
    protocol: c.protocol,
    captureBytes: capture.bytes,
    conversations: capture.conversations,
    expectedEntries: capture.entries,
    entries,
    entriesOfProtocol: ours.counted,
    seconds: round(ours.seconds, 3),
    cpuSeconds: round(cpuSeconds, 3),
    entriesPerSec: Math.round(entries / cpuSeconds),
    tshark,
    ratio: tshark === null ? null : round(tshark.cpuSeconds / cpuSeconds, 2),
    problem: problems.length === 0 ? null : problems.join('; '),
  };
}

/**
 * The case's figure for `npm run bench`'s table: our entries per CPU second beside tshark's on the
 * same file (the entries of the file over tshark's CPU seconds), so the ratio is tshark's CPU time
 * over ours. The size is the entries in the file, for the growth table.
 */
export function protocolFigure(c: ProtocolBenchCase, f: ProtocolFigures): BenchFigure {
  const tsharkName = `tshark ${[...(c.tshark.args ?? []), '-Y', `'${c.tshark.filter}'`].join(' ')} -T fields`;
  return {
    bench: 'protocol-throughput',
    figure: `read -o json ${f.protocol}, one core`,
    size: `${f.entries.toLocaleString('en-US')} entries`,
    sizeValue: f.entries,
    ours: f.entriesPerSec,
    unit: 'entries/CPU-s',
    higherIsBetter: true,
    ...(f.tshark === null ? {} : { peer: { name: tsharkName, value: Math.round(f.entries / Math.max(0.01, f.tshark.cpuSeconds)) } }),
  };
}
