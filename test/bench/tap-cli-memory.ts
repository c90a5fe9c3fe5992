/**
 * The memory of `tap -o json`'s CLI at a steady rate, without the cluster: agent entry frames (the
 * soak's nginx exchange, each with its own id, client port, sequence number and X-Request-Id) are
 * fed as bytes through the CLI's own path (LineStream, parseAgentLine, TapMerger with its
 * de-duplication memory, writeTapEntry into a LineWriter on /dev/null) at --rate entries/s over
 * 4 pods for --seconds, in a child process started as bin/kubectl-shark starts the CLI. Run with
 * V8's default heap growth (the peer: the CLI before heap-growth.ts) and with boundHeapGrowth()
 * (ours), interleaved, --rounds times: RSS after the first full de-duplication window (the
 * warm-up: 10 s of calls remembered, then as many forgotten as remembered) to the end, its peak,
 * the live heap at the end (after a full GC) and CPU per 1k entries/s.
 *
 * Options: --rate 8000  --seconds 40  --rounds 2
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { boundHeapGrowth } from '../../cmd/heap-growth.ts';
import { writeTapEntry } from '../../cmd/tap.ts';
import { LineStream } from '../../src/kube/agent-runner.ts';
import { stringifyJson } from '../../src/model/terminal-text.ts';
import { ClusterNames } from '../../src/pipeline/cluster-names.ts';
import { LineWriter } from '../../src/pipeline/sinks/line-writer.ts';
import { DEFAULT_DEDUP_WINDOW_MS, TapMerger } from '../../src/pipeline/tap-merge.ts';
import { maxFrameLineBytes, parseAgentLine } from '../../src/remote-agent/wire/protocol.ts';
import { buildEntry } from '../helpers/entries.ts';
import { NODE } from '../helpers/capture.ts';
import { LAUNCHER_NODE_FLAGS } from '../helpers/tap.ts';
import { median } from './soak-growth.ts';
import { printFigure } from './figures.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '8000' },
    seconds: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '2' },
    child: { type: 'string' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const PODS = 4;
const TICK_MS = 10;
/** Warm-up: the first de-duplication window fills, and the next one turns it over once. */
const WARMUP_MS = 2 * DEFAULT_DEDUP_WINDOW_MS;

interface ChildResult {
  readonly mode: 'default' | 'bound';
  readonly entries: number;
  /** Entries the merger handed on: all of them, or the frames were not read as the CLI reads them. */
  readonly merged: number;
  readonly rssAfterWarmupMb: number;
  readonly rssEndMb: number;
  readonly rssPeakMb: number;
  readonly liveMb: number;
  /** V8's heap committed, and memory outside it held by JS objects (Buffers), at the end of the load. */
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly cpuPer1k: number;
}

/** The soak's exchange as the agent writes it, with the parts that differ per call left open. */
function frameTemplate(pod: number): (i: number) => string {
  const OPEN = '\u0000';
  const entry = buildEntry({
    id: OPEN,
    url: '/api/items?page=1',
    src: { ip: '10.244.0.40', port: 12345 },
    dst: { ip: `10.244.0.2${pod}`, port: 8080 },
    requestHeaders: { Host: `10.244.0.2${pod}:8080`, 'User-Agent': 'h2load nghttp2/1.52.0', Accept: '*/*' },
    responseHeaders: { Server: 'nginx/1.22.1', Date: 'Mon, 07 Dec 2026 01:00:00 GMT', 'Content-Type': 'application/json', 'Content-Length': '27', Connection: 'keep-alive', 'X-Request-Id': OPEN },
    content: { size: 27, mimeType: 'application/json', text: '{"ok":true,"items":[1,2,3]}' },
  });
  const [a, b, c, d] = stringifyJson(entry).replace('"port":12345', '"port":\\u0000').split('\\u0000');
  return (i) => `{"type":"entry","entry":${a}${i >> 4}-${i & 15}${b}${30000 + (i % 30000)}${c}${(i * 2654435761 >>> 0).toString(16).padStart(32, '0')}${d},"requestSeq":${(i * 1000) >>> 0}}\n`;
}

