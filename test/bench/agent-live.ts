/**
 * `npm run bench`: the live capture agent under real load. A server namespace runs nginx (a fast
 * peer, so the load reaches rates the agent must follow; HTTP/1.1 on one port, HTTP/2 without TLS
 * by prior knowledge on another) and the agent (`dist/agent`, copied into an empty folder) pinned
 * to one core with taskset; a client namespace runs h2load (--h1 for HTTP/1.1; h2c with
 * H2_STREAMS concurrent streams per connection for HTTP/2), joined by a veth pair. Per scenario: requests the load generator completed, entries the agent reported,
 * kernel drops, dropped entries, the agent's CPU (utime+stime from /proc) and peak RSS (VmRSS
 * sampled every 100 ms).
 *
 * First the agent idle (issue 17: RSS before any traffic, beside a bare `node` on the same core
 * as the peer: what Node alone costs): 3 s after start, and once it has given its idle memory
 * back (agent/idle-release.ts). As in the pod's capture container, the agent runs the folder's own
 * copy of node, beside the container's keeper (src/kube/keeper.ts): pages of the executable
 * another process maps stay resident. Then fixed rates 1k, 10k and 20k requests/s (h2load --rps
 * per client; each row's peak RSS and CPU per 1k entries/s are figures at those three sizes), then a ladder of rising
 * rates up to what the load generator reaches on this machine: the highest rate followed with zero
 * kernel drops and zero dropped entries is reported, with entries per CPU-second of the agent (its
 * one-core ceiling, since CPU per entry is what limits it). Then HTTP/2 (issue 13): 10k, 15k and
 * 20k requests/s and unthrottled, each HTTP/2 stream an entry; the h2load column is h2load's own
 * req/s.
 *
 * Needs root (namespaces), nginx and h2load (Debian: nginx-light, nghttp2-client); prints why and
 * exits 0 when they are missing. Options: --seconds 8  --ladder 25000,30000,40000
 * --protocols h1,h2 (the rows to run)  --normal-priority (the agent runs at nice 0 instead of the
 * nice 19 it gives itself: on a machine other work keeps busy, nice 19 on its core measures that
 * work, not the agent)  --agent-dir DIR (run that bundle instead of dist/agent: a before/after
 * comparison in one run of the same machine)  --max-memory MB (the agent's flag; default its own)
 *
 * Figures (BENCH-FIGURE, test/bench/figures.ts): idle RSS (peer: bare node), peak RSS and CPU per
 * 1k entries/s at 1k, 10k and 20k requests/s, and kernel drops plus dropped entries at 20k/s.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, readFileSync, realpathSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addAddress, addVeth, requireNetns, Scope, waitForPort, type Netns } from '../helpers/netns.ts';
import { NODE } from '../helpers/capture.ts';
import { normalPriority, prepareAgentDir } from '../helpers/agent.ts';
import { printFigure } from './figures.ts';
import { IDLE_RELEASE_AFTER_MS } from '../../src/remote-agent/agent/idle-release.ts';
import { agentFolderPrefix, KEEPER_NAME, KEEPER_SCRIPT } from '../../src/kube/keeper.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    ladder: { type: 'string', default: '25000,30000,40000' },
    protocols: { type: 'string', default: 'h1,h2' },
    'normal-priority': { type: 'boolean', default: false },
    'agent-dir': { type: 'string' },
    'max-memory': { type: 'string' },
  },
});
const PROTOCOLS = new Set(values.protocols.split(','));
const SECONDS = Number(values.seconds);
const LADDER = values.ladder.split(',').map(Number);
/** HTTP/1 rows at fixed rates: the three sizes every figure of issue 17 goal 3 is given at. */
const H1_RATES = [1000, 10000, 20000];
/** Issue 17 goal 3, in MB (MiB, as VmRSS is counted). */
const IDLE_RSS_GOAL_MB = 55;
const RSS_AT_10K_GOAL_MB = 80;
/** How long the agent and bare node idle before their RSS is read: start-up work has settled. */
const IDLE_SETTLE_MS = 3000;
/**
 * The agent's idle figure is read this long after the one above: by then it has given its idle
 * memory back (IDLE_RELEASE_AFTER_MS without a packet: agent/idle-release.ts).
 */
