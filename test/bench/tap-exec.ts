/**
 * `npm run bench`: `kubectl shark tap` end to end through the exec channel, against the sandbox
 * cluster (HTTPS API, WebSocket exec, pods as runc containers). Eight pods run nginx (the image
 * `sandbox.local/nginx:1`, its config from this run's folder through a hostPath volume; HTTP/1.1 on
 * :8080, HTTP/2 by prior knowledge on :8082), another is idle, and h2load runs in its network
 * namespace at fixed rates; `tap -n bench -l <group> -o json` taps 1, 4 or 8 of the nginx pods
 * (one agent each). Per row: entries per second on the CLI's stdout, and the delay from the request
 * on the wire (entry.timestamp, capture time of the request's first byte) to the entry's line on
 * stdout (read here as it arrives; same machine, same clock), p50 and p99.
 *
 * CPU, per process, over each row (from the load's start until its last entry is out, or 5 s
 * after the load): utime+stime from /proc/<pid>/stat of the CLI, of the agents (the node processes
 * in the tapped pods' network namespaces) and of nginx (all its processes in those pods); h2load's
 * from /usr/bin/time; the exec relay is the sandbox's API server, which runs in a process of its
 * own (sandbox-process.ts), so neither its CPU nor its event loop is shared with the reader of the
 * CLI's stdout here (a reader on the relay's thread took lines late, and the delays it measured
 * were partly its own). Each is
 * given as % of a core per 1k entries/s (CPU seconds per entry x 1e5), so a row means something
 * on another machine: at R entries/s a process needs R/1000 times that much of a core. Nothing is
 * pinned: this is end to end on a shared 2-core machine, the rates above ~15k/s saturate it.
 *
 * Needs root and h2load (Debian: nghttp2-client); prints why and exits 0 when they are missing.
 * Options: --seconds 6  --rates 1000,10000,30000  --h2-rates 10000  --pods 1,4,8
 *          --growth-rate 10000 (total over the tapped pods)  --cli-prof DIR (profile the CLI)
 *          --main OTHER/dist/cmd/main.js (another build, e.g. the one before a change)
 *          --normal-priority (the agents run at nice 0, not the nice 19 they give themselves: on a
 *          machine other work keeps busy, a nice-19 agent gets a sliver of a core and its delays
 *          measure that work, not the tap; as agent-live.ts --normal-priority)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireSandbox, type FixturePod } from '../sandbox/index.ts';
import { run } from '../helpers/netns.ts';
import { NODE } from '../helpers/capture.ts';
import { MAIN, requireBuild, tapEnv } from '../helpers/tap.ts';
import { normalPriority } from '../helpers/agent.ts';
import { printFigure } from './figures.ts';
import { cpuSeconds } from '../sandbox/metrics.ts';
import { podNetnsOf, startSandboxProcess, stopSandboxProcess, type SandboxProcess } from './sandbox-process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    rates: { type: 'string', default: '1000,10000,30000' },
    'h2-rates': { type: 'string', default: '10000' },
    pods: { type: 'string', default: '1,4,8' },
    'growth-rate': { type: 'string', default: '10000' },
    /** A folder: the CLI runs with --cpu-prof into it (for profile-summary.ts). */
    'cli-prof': { type: 'string' },
    /** Another build's dist/cmd/main.js (with its dist/agent), to compare builds on the same machine state. */
    main: { type: 'string', default: MAIN },
    'normal-priority': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const list = (s: string): number[] => (s === '' ? [] : s.split(',').map(Number));
const RATES = list(values.rates);
const H2_RATES = list(values['h2-rates']);
const POD_COUNTS = list(values.pods);
const GROWTH_RATE = Number(values['growth-rate']);
const MAX_PODS = Math.max(1, ...POD_COUNTS);
const BENCH = 'tap-exec';
/** The offered rate this goal is about, and its delay bound. */
const GOAL_RATE = 30_000;
const GOAL_P99_MS = 500;
const H1_PORT = 8080;
const H2_PORT = 8082;
/** Where the nginx container sees this run's folder (config, pid file, logs, temp files). */
const CONF_DIR = '/bench';
/** How long a row waits for its last entries at most, and for the next one when none comes. */
const DRAIN_MS = 30_000;
const QUIET_MS = 3000;