async function child(mode: 'default' | 'bound'): Promise<void> {
  if (mode === 'bound') boundHeapGrowth();
  const writer = new LineWriter(createWriteStream('/dev/null'));
  const merger = new TapMerger(new ClusterNames(), (e, json) => void writeTapEntry(writer, true, e, e, json));
  const pods = Array.from({ length: PODS }, (_, p) => {
    const source = { key: `soak/web-${p}`, namespace: 'soak', pod: `web-${p}` };
    const stream = new LineStream(maxFrameLineBytes(0), {
      line: (line) => {
        const frame = parseAgentLine(line);
        if (frame !== null) merger.frame(source, frame);
      },
      overlong: () => undefined,
    });
    // Numbered across pods: every call is another (no two pods see the same one).
    return { stream, frame: frameTemplate(p), next: 0, index: p };
  });
  const started = performance.now();
  const rss: Array<{ atMs: number; mb: number }> = [];
  let entries = 0;
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    let due = 0;
    const tick = setInterval(() => {
      const at = performance.now() - started;
      // Entries due by now, so a late tick catches up (the rate holds while the machine is busy).
      const target = Math.floor((at / 1000) * RATE);
      for (const pod of pods) {
        let text = '';
        for (let n = 0; n < (target - due) / PODS; n++, entries++) text += pod.frame(pod.next++ * PODS + pod.index);
        pod.stream.write(Buffer.from(text, 'utf8'));
      }
      due = target;
      if (rss.length === 0 || at - rss.at(-1)!.atMs >= 1000) rss.push({ atMs: at, mb: process.memoryUsage().rss / 1048576 });
      if (at >= SECONDS * 1000) {
        clearInterval(tick);
        resolve();
      }
    }, TICK_MS);
  });
  const cpu = process.cpuUsage(cpu0);
  const end = process.memoryUsage();
  await writer.end();
  (globalThis as { gc?: () => void }).gc?.();
  const after = rss.filter((s) => s.atMs >= WARMUP_MS).map((s) => s.mb);
  const result: ChildResult = {
    mode,
    entries,
    merged: merger.stats().reduce((sum, p) => sum + p.entries, 0),
    rssAfterWarmupMb: median(after.slice(0, 5)),
    rssEndMb: median(after.slice(-5)),
    rssPeakMb: Math.max(...rss.map((s) => s.mb)),
    liveMb: process.memoryUsage().heapUsed / 1048576,
    heapTotalMb: end.heapTotal / 1048576,
    externalMb: end.external / 1048576,
    cpuPer1k: ((cpu.user + cpu.system) / 1e6 / entries) * 1e5,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(mode: 'default' | 'bound'): Promise<ChildResult> {
  const p = spawn(NODE, [...LAUNCHER_NODE_FLAGS, '--expose-gc', '--import', 'tsx', import.meta.filename, '--child', mode, '--rate', String(RATE), '--seconds', String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  return new Promise((resolve, reject) => p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildResult) : reject(new Error(`child ${mode} exited ${code}`)))));
}

async function main(): Promise<void> {
  if (values.child === 'default' || values.child === 'bound') return child(values.child);
  const results: ChildResult[] = [];
  console.log(`tap -o json's CLI path without the cluster: ${RATE} entries/s over ${PODS} pods for ${SECONDS} s, warm-up ${WARMUP_MS / 1000} s; node ${LAUNCHER_NODE_FLAGS.join(' ')}`);
  console.log(`${'heap growth'.padEnd(12)} ${'entries'.padStart(9)} ${'RSS warm'.padStart(9)} ${'RSS end'.padStart(8)} ${'growth'.padStart(7)} ${'peak'.padStart(7)} ${'live'.padStart(6)} ${'CPU %/1k/s'.padStart(10)} ${'heap'.padStart(6)} ${'external'.padStart(8)}`);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const mode of ['default', 'bound'] as const) {
      const r = await runChild(mode);
      if (r.merged !== r.entries) throw new Error(`${mode}: ${r.entries} frames fed, ${r.merged} entries merged`);
      results.push(r);
      const growth = ((r.rssEndMb - r.rssAfterWarmupMb) / r.rssAfterWarmupMb) * 100;
      console.log(`${(mode === 'bound' ? 'bound (2x)' : 'V8 default').padEnd(12)} ${String(r.entries).padStart(9)} ${r.rssAfterWarmupMb.toFixed(0).padStart(6)} MB ${r.rssEndMb.toFixed(0).padStart(5)} MB ${growth.toFixed(1).padStart(6)}% ${r.rssPeakMb.toFixed(0).padStart(4)} MB ${r.liveMb.toFixed(0).padStart(3)} MB ${r.cpuPer1k.toFixed(2).padStart(10)} ${r.heapTotalMb.toFixed(0).padStart(3)} MB ${r.externalMb.toFixed(0).padStart(5)} MB`);
    }
  }
  const best = (mode: 'default' | 'bound', f: (r: ChildResult) => number): number => Math.min(...results.filter((r) => r.mode === mode).map(f));
  const size = `${RATE} entries/s, ${SECONDS} s`;
  printFigure({ bench: 'tap-cli-memory', figure: 'tap -o json CLI peak RSS (no cluster)', size, sizeValue: RATE, ours: Math.round(best('bound', (r) => r.rssPeakMb)), peer: { name: 'V8 default heap growth', value: Math.round(best('default', (r) => r.rssPeakMb)) }, unit: 'MB', higherIsBetter: false });
  printFigure({ bench: 'tap-cli-memory', figure: 'tap -o json CLI CPU per 1k entries/s (no cluster)', size, sizeValue: RATE, ours: Number(best('bound', (r) => r.cpuPer1k).toFixed(2)), peer: { name: 'V8 default heap growth', value: Number(best('default', (r) => r.cpuPer1k).toFixed(2)) }, unit: '% of a core', higherIsBetter: false });
}

await main();
