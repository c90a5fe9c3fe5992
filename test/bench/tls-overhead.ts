/**
 * `npm run bench`: what TLS plaintext capture (`agent.js capture --tls`, issue 15) costs the app. A
 * server namespace runs nginx with TLS (HTTP/1.1 keep-alive, TLS 1.3, a 1.2 KB body) pinned to one
 * core; a client namespace runs h2load over HTTPS on the same core (its libssl is not in the
 * agent's namespaces, so it is not hooked); the agent runs in the server's namespace on the other
 * core. Rows:
 *
 * - nginx alone, unthrottled: the base requests/s (run first and last: the base is their mean);
 * - with the agent capturing packets only (no probes), unthrottled;
 * - with the agent --tls (uprobes on nginx's libssl), unthrottled: the ratio to the base is what
 *   the probes cost nginx (each SSL_read/SSL_write runs a BPF program and copies the plaintext);
 * - with the agent --tls at fixed rates (1k, 2.5k, 5k requests/s): lost probe events (goal zero),
 *   entries against requests, and the agent's CPU per 1k requests/s, at three rates so the README
 *   can say how the agent's cost follows the rate.
 *
 * Prints a table, BENCH-FIGURE lines (tls-overhead-figures.ts, for npm run bench) and one JSON line.
 * Needs root, nginx (nginx-light), h2load (nghttp2-client), openssl, taskset; prints why and exits
 * 0 when one is missing. Options: --seconds 8  --rates 1000,2500,5000
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addAddress, addVeth, requireNetns, Scope, waitForPort, type Netns } from '../helpers/netns.ts';
import { NODE } from '../helpers/capture.ts';
import { normalPriority, prepareAgentDir } from '../helpers/agent.ts';
import { makeCertificate, writeNginxConfig } from '../helpers/tls-servers.ts';
import { printFigure } from './figures.ts';
import { tlsOverheadFigures, type TlsRow } from './tls-overhead-figures.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rates: { type: 'string', default: '1000,2500,5000' } } });
const SECONDS = Number(values.seconds);
const RATES = values.rates.split(',').map(Number);
if (!(SECONDS > 0) || RATES.some((r) => !Number.isInteger(r) || r < 1)) {
  process.stderr.write('tls-overhead: --seconds takes a positive number, --rates positive integers separated by commas (requests/s)\n');
  process.exit(2);
}
/** The highest fixed rate: the one the summary line speaks of. */
const RATE = Math.max(...RATES);
const SERVER_IP = '10.67.0.2';
const CLIENT_IP = '10.67.0.1';
const PORT = 8443;
const BODY = 1200;
const AGENT_CPU = '0';
const APP_CPU = '1';
const CONNECTIONS = 16;

interface TlsStats {
  events: number;
  lostEvents: number;
  connections: number;
  unresolved: number;
}

interface AgentStats {
  entries: number;
  dropped: number;
  kernelDrops: number;
  tls?: TlsStats;
}

/** The agent as the other benches run it: its NDJSON read for stats only, CPU from /proc. */
class Agent {
  readonly child: ChildProcess;
  stats: AgentStats = { entries: 0, dropped: 0, kernelDrops: 0 };
  readonly notices: string[] = [];
  #rest = '';
  readonly ready: Promise<void>;

