/**
 * The CLI's own work per entry in `tap -o json`, without a cluster: an agent's stdout (NDJSON made
 * by the agent bundle from a capture, `--pcap`) is cut into exec-sized chunks and goes through what
 * `tap` does with it after the exec channel: LineStream (bounded lines), parseAgentLine, TapMerger
 * (ids, names, de-duplication, the splice of the agent's text) and the LineWriter to /dev/null.
 * What it leaves out is the WebSocket decoding (the Kubernetes client's), which tap-exec.ts measures
 * with the rest, end to end.
 *
 *   node test/bench/tap-cli-path.ts AGENT.ndjson [--passes 5]
 *   (node --cpu-prof ... to see where the time goes: test/bench/profile-summary.ts)
 *
 * Prints µs per entry per pass and a BENCH-FIGURE-like summary line (the median pass), as % of a
 * core per 1k entries/s (µs per entry / 10).
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LineStream } from '../../src/kube/agent-runner.ts';
import { ClusterNames } from '../../src/pipeline/cluster-names.ts';
import { LineWriter } from '../../src/pipeline/sinks/line-writer.ts';
import { TapMerger, type TapSource } from '../../src/pipeline/tap-merge.ts';
import { stringifyJson } from '../../src/model/terminal-text.ts';
import { maxFrameLineBytes, parseAgentLine } from '../../src/remote-agent/wire/protocol.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { passes: { type: 'string', default: '5' } } });
const file = positionals[0];
if (file === undefined) {
  process.stderr.write('usage: tap-cli-path.ts AGENT.ndjson [--passes 5]\n');
  process.exit(2);
}
const PASSES = Number(values.passes);
/** What a WebSocket exec message carries at most of a stream (the API server's read size). */
const EXEC_CHUNK = 32 * 1024;

const data = readFileSync(file);
const chunks: Buffer[] = [];
for (let at = 0; at < data.length; at += EXEC_CHUNK) chunks.push(data.subarray(at, Math.min(data.length, at + EXEC_CHUNK)));

const out = createWriteStream('/dev/null');
const writer = new LineWriter(out);
let entries = 0;

/** One pod's stream through a fresh merger (the same calls again would be de-duplicated). */
async function pass(): Promise<number> {
  const source: TapSource = { key: 'bench/web-0', namespace: 'bench', pod: 'web-0' };
  const merger = new TapMerger(new ClusterNames(), (e, json) => {
    entries++;
    writer.write(json ?? stringifyJson(e));
  });
  const stream = new LineStream(maxFrameLineBytes(65536), {
    line: (line) => {
      const frame = parseAgentLine(line);
      if (frame !== null) merger.frame(source, frame);
    },
    overlong: (bytes) => process.stderr.write(`a line of ${bytes} bytes skipped\n`),
  });
  const before = entries;
  const t0 = process.cpuUsage();
  for (let c = 0; c < chunks.length; c++) {
    stream.write(chunks[c]!);
    // Let the writer's flushes run as they would between exec messages.
    if (c % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  stream.end();
  await writer.end();
  const used = process.cpuUsage(t0);
  const n2 = entries - before;
  return (used.user + used.system) / n2;
}

const results: number[] = [];
for (let i = 0; i < PASSES; i++) {
  const us = await pass();
  results.push(us);
  process.stdout.write(`pass ${i}: ${us.toFixed(2)} µs/entry\n`);
}
const sorted = [...results].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
process.stdout.write(`tap-cli-path: ${entries} entries, median ${median.toFixed(2)} µs/entry = ${(median / 10).toFixed(2)} % of a core per 1k entries/s (without WebSocket decoding)\n`);