const IDLE_RELEASE_WAIT_MS = IDLE_RELEASE_AFTER_MS + 2000;
/** The agent's copy of the node executable, in its folder. */
const AGENT_NODE = 'node';
const SERVER_IP = '10.66.0.2';
const CLIENT_IP = '10.66.0.1';
const PORT = 8080;
const H2_PORT = 8082;
/** Concurrent streams per HTTP/2 connection (h2load -m). */
const H2_STREAMS = 32;
/** HTTP/2 rows at fixed rates (then one unthrottled): the acceptance rate and above it. */
const H2_RATES = [10000, 15000, 20000];
/** HTTP/2 connections for the fixed rates and unthrottled: few connections, many streams each. */
const H2_CONNECTIONS = 10;
const AGENT_CPU = '0';
const OTHER_CPU = '1';

interface AgentStats {
  packets: number;
  entries: number;
  sent: number;
  dropped: number;
  kernelDrops: number;
  rssBytes: number;
}

type Protocol = 'h1' | 'h2';

interface ScenarioResult {
  readonly label: string;
  readonly protocol: Protocol;
  /** What h2load printed as its own rate ("finished in ..., N req/s"). */
  readonly h2loadRps: number;
  readonly offeredRps: number | null;
  readonly requests: number;
  readonly seconds: number;
  readonly achievedRps: number;
  readonly entries: number;
  readonly kernelDrops: number;
  readonly dropped: number;
  readonly agentCpuPercent: number;
  /** Agent CPU (% of one core) per 1k entries/s: CPU seconds per entry, scaled to read as a load. */
  readonly cpuPercentPer1kEntries: number;
  readonly entriesPerCpuSecond: number;
  readonly peakRssMb: number;
}

function missing(): string | null {
  const reason = requireNetns(['nginx', 'h2load', 'taskset']);
  if (reason !== null) return reason;
  return null;
}

class AgentProcess {
  readonly child: ChildProcess;
  stats: AgentStats = { packets: 0, entries: 0, sent: 0, dropped: 0, kernelDrops: 0, rssBytes: 0 };
  entryFrames = 0;
  #rest = '';
  #stopping = false;
  #lastCpuSeconds = 0;
  readonly ready: Promise<void>;