  constructor(ns: Netns, dir: string, tls: boolean) {
    const [cmd, args] = ns.wrap('taskset', ['-c', AGENT_CPU, NODE, 'agent.js', 'capture', '--iface', 'any', ...(tls ? ['--tls'] : []), '--stats-interval', '250', '--idle-exit', '0']);
    this.child = spawn(cmd, args, { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    let resolveReady: () => void = () => {};
    this.ready = new Promise((r) => {
      resolveReady = r;
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const lines = (this.#rest + chunk).split('\n');
      this.#rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{"type":"entry"')) continue;
        const frame = JSON.parse(line) as { type: string; code?: string; message?: string } & Partial<AgentStats>;
        if (frame.type === 'hello') resolveReady();
        if (frame.type === 'stats') this.stats = frame as AgentStats;
        if (frame.type === 'warning' || frame.type === 'error') this.notices.push(`${frame.code}: ${frame.message}`);
      }
    });
  }

  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    await Promise.race([exited, sleep(3000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** TlsRow's `started`: requests h2load sent, answered or not: at the -D deadline up to one per connection is in flight, answered by nginx (an entry) but not counted done. */
type Row = TlsRow;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** h2load over HTTPS (HTTP/1.1 keep-alive), unthrottled or at `rps` in all. */
async function load(client: Netns, rps: number | null): Promise<{ requests: number; started: number; seconds: number }> {
  const args = ['-c', APP_CPU, 'h2load', '--h1', '-c', String(CONNECTIONS), '-D', String(SECONDS), '--warm-up-time=0'];
  if (rps !== null) args.push(`--rps=${rps / CONNECTIONS}`);
  args.push(`https://${SERVER_IP}:${PORT}/bytes/${BODY}`);
  const r = await client.exec('taskset', args);
  const out = r.stdout.toString('utf8');
  const done = /requests: \d+ total, (\d+) started, (\d+) done, (\d+) succeeded/.exec(out);
  const time = /finished in ([\d.]+)(ms|s), ([\d.]+) req\/s/.exec(out);
  if (!done || !time) throw new Error(`h2load output not understood:\n${out}\n${r.stderr}`);
  if (!/TLS Protocol: TLSv1\.3/.test(out)) throw new Error(`h2load did not speak TLS 1.3:\n${out}`);
  return { requests: Number(done[3]), started: Number(done[1]), seconds: Number(time[1]) / (time[2] === 'ms' ? 1000 : 1) };
}

async function row(label: string, client: Netns, agent: Agent | null, rps: number | null): Promise<Row> {
  const before = agent ? { ...agent.stats, tls: agent.stats.tls ? { ...agent.stats.tls } : undefined } : null;
  const cpu0 = agent?.cpuSeconds() ?? 0;
  const result = await load(client, rps);
  if (agent && before) {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && agent.stats.entries - before.entries < result.requests) await sleep(100);
    await sleep(300);
  }
  const cpu = agent ? agent.cpuSeconds() - cpu0 : 0;
  const achieved = Math.round(result.requests / result.seconds);
  return {
    label,
    offered: rps,
    rps: achieved,
    requests: result.requests,
    started: result.started,
    entries: agent && before ? agent.stats.entries - before.entries : null,
    lostEvents: agent?.stats.tls && before ? agent.stats.tls.lostEvents - (before.tls?.lostEvents ?? 0) : null,
    agentCpuPercent: agent ? Math.round((cpu / result.seconds) * 100) : null,
  };
}

async function withAgent<T>(scope: Scope, server: Netns, tls: boolean, body: (agent: Agent) => Promise<T>): Promise<T> {
  const dir = prepareAgentDir(scope);
  const agent = new Agent(server, dir, tls);
  scope.defer(() => agent.stop());
  await agent.ready;
  normalPriority(agent.child.pid!);
  // Probes are placed after hello, as the agent finds nginx: wait for its report.
  const deadline = Date.now() + 20_000;
  while (tls && Date.now() < deadline && !agent.notices.some((n) => n.startsWith('TLS_HOOKED') || n.startsWith('TLS_UNAVAILABLE'))) await sleep(100);
  await sleep(500);
  try {
    return await body(agent);
  } finally {
    await agent.stop();
    for (const n of agent.notices) process.stderr.write(`tls-overhead: agent${tls ? ' --tls' : ''}: ${n}\n`);
  }
}

async function main(): Promise<void> {
  const reason = requireNetns(['nginx', 'h2load', 'taskset', 'openssl']);
  if (reason !== null) {
    process.stdout.write(`tls-overhead bench skipped: ${reason}\n`);
    return;
  }
  const scope = new Scope();
  const work = mkdtempSync(join(tmpdir(), 'ks-bench-tls-'));
  scope.defer(() => rmSync(work, { recursive: true, force: true }));
  try {
    const client = await scope.netns('tbcli');
    const server = await scope.netns('tbsrv');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    const certificate = await makeCertificate(work, SERVER_IP);
    const conf = writeNginxConfig({ dir: work, port: PORT, certificate, tls: '1.3', http2: false, sizes: [BODY] });
    server.spawn('taskset', ['-c', APP_CPU, 'nginx', '-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPort(server, SERVER_IP, PORT);

    const rows: Row[] = [];
    rows.push(await row('nginx alone', client, null, null));
    rows.push(await withAgent(scope, server, false, (agent) => row('agent, packets only', client, agent, null)));
    const [max, fixedRows] = await withAgent(scope, server, true, async (agent) => {
      const unthrottled = await row('agent --tls', client, agent, null);
      const fixed: Row[] = [];
      for (const rate of RATES) fixed.push(await row(`agent --tls, ${rate / 1000}k req/s`, client, agent, rate));
      return [unthrottled, fixed] as const;
    });
    const fixed = fixedRows.find((r) => r.offered === RATE)!;
    rows.push(max, ...fixedRows);
    // Runs on this machine vary by several percent: the base is the mean of a run before and after.
    rows.push(await row('nginx alone, again', client, null, null));
    const base = (rows[0]!.rps + rows.at(-1)!.rps) / 2;
    process.stdout.write(`\ntls-overhead: nginx TLS 1.3 (HTTP/1.1 keep-alive, ${BODY} B body) <- h2load --h1 over HTTPS, ${CONNECTIONS} connections, ${SECONDS} s per row; nginx and h2load on core ${APP_CPU}, agent on core ${AGENT_CPU}\n`);
    process.stdout.write('scenario                      offered    req/s   vs alone   requests    entries  lost events  agentCPU  CPU per 1k req/s\n');
    for (const r of rows) {
      const perK = r.agentCpuPercent === null || r.rps === 0 ? '-' : `${((r.agentCpuPercent / r.rps) * 1000).toFixed(1)}%`;
      process.stdout.write(
        `${r.label.padEnd(28)}  ${String(r.offered ?? '-').padStart(7)}  ${String(r.rps).padStart(7)}  ${`${((r.rps / base) * 100).toFixed(1)}%`.padStart(8)}  ${String(r.requests).padStart(9)}  ${String(r.entries ?? '-').padStart(9)}  ${String(r.lostEvents ?? '-').padStart(11)}  ${r.agentCpuPercent === null ? '       -' : `${String(r.agentCpuPercent).padStart(7)}%`}  ${perK.padStart(16)}\n`,
      );
    }
    process.stdout.write(
      `with the probes nginx serves ${((max.rps / base) * 100).toFixed(1)}% of its requests/s alone; at ${RATE / 1000}k req/s: ` +
        `${fixed.lostEvents === null ? 'no TLS counters (the agent did not capture TLS: see its notices above)' : `${fixed.lostEvents} lost events (goal 0)`}, ` +
        `${fixed.entries ?? 0} entries for ${fixed.requests} requests answered to h2load (${fixed.started} sent: the last of each connection is in flight at the deadline), agent CPU ${fixed.agentCpuPercent}% (${fixed.rps > 0 && fixed.agentCpuPercent !== null ? ((fixed.agentCpuPercent / fixed.rps) * 1000).toFixed(1) : '-'}% of a core per 1k req/s)\n`,
    );
    for (const f of tlsOverheadFigures({ baseRps: base, connections: CONNECTIONS, packetsOnly: rows[1]!, tlsUnthrottled: max, tlsFixed: fixedRows })) printFigure(f);
    process.stdout.write(`${JSON.stringify({ bench: 'tls-overhead', rows, ratio: max.rps / base })}\n`);
  } finally {
    await scope.close();
  }
}

if (spawnSync('id', ['-u'], { encoding: 'utf8' }).stdout.trim() !== '0') {
  process.stdout.write('tls-overhead bench skipped: needs root (network namespaces)\n');
} else {
  await main();
}
