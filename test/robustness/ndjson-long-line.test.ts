/**
 * NDJSON input with a line that never ends in time (issue 10, item 15): 100 MB without a newline on
 * standard input, then valid entries. The real CLI skips the line (a warning naming its number,
 * counted in the summary), reads the entries after it, keeps its peak RSS near that of reading the
 * entries alone, and takes about as long as reading 100 MB of ordinary NDJSON. Before the fix it
 * took minutes and a gigabyte. `--max-line` sets the limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Writable } from 'node:stream';
import type { Entry } from '../../src/model/entry.ts';
import { LAUNCHER, parseNdjson, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

const MB = 1024 * 1024;
const HUGE_BYTES = 100 * MB;
const DEFAULT_MAX_LINE = 16 * MB;
const RSS_PROBE = join(REPO_ROOT, 'test/bench/rss-probe.ts');

const work = mkdtempSync(join(tmpdir(), 'shark-longline-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Valid entry lines (the demo recording as NDJSON), with their newlines. */
let validLines: string[] = [];

before(async () => {
  const res = await runShark(['read', join(REPO_ROOT, 'assets/demo/microservices.pcapng'), '-o', 'json', '-q']);
  assert.equal(res.code, 0, res.stderr);
  validLines = res.stdout.split('\n').filter((l) => l !== '').map((l) => `${l}\n`);
  assert.ok(validLines.length > 100);
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly peakRssMb: number;
}

/** Writes respecting backpressure, so the test itself never holds the 100 MB; fails once the reader is gone. */
async function write(stream: Writable, data: string | Uint8Array): Promise<void> {
  if (stream.destroyed) throw new Error('the reader is gone');
  if (stream.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      if (stream.destroyed) reject(new Error('the reader is gone'));
      else resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** Runs `read - ...args` with stdin fed by `feed`; times it and reads its peak RSS (getrusage). */
async function readStdin(args: readonly string[], feed: (stdin: Writable) => Promise<void>, keepStdout = true, timeoutMs = 120_000): Promise<Run> {
  const rssFile = join(work, `rss-${Math.random().toString(36).slice(2)}`);
  const env = { ...process.env, NODE_OPTIONS: `--import=${RSS_PROBE}`, SHARK_RSS_PROBE_OUT: rssFile };
  const started = performance.now();
  const child = spawn(LAUNCHER, ['read', '-', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    if (keepStdout) stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => {
    // killed on timeout: the assertion on the exit code says so
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await feed(child.stdin).catch(() => undefined);
  child.stdin.end();
  const code = await closed;
  clearTimeout(kill);
  const seconds = (performance.now() - started) / 1000;
  let peakRssMb = Number.NaN;
  try {
    peakRssMb = Number.parseInt(readFileSync(rssFile, 'utf8'), 10) / 1024;
  } catch {
    // killed before exit: no figure
  }
  return { code, stdout, stderr, seconds, peakRssMb };
}

async function feedLines(stdin: Writable, lines: readonly string[]): Promise<void> {
  for (const line of lines) await write(stdin, line);
}

/** One line of `bytes` bytes that starts like an entry and has no newline, written 1 MiB at a time. */
async function feedHugeLine(stdin: Writable, bytes: number): Promise<void> {
  const head = '{"id":"';
  await write(stdin, head);
  const block = Buffer.alloc(MB, 'a');
  let left = bytes - head.length;
  while (left > 0) {
    const n = Math.min(left, block.length);
    await write(stdin, n === block.length ? block : block.subarray(0, n));
    left -= n;
  }
}

test('100 MB on one line, then valid lines: the line is skipped and counted, the entries come out, memory and time stay those of reading', { timeout: 600_000 }, async (t) => {
  // The reference: reading 100 MB of ordinary NDJSON entries, and the valid lines alone.
  const copies = Math.ceil(HUGE_BYTES / validLines.join('').length);
  const reference = await readStdin(
    ['-o', 'json', '-q'],
    async (stdin) => {
      for (let i = 0; i < copies; i++) await write(stdin, validLines.join(''));
    },
    false,
  );
  assert.equal(reference.code, 0, reference.stderr);
  const alone = await readStdin(['-o', 'json'], (stdin) => feedLines(stdin, validLines));
  assert.equal(alone.code, 0, alone.stderr);

  const huge = await readStdin(['-o', 'json'], async (stdin) => {
    await feedLines(stdin, validLines.slice(0, 2));
    await feedHugeLine(stdin, HUGE_BYTES);
    await write(stdin, '\n');
    await feedLines(stdin, validLines.slice(2));
  });
  t.diagnostic(`100 MB of NDJSON entries: ${reference.seconds.toFixed(2)} s, peak RSS ${reference.peakRssMb.toFixed(0)} MB`);
  t.diagnostic(`the valid lines alone: ${alone.seconds.toFixed(2)} s, peak RSS ${alone.peakRssMb.toFixed(0)} MB`);
  t.diagnostic(`with a 100 MB line: ${huge.seconds.toFixed(2)} s, peak RSS ${huge.peakRssMb.toFixed(0)} MB`);
  assert.equal(huge.code, 0, `exit ${huge.code} after ${huge.seconds.toFixed(1)} s: ${huge.stderr.slice(0, 2000)}`);

  const expected = parseNdjson<Entry>(alone.stdout);
  assert.deepEqual(parseNdjson<Entry>(huge.stdout), expected, 'every valid line, before and after the long one');
  assert.match(huge.stderr, new RegExp(`warning: standard input: line 3 skipped: ${HUGE_BYTES} bytes, longer than --max-line ${DEFAULT_MAX_LINE}`));
  assert.match(huge.stderr, new RegExp(`${expected.length} entries, .*, 0 malformed packets, 1 NDJSON lines skipped as longer than --max-line`));

  // Constant memory: what the limit holds (16 MiB) plus chunks in flight, not the 100 MB line.
  assert.ok(huge.peakRssMb < alone.peakRssMb + 2 * DEFAULT_MAX_LINE / MB + 48, `peak RSS ${huge.peakRssMb.toFixed(0)} MB vs ${alone.peakRssMb.toFixed(0)} MB without the line`);
  // Linear time: no slower than reading 100 MB of entries (with slack for a busy machine).
  assert.ok(huge.seconds < reference.seconds * 1.5 + 2, `${huge.seconds.toFixed(2)} s vs ${reference.seconds.toFixed(2)} s for 100 MB of entries`);
});

test('--max-line sets the limit: longer entry lines are skipped with their line numbers, shorter ones read; a bad size exits 2', async () => {
  const sizes = validLines.map((l) => Buffer.byteLength(l) - 1).sort((a, b) => a - b);
  const limit = sizes[Math.floor(sizes.length / 2)]!;
  const longer = validLines.map((l, i) => ({ bytes: Buffer.byteLength(l) - 1, number: i + 1 })).filter((l) => l.bytes > limit);
  assert.ok(longer.length > 0 && longer.length < validLines.length, 'the demo has lines on both sides of the limit');
  const res = await readStdin(['-o', 'json', '--max-line', String(limit)], (stdin) => feedLines(stdin, validLines));
  assert.equal(res.code, 0, res.stderr);
  assert.equal(parseNdjson<Entry>(res.stdout).length, validLines.length - longer.length);
  const named = [...res.stderr.matchAll(/line (\d+) skipped: (\d+) bytes/g)].map((m) => ({ number: Number(m[1]), bytes: Number(m[2]) }));
  assert.deepEqual(named, longer.slice(0, 5), 'the first five are named');
  if (longer.length > 5) assert.match(res.stderr, /further ones are only counted in the summary/);
  assert.match(res.stderr, new RegExp(`, ${longer.length} NDJSON lines skipped as longer than --max-line`));

  const bad = await runShark(['read', '-', '--max-line', 'long'], { input: Buffer.from(validLines[0]!) });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-line "long" is not a size/);
});
