/**
 * The benchmarks' one way to time a command: from spawn to exit, optionally pinned to one CPU
 * (taskset), with its peak RSS (GNU time, else an rusage probe loaded through NODE_OPTIONS) and a
 * count of the stdout lines that pass a test. Used by read-throughput.ts and protocol-throughput.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'bin', 'kubectl-shark');
export const MAIN_JS = join(ROOT, 'dist', 'cmd', 'main.js');
const RSS_PROBE = join(ROOT, 'test', 'bench', 'rss-probe.ts');
export const GNU_TIME = '/usr/bin/time';
const TASKSET = 'taskset';

export interface RunResult {
  readonly seconds: number;
  readonly code: number | null;
  readonly stderr: string;
  /** Lines of stdout that pass `countLine`, when stdout was captured. */
  readonly counted: number;
  readonly peakRssKb: number | null;
  /** User + system CPU seconds of the command (GNU time), when asked: on a busy machine, the work done rather than the wait. */
  readonly cpuSeconds: number | null;
}

export interface RunOptions {
  /** Count stdout lines matching this instead of sending stdout to /dev/null. */
  readonly countLine?: (line: string) => boolean;
  /** Write stdout to this file instead of /dev/null (not with countLine), to compare outputs afterwards. */
  readonly stdoutFile?: string;
  readonly measureRss?: boolean;
  /** Measure the command's CPU time (needs GNU time; cpuSeconds is null without it). */
  readonly measureCpu?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Pin the command (and its threads and children) to this CPU with taskset, for per-core figures. */
  readonly pinCpu?: number;
}

/** Runs a command, timing it from spawn to exit. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'shark-bench-'));
  const rssFile = join(tmp, 'rss');
  let file = cmd;
  let argv = [...args];
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  if (opts.measureRss === true || opts.measureCpu === true) {
    if (existsSync(GNU_TIME)) {
      argv = ['-f', '%M %U %S', '-o', rssFile, cmd, ...args];
      file = GNU_TIME;
    } else if (opts.measureRss === true) {
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${RSS_PROBE}`.trim();
      env.SHARK_RSS_PROBE_OUT = rssFile;
    }
  }
  if (opts.pinCpu !== undefined) {
    argv = ['-c', String(opts.pinCpu), file, ...argv];
    file = TASKSET;
  }
  const devNull = openSync(opts.stdoutFile ?? '/dev/null', 'w');
  try {
    const started = performance.now();
    const child = spawn(file, argv, { stdio: ['ignore', opts.countLine ? 'pipe' : devNull, 'pipe'], env });
    let stderr = '';
    if (child.stderr === null) throw new Error('no stderr pipe');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000);
    });
    let counted = 0;
    if (opts.countLine && child.stdout) {
      const countLine = opts.countLine;
      let rest = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        const lines = (rest + s).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (countLine(line)) counted++;
      });
      child.stdout.on('end', () => {
        if (rest !== '' && countLine(rest)) counted++;
      });
    }
    const code = await new Promise<number | null>((res, rej) => {
      child.on('error', rej);
      child.on('close', (c) => res(c));
    });
    const seconds = (performance.now() - started) / 1000;
    let peakRssKb: number | null = null;
    let cpuSeconds: number | null = null;
    if (existsSync(rssFile)) {
      // GNU time's line `%M %U %S` (the last: a killed command adds one before it), or the probe's RSS alone.
      const line = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
      const [rss, user, sys] = line.split(' ').map((f) => (f === '' ? Number.NaN : Number(f)));
      if (Number.isFinite(rss)) peakRssKb = rss!;
      if (opts.measureCpu === true && Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user! + sys!;
    }
    return { seconds, code, stderr, counted, peakRssKb, cpuSeconds };
  } finally {
    closeSync(devNull);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The entry count of `read`'s summary line on stderr. */
export function entriesFromSummary(stderr: string): number | null {
  const m = /read: .*?(\d+) entries/.exec(stderr);
  return m ? Number(m[1]) : null;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Whether `taskset` can pin a process here (util-linux), for the benchmarks that pin to one CPU. */
export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