  constructor(ns: Netns, dir: string) {
    const maxMemory = values['max-memory'] === undefined ? [] : ['--max-memory', values['max-memory']];
    const [cmd, args] = ns.wrap('taskset', ['-c', AGENT_CPU, join(dir, AGENT_NODE), 'agent.js', 'capture', '--iface', 'any', '--stats-interval', '250', '--idle-exit', '0', ...maxMemory]);
    this.child = spawn(cmd, args, { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    let resolveReady: () => void = () => {};
    this.ready = new Promise((r) => {
      resolveReady = r;
    });
    // An agent that dies mid-run (its memory bound, a crash) is said, and the rows after it show it.
    this.child.once('exit', (code, signal) => {
      if (!this.#stopping) process.stderr.write(`agent-live: the agent exited during the run (${code ?? signal})\n`);
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const text = this.#rest + chunk;
      const lines = text.split('\n');
      this.#rest = lines.pop() ?? '';
      for (const line of lines) {
        // Entry frames are only counted: parsing 20k+ of them a second would load the other core.
        if (line.startsWith('{"type":"entry"')) {
          this.entryFrames++;
          continue;
        }
        const frame = JSON.parse(line) as { type: string } & Partial<AgentStats>;
        if (frame.type === 'hello') resolveReady();
        if (frame.type === 'stats') this.stats = frame as AgentStats;
        // What the agent warns of (memory pressure, backpressure) explains a row's drops.
        if (frame.type === 'error' || frame.type === 'warning') process.stderr.write(`agent ${frame.type}: ${line}\n`);
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** CPU seconds used so far (the last figure read once the process is gone). */
  cpuSeconds(): number {
    const stat = readProc(`/proc/${this.pid}/stat`);
    if (stat === null) return this.#lastCpuSeconds;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    this.#lastCpuSeconds = ticks / 100;
    return this.#lastCpuSeconds;
  }

  /** Resident memory now (0 once the process is gone). */
  rssBytes(): number {
    return rssOf(this.pid);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    await Promise.race([exited, sleep(3000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** A fresh agent in `ns`, ready (and at nice 0 with --normal-priority), stopped when `scope` closes. */
async function startAgent(scope: Scope, ns: Netns): Promise<AgentProcess> {
  const agentDir = values['agent-dir'] === undefined ? prepareAgentDir() : copyAgentDir(values['agent-dir']);
  scope.defer(() => rmSync(agentDir, { recursive: true, force: true }));
  // As in the pod's capture container: the image's own node, beside the container's keeper. Pages of
  // the executable another process maps stay resident when the idle agent gives its pages back
  // (live/idle-memory.ts): this bench's node maps them too, the keeper (a shell) does not.
  const node = join(agentDir, AGENT_NODE);
  copyFileSync(realpathSync(NODE), node);
  chmodSync(node, 0o755);
  const keeper = ns.spawn('sh', ['-c', KEEPER_SCRIPT, KEEPER_NAME, agentFolderPrefix('bench'), String(3_600_000)], { stdio: 'ignore' });
  scope.defer(() => {
    keeper.kill('SIGKILL');
  });
  const agent = new AgentProcess(ns, agentDir);
  scope.defer(() => agent.stop());
  await agent.ready;
  if (values['normal-priority']) normalPriority(agent.pid);
  await sleep(500);
  return agent;
}

function copyAgentDir(from: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ks-bench-agent-dir-'));
  cpSync(from, dir, { recursive: true });
  return dir;
}

/**
 * RSS of a process once it has idled IDLE_SETTLE_MS: the median of five reads 100 ms apart (a
 * timer or a stats frame may allocate for a moment). MiB, as VmRSS counts.
 */
async function idleRssMb(pid: number): Promise<number> {
  await sleep(IDLE_SETTLE_MS);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(rssOf(pid));
    await sleep(100);
  }
  reads.sort((a, b) => a - b);
  return round1(reads[2] / 1048576);
}

/** The peer of the idle figure: a bare `node` (the same binary) doing nothing, on the agent's core. */
async function bareNodeIdleRssMb(ns: Netns): Promise<number> {
  const child = ns.spawn('taskset', ['-c', AGENT_CPU, NODE, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    // taskset execs node in place: the pid is node's once the exec is done.
    await sleep(200);
    return await idleRssMb(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function startNginx(ns: Netns, dir: string): Promise<ChildProcess> {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server {
    listen ${SERVER_IP}:${PORT};
    location / { default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; }
  }
  server {
    listen ${SERVER_IP}:${H2_PORT} http2;
    http2_max_concurrent_streams ${H2_STREAMS * 2};
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; }
  }
}
`,
  );
  const child = ns.spawn('taskset', ['-c', OTHER_CPU, 'nginx', '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(ns, SERVER_IP, PORT);
  await waitForPort(ns, SERVER_IP, H2_PORT);
  return child;
}

interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly h2loadRps: number;
}

/**
 * h2load: `rps` per second in all (spread over clients), or as fast as it can when null. HTTP/1.1
 * (--h1) with up to 200 connections; HTTP/2 (h2c, prior knowledge) with H2_CONNECTIONS
 * connections of H2_STREAMS concurrent streams each.
 */
async function load(ns: Netns, protocol: Protocol, rps: number | null, seconds: number): Promise<LoadResult> {
  const clients = protocol === 'h2' ? H2_CONNECTIONS : rps === null ? 32 : Math.max(1, Math.min(200, Math.ceil(rps / 200)));
  const args = ['-c', OTHER_CPU, 'h2load', ...(protocol === 'h1' ? ['--h1'] : ['-m', String(H2_STREAMS)]), '-c', String(clients), '-D', String(seconds), '--warm-up-time=0'];
  if (rps !== null) args.push(`--rps=${rps / clients}`);
  args.push(`http://${SERVER_IP}:${protocol === 'h1' ? PORT : H2_PORT}/api/items?page=1`);
  const r = await ns.exec('taskset', args);
  const out = r.stdout.toString('utf8');
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(out);
  const time = /finished in ([\d.]+)(ms|s), ([\d.]+) req\/s/.exec(out);
  if (!done || !time) throw new Error(`h2load output not understood:\n${out}\n${r.stderr}`);
  if (protocol === 'h2' && !/Application protocol: h2c/.test(out)) throw new Error(`h2load did not speak h2c:\n${out}`);
  return { requests: Number(done[2]), seconds: Number(time[1]) / (time[2] === 'ms' ? 1000 : 1), h2loadRps: Math.round(Number(time[3])) };
}

async function scenario(label: string, client: Netns, agent: AgentProcess, rps: number | null, protocol: Protocol = 'h1'): Promise<ScenarioResult> {
  const before = { ...agent.stats };
  const cpu0 = agent.cpuSeconds();
  let peak = agent.rssBytes();
  const sampler = setInterval(() => {
    peak = Math.max(peak, agent.rssBytes());
  }, 100);
  const result = await load(client, protocol, rps, SECONDS);
  // Let the agent catch up: wait for its entries to reach the completed requests (or 5 s).
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && agent.stats.entries - before.entries < result.requests) await sleep(100);
  await sleep(300);
  clearInterval(sampler);
  const cpu = agent.cpuSeconds() - cpu0;
  const entries = agent.stats.entries - before.entries;
  return {
    label,
    protocol,
    h2loadRps: result.h2loadRps,
    offeredRps: rps,
    requests: result.requests,
    seconds: result.seconds,
    achievedRps: Math.round(result.requests / result.seconds),
    entries,
    kernelDrops: agent.stats.kernelDrops - before.kernelDrops,
    dropped: agent.stats.dropped - before.dropped,
    agentCpuPercent: Math.round((cpu / result.seconds) * 100),
    cpuPercentPer1kEntries: entries > 0 ? round2((cpu / entries) * 1000 * 100) : 0,
    entriesPerCpuSecond: cpu > 0 ? Math.round(entries / cpu) : 0,
    peakRssMb: Math.round(peak / 1048576),
  };
}

/** Issue 17 goal 3's figures: idle RSS beside bare node's, then each at 1k, 10k and 20k requests/s. */
function printFigures(idle: { agent: number; afterStart: number; bareNode: number }, fixed: readonly ScenarioResult[]): void {
  const bench = 'agent-live';
  printFigure({
    bench,
    figure: 'agent RSS 3 s after start (before it gives idle memory back)',
    size: 'idle',
    sizeValue: 0,
    ours: idle.afterStart,
    unit: 'MB',
    higherIsBetter: false,
    peer: { name: 'bare node (same binary, idle)', value: idle.bareNode },
  });
  printFigure({
    bench,
    figure: 'agent idle RSS',
    size: 'idle',
    sizeValue: 0,
    ours: idle.agent,
    unit: 'MB',
    higherIsBetter: false,
    peer: { name: 'bare node (same binary, idle)', value: idle.bareNode },
    goal: `<= ${IDLE_RSS_GOAL_MB} MB`,
    met: idle.agent <= IDLE_RSS_GOAL_MB,
  });
  for (const r of fixed) {
    const size = `${r.offeredRps! / 1000}k requests/s`;
    const sizeValue = r.offeredRps!;
    const atTenK = r.offeredRps === 10000;
    printFigure({
      bench,
      figure: 'agent peak RSS under load',
      size,
      sizeValue,
      ours: r.peakRssMb,
      unit: 'MB',
      higherIsBetter: false,
      ...(atTenK ? { goal: `<= ${RSS_AT_10K_GOAL_MB} MB at 10k entries/s`, met: r.peakRssMb <= RSS_AT_10K_GOAL_MB && followed(r) } : {}),
    });
    printFigure({ bench, figure: 'agent CPU per 1k entries/s', size, sizeValue, ours: r.cpuPercentPer1kEntries, unit: '% of a core', higherIsBetter: false });
    printFigure({
      bench,
      figure: 'agent kernel drops + dropped entries',
      size,
      sizeValue,
      ours: r.kernelDrops + r.dropped + Math.max(0, r.requests - r.entries),
      unit: 'entries',
      higherIsBetter: false,
      goal: '0 (every request an entry)',
      met: followed(r),
    });
  }
}

function followed(r: ScenarioResult): boolean {
  return r.kernelDrops === 0 && r.dropped === 0 && r.entries >= r.requests;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  const reason = missing();
  if (reason !== null) {
    process.stdout.write(`agent-live bench skipped: ${reason}\n`);
    return;
  }
  const scope = new Scope();
  const work = mkdtempSync(join(tmpdir(), 'ks-bench-agent-'));
  scope.defer(() => rmSync(work, { recursive: true, force: true }));
  const results: ScenarioResult[] = [];
  try {
    const client = await scope.netns('bcli');
    const server = await scope.netns('bsrv');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    await startNginx(server, work);
    const agent = await startAgent(scope, server);
    const afterStart = await idleRssMb(agent.pid);
    const bareNode = await bareNodeIdleRssMb(server);
    // bareNodeIdleRssMb took IDLE_SETTLE_MS and more: wait for the rest of the agent's idle time.
    await sleep(Math.max(0, IDLE_RELEASE_WAIT_MS - 2 * IDLE_SETTLE_MS));
    const idle = { agent: await idleRssMb(agent.pid), afterStart, bareNode };

    let best: ScenarioResult | null = null;
    const fixed: ScenarioResult[] = [];
    if (PROTOCOLS.has('h1')) {
      for (const rate of H1_RATES) {
        const r = await scenario(`${rate / 1000}k req/s`, client, agent, rate);
        fixed.push(r);
        results.push(r);
        if (followed(r)) best = best === null || r.achievedRps > best.achievedRps ? r : best;
      }
      for (const rate of LADDER) {
        const r = await scenario(`${rate / 1000}k req/s`, client, agent, rate);
        results.push(r);
        if (followed(r)) best = best === null || r.achievedRps > best.achievedRps ? r : best;
        if (r.achievedRps < rate * 0.9) break; // the load generator has reached its own ceiling
      }
      const max = await scenario('max (unthrottled)', client, agent, null);
      results.push(max);
      if (followed(max)) best = best === null || max.achievedRps > best.achievedRps ? max : best;
    }
    // HTTP/2: every stream an entry, the same table; a fresh agent, so the HTTP/1 rows' overload
    // (state, memory, a backlog still being worked off) does not spill into these.
    const h2Rows: ScenarioResult[] = [];
    if (PROTOCOLS.has('h2')) {
      await agent.stop();
      const h2Agent = await startAgent(scope, server);
      for (const rate of H2_RATES) h2Rows.push(await scenario(`HTTP/2 ${rate / 1000}k req/s`, client, h2Agent, rate, 'h2'));
      h2Rows.push(await scenario('HTTP/2 max', client, h2Agent, null, 'h2'));
    }
    results.push(...h2Rows);

    process.stdout.write(`\nagent-live: nginx <- h2load across a veth (--h1; HTTP/2 rows h2c, ${H2_CONNECTIONS} connections x ${H2_STREAMS} streams); agent pinned to one core (taskset), --iface any${values['normal-priority'] ? ', nice 0' : ''}\n`);
    process.stdout.write(
      `idle RSS: agent ${idle.agent} MB after ${IDLE_RELEASE_WAIT_MS / 1000} s or more (${idle.afterStart} MB after ${IDLE_SETTLE_MS / 1000} s, before it gave idle memory back), bare node ${idle.bareNode} MB (after ${IDLE_SETTLE_MS / 1000} s; goal <= ${IDLE_RSS_GOAL_MB} MB)\n`,
    );
    process.stdout.write('scenario             offered  achieved  h2load req/s   requests    entries  kdrops  dropped  agentCPU  CPU%/1k/s  entries/CPU-s  peakRSS\n');
    for (const r of results) {
      process.stdout.write(
        `${r.label.padEnd(20)} ${String(r.offeredRps ?? '-').padStart(7)}  ${String(r.achievedRps).padStart(8)}  ${String(r.h2loadRps).padStart(12)}  ${String(r.requests).padStart(9)}  ${String(r.entries).padStart(9)}  ${String(r.kernelDrops).padStart(6)}  ${String(r.dropped).padStart(7)}  ${String(r.agentCpuPercent).padStart(7)}%  ${String(r.cpuPercentPer1kEntries).padStart(9)}  ${String(r.entriesPerCpuSecond).padStart(13)}  ${String(r.peakRssMb).padStart(5)} MB\n`,
      );
    }
    printFigures(idle, fixed);
    // Only scenarios the agent followed: dropped entries cost almost nothing and would flatter it.
    const ceiling = Math.max(0, ...results.filter((r) => r.protocol === 'h1' && followed(r)).map((r) => r.entriesPerCpuSecond));
    const h2Best = h2Rows.filter(followed).sort((a, b) => b.achievedRps - a.achievedRps)[0];
    // Each protocol's verdict only when its rows ran (--protocols).
    if (PROTOCOLS.has('h1')) {
      process.stdout.write(
        `highest rate followed with 0 kernel drops and 0 dropped entries: ${best ? `${best.achievedRps} req/s (${best.label}, agent CPU ${best.agentCpuPercent}%)` : 'none'}\n` +
          `agent entries per CPU-second in the scenarios it followed (its one-core ceiling): up to ${ceiling} entries/s; goal >= 20000 entries/s on one core, RSS < 150 MB\n`,
      );
    }
    if (PROTOCOLS.has('h2')) {
      process.stdout.write(
        `HTTP/2: highest rate followed with 0 kernel drops, 0 dropped entries and an entry per stream: ${h2Best ? `${h2Best.h2loadRps} req/s (h2load's own; ${h2Best.label}, agent CPU ${h2Best.agentCpuPercent}%)` : 'none'}; goal >= 10000 req/s on one core\n`,
      );
    }
    process.stdout.write(`${JSON.stringify({ bench: 'agent-live', idle, results, bestFollowedRps: best?.achievedRps ?? 0, entriesPerCpuSecond: ceiling, http2BestFollowedRps: h2Best?.h2loadRps ?? 0 })}\n`);
  } finally {
    await scope.close();
  }
}

if (spawnSync('id', ['-u'], { encoding: 'utf8' }).stdout.trim() !== '0') {
  process.stdout.write('agent-live bench skipped: needs root (network namespaces)\n');
} else {
  await main();
}