const webName = (i: number): string => `web-${i}`;
const webIp = (i: number): string => `10.244.0.${20 + i}`;

type Proto = 'h1' | 'h2';

interface CpuSeconds {
  readonly cli: number;
  readonly agents: number;
  readonly relay: number;
  readonly nginx: number;
  readonly h2load: number;
}

interface RowResult {
  readonly proto: Proto;
  readonly pods: number;
  readonly rate: number;
  readonly requests: number;
  /** h2load's own requests/s over its run. */
  readonly h2loadRps: number;
  readonly entries: number;
  readonly entriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpu: CpuSeconds;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The processes in these network namespaces whose command line matches, by pid. */
function processesIn(netnsNames: readonly string[], match: (argv: readonly string[]) => boolean): number[] {
  const inodes = new Set(netnsNames.map((n) => `net:[${statSync(`/var/run/netns/${n}`).ino}]`));
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!inodes.has(readlinkSync(`/proc/${d}/ns/net`))) continue;
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      if (match(argv)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const isAgent = (argv: readonly string[]): boolean => /(^|\/)node$/.test(argv[0] ?? '') && argv.some((a) => a.endsWith('/agent.js')) && argv.includes('capture');
const isNginx = (argv: readonly string[]): boolean => argv[0]?.startsWith('nginx') === true || argv[0] === '/usr/sbin/nginx';

class TapReader {
  readonly child: ChildProcess;
  delays: number[] = [];
  entries = 0;
  firstAt = 0;
  lastAt = 0;
  #rest = '';
  #pods = new Set<string>();
  readonly #podsWanted: number;
  readonly allStarted: Promise<void>;

  constructor(kubeconfig: string, group: string, pods: number) {
    this.#podsWanted = pods;
    const prof = values['cli-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cli-prof']];
    this.child = spawn(NODE, [...prof, values.main, 'tap', '-n', 'bench', '-l', `${group}=y`, '-o', 'json', '--stats'], {
      env: tapEnv(kubeconfig),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let resolve: () => void = () => {};
    this.allStarted = new Promise((r) => {
      resolve = r;
    });
    this.child.stderr!.on('data', (d: Buffer) => process.stderr.write(`  tap: ${d.toString('utf8')}`));
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const now = Date.now();
      const lines = (this.#rest + chunk).split('\n');
      this.#rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{"type":"stats"')) {
          // One stats line per pod each second: every agent is up once each pod has sent one.
          const pod = /"pod":"([^"]*)"/.exec(line)?.[1];
          if (pod !== undefined) this.#pods.add(pod);
          if (this.#pods.size >= this.#podsWanted) resolve();
          continue;
        }
        const m = /"timestamp":(\d+)/.exec(line);
        if (m === null) continue;
        this.entries++;
        if (this.firstAt === 0) this.firstAt = now;
        this.lastAt = now;
        this.delays.push(now - Number(m[1]));
      }
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface LoadResult {
  readonly succeeded: number;
  readonly rps: number;
  readonly cpuSeconds: number;
}

/**
 * h2load from the load pod at `rate` requests/s to one web pod: HTTP/1.1 with up to 100
 * connections, or HTTP/2 (h2c, prior knowledge) over 10 connections of up to 32 streams each.
 */
async function loadOne(sandbox: SandboxProcess, work: string, proto: Proto, rate: number, target: number): Promise<LoadResult> {
  const clients = proto === 'h1' ? Math.max(1, Math.min(100, Math.ceil(rate / 200))) : Math.max(1, Math.min(10, Math.ceil(rate / 1000)));
  const timeFile = join(work, `time-${target}`);
  const protoArgs = proto === 'h1' ? ['--h1'] : ['-m', '32'];
  const port = proto === 'h1' ? H1_PORT : H2_PORT;
  const r = await run('ip', [
    'netns', 'exec', podNetnsOf(sandbox, 'bench', 'load'),
    '/usr/bin/time', '-f', '%U %S', '-o', timeFile,
    'h2load', ...protoArgs, '-c', String(clients), '-D', String(SECONDS), `--rps=${rate / clients}`, `http://${webIp(target)}:${port}/api/items?page=1`,
  ]);
  const out = r.stdout.toString('utf8');
  const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(out);
  const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  if (!done || !rps) throw new Error(`h2load output not understood: ${out} ${r.stderr}`);
  const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { succeeded: Number(done[1]), rps: Number(rps[1]), cpuSeconds: user + sys };
}

/** The same total rate spread over the first `pods` web pods, one h2load each, at once. */
async function load(sandbox: SandboxProcess, work: string, proto: Proto, rate: number, pods: number): Promise<LoadResult> {
  const parts = await Promise.all(Array.from({ length: pods }, (_, i) => loadOne(sandbox, work, proto, rate / pods, i)));
  return parts.reduce((a, b) => ({ succeeded: a.succeeded + b.succeeded, rps: a.rps + b.rps, cpuSeconds: a.cpuSeconds + b.cpuSeconds }));
}

interface CpuSnapshot {
  readonly cli: number;
  readonly agents: number;
  readonly nginx: number;
  /** The sandbox's process: its API server is the exec relay. */
  readonly relay: number;
}

function snapshot(sandbox: SandboxProcess, tap: TapReader, agentPids: readonly number[], nginxPids: readonly number[]): CpuSnapshot {
  const sum = (pids: readonly number[]): number => pids.reduce((s, p) => s + cpuSeconds(p), 0);
  return { cli: cpuSeconds(tap.child.pid!), agents: sum(agentPids), nginx: sum(nginxPids), relay: cpuSeconds(sandbox.pid) };
}

async function measureRow(sandbox: SandboxProcess, work: string, tap: TapReader, proto: Proto, rate: number, pods: number): Promise<RowResult> {
  const netns = Array.from({ length: pods }, (_, i) => podNetnsOf(sandbox, 'bench', webName(i)));
  const agentPids = processesIn(netns, isAgent);
  const nginxPids = processesIn(netns, isNginx);
  if (agentPids.length !== pods) throw new Error(`expected ${pods} agents in the tapped pods, found ${agentPids.length}`);
  if (values['normal-priority']) for (const pid of agentPids) normalPriority(pid);
  tap.delays = [];
  tap.firstAt = 0;
  const before = tap.entries;
  const cpu0 = snapshot(sandbox, tap, agentPids, nginxPids);
  const loaded = await load(sandbox, work, proto, rate, pods);
  // Every entry of this row, or none for 3 s (lost or dropped), before the CPU is read and the next
  // row starts: a saturated machine delivers late, and late entries must not count for the next row.
  const deadline = Date.now() + DRAIN_MS;
  let seen = tap.entries;
  let quietSince = Date.now();
  while (tap.entries - before < loaded.succeeded && Date.now() < deadline && Date.now() - quietSince < QUIET_MS) {
    await new Promise((r) => setTimeout(r, 50));
    if (tap.entries !== seen) {
      seen = tap.entries;
      quietSince = Date.now();
    }
  }
  const cpu1 = snapshot(sandbox, tap, agentPids, nginxPids);
  const entries = tap.entries - before;
  const sorted = [...tap.delays].sort((a, b) => a - b);
  return {
    proto,
    pods,
    rate,
    requests: loaded.succeeded,
    h2loadRps: Math.round(loaded.rps),
    entries,
    // From the first to the last entry of the run: the rate the exec channel delivered.
    entriesPerSecond: tap.lastAt > tap.firstAt ? Math.round(entries / ((tap.lastAt - tap.firstAt) / 1000)) : 0,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? NaN,
    cpu: {
      cli: cpu1.cli - cpu0.cli,
      agents: cpu1.agents - cpu0.agents,
      relay: cpu1.relay - cpu0.relay,
      nginx: cpu1.nginx - cpu0.nginx,
      h2load: loaded.cpuSeconds,
    },
  };
}

/** % of a core per 1k entries/s: CPU seconds per entry x 1e5. */
function perK(cpuSeconds: number, entries: number): number {
  return entries > 0 ? Math.round((cpuSeconds / entries) * 1e5 * 10) / 10 : NaN;
}

function nginxConfig(): string {
  const temp = `client_body_temp_path ${CONF_DIR}/b; proxy_temp_path ${CONF_DIR}/p; fastcgi_temp_path ${CONF_DIR}/f; uwsgi_temp_path ${CONF_DIR}/u; scgi_temp_path ${CONF_DIR}/s;`;
  const body = `location / { default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; }`;
  return `worker_processes 1; pid /tmp/nginx.pid; error_log stderr warn; events { worker_connections 4096; }
http { access_log off; ${temp} keepalive_requests 1000000; http2_max_requests 1000000; http2_max_concurrent_streams 128;
  server { listen ${H1_PORT}; ${body} }
  server { listen ${H2_PORT} http2; ${body} } }
`;
}

/** Pod i belongs to the groups g1, g4, g8 that are at least i+1 pods big: `-l gN=y` taps N pods. */
function webPod(i: number, work: string): FixturePod {
  const labels: Record<string, string> = { app: 'web' };
  for (const n of POD_COUNTS) if (i < n) labels[`g${n}`] = 'y';
  return {
    namespace: 'bench',
    name: webName(i),
    labels,
    ip: webIp(i),
    mountSource: false,
    volumes: [{ name: 'conf', hostPath: work }],
    containers: [
      {
        name: 'nginx',
        image: 'sandbox.local/nginx:1',
        command: ['/usr/sbin/nginx', '-c', `${CONF_DIR}/nginx.conf`, '-g', 'daemon off;'],
        volumeMounts: [{ name: 'conf', mountPath: CONF_DIR }],
      },
    ],
  };
}

async function withTap<T>(sandbox: SandboxProcess, pods: number, body: (tap: TapReader) => Promise<T>): Promise<T> {
  const tap = new TapReader(sandbox.kubeconfig, `g${pods}`, pods);
  try {
    await Promise.race([tap.allStarted, new Promise((_, reject) => setTimeout(() => reject(new Error(`tap of ${pods} pods did not start within 90 s`)), 90_000))]);
    return await body(tap);
  } finally {
    await tap.stop();
  }
}

function printTable(title: string, rows: readonly RowResult[]): void {
  process.stdout.write(`\n${title}\n`);
  process.stdout.write('proto pods  rate/s  h2load/s  requests   entries entries/s  p50 ms  p99 ms  max ms | %core per 1k entries/s: CLI agents relay nginx h2load\n');
  for (const r of rows) {
    const cells = [r.proto.padEnd(5), String(r.pods).padStart(4), String(r.rate).padStart(7), String(r.h2loadRps).padStart(9), String(r.requests).padStart(9), String(r.entries).padStart(9), String(r.entriesPerSecond).padStart(9), String(r.p50Ms).padStart(7), String(r.p99Ms).padStart(7), String(r.maxMs).padStart(7)];
    const cpu = [r.cpu.cli, r.cpu.agents, r.cpu.relay, r.cpu.nginx, r.cpu.h2load].map((s) => String(perK(s, r.entries)).padStart(6));
    process.stdout.write(`${cells.join(' ')} | ${cpu.join(' ')}\n`);
  }
}

/** `where` names the series (the same text at each of its sizes): `1 pod`, `10000 req/s over the pods`. */
function printRowFigures(r: RowResult, where: string, size: string, sizeValue: number, goalRow: boolean): void {
  const proto = r.proto === 'h1' ? 'HTTP/1.1' : 'HTTP/2';
  const met = r.entriesPerSecond >= GOAL_RATE && r.entries >= r.requests && r.p99Ms < GOAL_P99_MS;
  printFigure({
    bench: BENCH,
    figure: `tap -o json entries/s through exec (${proto}, ${where})`,
    size,
    sizeValue,
    ours: r.entriesPerSecond,
    unit: 'entries/s',
    higherIsBetter: true,
    peer: { name: `h2load ${r.proto === 'h1' ? '--h1 ' : ''}completed requests/s`, value: r.h2loadRps },
    ...(goalRow ? { goal: `>= ${GOAL_RATE} entries/s, all of them, p99 < ${GOAL_P99_MS} ms`, met } : {}),
  });
  printFigure({
    bench: BENCH,
    figure: `tap wire-to-stdout delay p99 (${proto}, ${where})`,
    size,
    sizeValue,
    ours: r.p99Ms,
    unit: 'ms',
    higherIsBetter: false,
    ...(goalRow ? { goal: `< ${GOAL_P99_MS} ms at ${GOAL_RATE} entries/s`, met: r.p99Ms < GOAL_P99_MS } : {}),
  });
  const nginx = perK(r.cpu.nginx, r.entries);
  for (const [who, seconds] of [['CLI', r.cpu.cli], ['agents', r.cpu.agents], ['exec relay (sandbox API server)', r.cpu.relay], ['h2load', r.cpu.h2load]] as const) {
    printFigure({
      bench: BENCH,
      figure: `${who} CPU per 1k entries/s (${proto}, ${where})`,
      size,
      sizeValue,
      ours: perK(seconds, r.entries),
      unit: '% of a core per 1k entries/s',
      higherIsBetter: false,
      // What serving the same requests cost: the tap's overhead beside the work it watches.
      peer: { name: 'nginx serving them', value: nginx },
    });
  }
}

async function main(): Promise<void> {
  const reason = requireSandbox() ?? requireBuild() ?? (which('h2load') ? null : 'h2load is not installed (Debian: nghttp2-client)') ?? (which('/usr/bin/time') ? null : '/usr/bin/time is not installed (Debian: time)');
  if (reason !== null) {
    process.stdout.write(`tap-exec bench skipped: ${reason}\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'ks-bench-tap-'));
  writeFileSync(join(work, 'nginx.conf'), nginxConfig());
  const sandbox = await startSandboxProcess({
    namespaces: [{ name: 'bench' }],
    pods: [
      ...Array.from({ length: MAX_PODS }, (_, i) => webPod(i, work)),
      { namespace: 'bench', name: 'load', labels: { app: 'load' }, containers: [{ name: 'idle', image: 'busybox:1.36', command: ['sleep', '1000000'] }] },
    ],
  }, work);
  const rateRows: RowResult[] = [];
  const growthRows: RowResult[] = [];
  try {
    await withTap(sandbox, 1, async (tap) => {
      for (const rate of RATES) rateRows.push(await measureRow(sandbox, work, tap, 'h1', rate, 1));
      for (const rate of H2_RATES) rateRows.push(await measureRow(sandbox, work, tap, 'h2', rate, 1));
    });
    for (const pods of POD_COUNTS) {
      await withTap(sandbox, pods, async (tap) => {
        growthRows.push(await measureRow(sandbox, work, tap, 'h1', GROWTH_RATE, pods));
      });
    }
  } finally {
    const stopped = await stopSandboxProcess(sandbox);
    if (!stopped.ok) process.stderr.write(`tap-exec: the sandbox's stop: ${stopped.error ?? 'not clean'}\n`);
    rmSync(work, { recursive: true, force: true });
  }
  printTable('tap-exec: h2load -> nginx pod; kubectl shark tap -n bench -l g1=y -o json (one agent, WebSocket exec)', rateRows);
  printTable(`tap-exec growth: ${GROWTH_RATE} requests/s in all, spread over 1 / 4 / 8 tapped pods (one agent each)`, growthRows);
  process.stdout.write(`goal: >= ${GOAL_RATE} entries/s through the exec channel, p99 < ${GOAL_P99_MS} ms; CPU: utime+stime per process, not pinned; agents at nice ${values['normal-priority'] ? '0 (--normal-priority)' : '19 (their own)'}\n`);
  // Rates at three sizes (the offered rate), pods at three sizes (at the growth rate).
  for (const r of rateRows) printRowFigures(r, '1 pod', `${r.rate} req/s`, r.rate, r.proto === 'h1' && r.rate === GOAL_RATE);
  for (const r of growthRows) printRowFigures(r, `${GROWTH_RATE} req/s over the pods`, `${r.pods} pods`, r.pods, false);
  process.stdout.write(`${JSON.stringify({ bench: BENCH, rates: rateRows, growth: growthRows })}\n`);
}

await main();
