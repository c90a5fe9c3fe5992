/**
 * `npm run bench:soak` (not part of `npm test` or `npm run bench`: it runs for half an hour):
 * `kubectl shark tap` of 4 nginx pods of the sandbox cluster (real runc containers), each loaded at
 * 2000 requests/s by its own h2load --h1 in a load pod's network namespace, for --minutes (30).
 *
 * Phases: `json` (`tap -o json`, its NDJSON read here) and `tui` (`tap` in the TUI, in tmux on a
 * private socket, --max-entries at its default). `--phases json+tui` runs both taps at once (two
 * agents per pod), `--phases json,tui` one after the other.
 *
 * Checks, each a verdict and BENCH-FIGURE lines (also saved to test/bench/out/soak-figures.json,
 * which keeps each phase's last figures: soak-figures.ts):
 * (a) RSS of the CLI, of every agent and of the exec relay (the sandbox's API server, a process of
 *     its own: soak-sandbox.ts), sampled from /proc every --sample-seconds, grows < 10% from
 *     warm-up (minute 2; a fifth of a shorter run, at least a minute: soak-growth.ts says why) to the end, each a median of a few samples;
 * (b) json: every request h2load made is in the NDJSON exactly once: nginx answers each with
 *     `X-Request-Id: $request_id` and logs the same id, one per line, to its pod's access log;
 *     the sorted id lists are compared (missing, duplicated and unknown ids must all be 0, and
 *     the logs' count must equal what h2load reports succeeded);
 *     tui: the header's count still grows at the end, and no drops;
 * (c) nothing left: the CLIs exited (json on SIGINT, the TUI on `q`), no agent, keeper or other
 *     capture-container process in the pods once the keepers' idle time has passed, no h2load,
 *     no tmux server, and after the sandbox stops no namespace, mount or process of it.
 * Exit 1 when a check fails. Needs root, h2load and tmux; says why and exits 0 without them.
 *
 * Options: --minutes 30  --phases json,tui  --rate 2000 (per pod)  --pods 4  --sample-seconds 10
 *          --cli-node-args=--trace-gc (node flags for the json tap's CLI)  --cli-stderr FILE (its stderr and non-JSON stdout)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { requireSandbox } from '../sandbox/index.ts';
import type { SandboxFixture } from '../sandbox/types.ts';
import { NODE, REPO_ROOT } from '../helpers/capture.ts';
import { cpuSeconds } from '../sandbox/metrics.ts';
import { LAUNCHER_NODE_FLAGS, MAIN, requireBuild, tapEnv } from '../helpers/tap.ts';
import { hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';
import { LineSplitter } from '../../src/model/line-splitter.ts';
import { printFigure, type BenchFigure } from './figures.ts';
import { compareSortedIds } from './soak-ids.ts';
import { AGENT_CMDLINE, CAPTURE_CGROUP, cgroupOf, childPids, listProcesses, namedNetnsIno, rssKbOf } from './soak-procs.ts';
import { rssGrowth, warmupMsFor, type RssGrowth, type RssSample } from './soak-growth.ts';
import { startSandboxProcess, stopSandboxProcess, type SandboxProcess } from './sandbox-process.ts';
import { fastRequestIdOfEntryLine, tuiCountsOf, type TuiCounts } from './soak-samples.ts';
import { mergeSoakPhases, parseSoakFile, SOAK_FIGURES_FILE, soakFileText, type SoakPhaseFigures } from './soak-figures.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    // json+tui at once lost requests in a measured 2-minute run on the 2-core machine (see below).
    phases: { type: 'string', default: 'json,tui' },
    rate: { type: 'string', default: '2000' },
    pods: { type: 'string', default: '4' },
    'sample-seconds': { type: 'string', default: '10' },
    // Investigating the CLI's memory: node flags for the json tap's CLI (e.g. "--trace-gc"), and a
    // file that gets all of its stderr (the verdicts keep only its tail).
    'cli-node-args': { type: 'string', default: '' },
    'cli-stderr': { type: 'string' },
  },
});
const PODS_MAX = 10;
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const PODS = Number(values.pods);
const SAMPLE_MS = Number(values['sample-seconds']) * 1000;
type PhaseName = 'json' | 'tui';
const GROUPS: PhaseName[][] = values.phases.split(',').map((g) => g.split('+').map((p) => p.trim() as PhaseName));
for (const [what, v] of [['--minutes', MINUTES], ['--rate', RATE], ['--pods', PODS], ['--sample-seconds', SAMPLE_MS]] as const) {
  if (!(Number.isFinite(v) && v > 0)) fail(`soak: ${what} must be a positive number`);
}
if (PODS > PODS_MAX) fail(`soak: --pods is at most ${PODS_MAX}`);
if (GROUPS.flat().some((p) => p !== 'json' && p !== 'tui') || new Set(GROUPS.flat()).size !== GROUPS.flat().length) {
  fail(`soak: --phases ${values.phases}: name json and tui once each, joined by + (at the same time) or , (one after the other)`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const NS = 'soak';
const CONF_DIR = '/soak';
const LOAD_IP = '10.244.0.40';
/** h2load connections per pod; each keeps RATE / CLIENTS requests/s. */
const CLIENTS = 10;
/** The capture container's keeper ends 60 s after its last agent (src/kube/keeper.ts) and checks every 2 s. */
const KEEPER_GONE_MS = 90_000;
const ID_LINE_BYTES = 33; // 32 hex digits and a newline
/** Requests h2load may have in flight when -D ends (one per connection): answered and logged, not counted by it. */
const IN_FLIGHT = CLIENTS * PODS;

const webIp = (i: number): string => `10.244.0.${20 + i}`;
const webName = (i: number): string => `web-${i}`;
const mb = (kb: number | null | undefined): string => (kb === null || kb === undefined ? '-' : (kb / 1024).toFixed(1));
const log = (s: string): void => void process.stdout.write(`${s}\n`);

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function nginxConf(ip: string): string {
  return `worker_processes 1; pid ${CONF_DIR}/nginx.pid; error_log ${CONF_DIR}/error.log warn; events { worker_connections 4096; }
http { log_format ids '$request_id'; access_log ${CONF_DIR}/access.log ids buffer=64k flush=1s;
  client_body_temp_path ${CONF_DIR}/b; proxy_temp_path ${CONF_DIR}/p; fastcgi_temp_path ${CONF_DIR}/f; uwsgi_temp_path ${CONF_DIR}/u; scgi_temp_path ${CONF_DIR}/s;
  keepalive_requests 1000000;
  server { listen ${ip}:8080; location / { add_header X-Request-Id $request_id always; default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; } } }
`;
}

// ---------------------------------------------------------------------------------------------
// The taps.

/** `tap -o json`: its NDJSON's request ids go to a file (millions of them: not kept in memory). */
class JsonTap {
  readonly child: ChildProcess;
  entries = 0;
  withId = 0;
  stderr = '';
  /** The first few entries without a request id, to show what they were. */
  readonly withoutId: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #ids: WriteStream;
  readonly #lines: LineSplitter;

  /** --cli-stderr: the CLI's stderr, and its stdout lines that are not JSON (node's own output). */
  readonly #nodeOutput: WriteStream | null = values['cli-stderr'] === undefined ? null : createWriteStream(values['cli-stderr']);

  constructor(kubeconfig: string, idsFile: string) {
    this.#ids = createWriteStream(idsFile);
    this.#lines = new LineSplitter(64 * 1024 * 1024, {
      line: (line) => {
        if (!line.startsWith('{')) {
          // Not NDJSON: what a --cli-node-args flag such as --trace-gc prints on stdout.
          this.#nodeOutput?.write(`${line}\n`);
          return;
        }
        if (line.startsWith('{"type":')) return; // stats, not an entry
        this.entries++;
        const id = fastRequestIdOfEntryLine(line);
        if (id !== null) {
          this.withId++;
          this.#ids.write(`${id}\n`);
        } else if (this.withoutId.length < 3) this.withoutId.push(`${line.slice(0, 60)}... ${line.slice(Math.max(0, line.indexOf('"response":')), line.indexOf('"response":') + 400)}`);
      },
      overlong: (bytes) => process.stderr.write(`soak: tap wrote a line of ${bytes} bytes\n`),
    });
    const nodeArgs = values['cli-node-args'].split(' ').filter((a) => a !== '');
    // As bin/kubectl-shark starts it (its heap flags), spawned here so its pid is known.
    this.child = spawn(NODE, [...LAUNCHER_NODE_FLAGS, ...nodeArgs, MAIN, 'tap', '-n', NS, '-l', 'app=web', '-o', 'json'], { env: tapEnv(kubeconfig), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => this.#lines.push(b));
    this.child.stderr!.on('data', (b: Buffer) => {
      this.#nodeOutput?.write(b);
      this.stderr += b.toString('utf8');
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGINT');
    const code = await Promise.race([this.exited, sleep(30_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      return null;
    }
    await new Promise<void>((r) => this.#ids.end(() => r()));
    if (this.#nodeOutput !== null) await new Promise<void>((r) => this.#nodeOutput!.end(() => r()));
    return code;
  }
}

/** `tap` in the TUI (the default output), in tmux on a private socket. */
class TuiTap {
  readonly pane: TmuxPane;
  readonly errFile: string;
  cliPid = 0;

  constructor(kubeconfig: string, work: string) {
    this.errFile = join(work, 'tui-stderr.txt');
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    this.pane = TmuxPane.start('soak', 160, 40, `${terminalEnv({ KUBECONFIG: kubeconfig })} ${q(NODE)} ${LAUNCHER_NODE_FLAGS.map(q).join(' ')} ${q(MAIN)} tap -n ${NS} -l app=web 2>${q(this.errFile)}`);
  }

  /** The CLI: the pane's shell's child. */
  async findCli(): Promise<number> {
    const shell = Number(this.pane.tmux('display', '-p', '-t', 'tui', '#{pane_pid}').trim());
    for (let i = 0; i < 100 && this.cliPid === 0; i++) {
      const node = childPids(shell).find((pid) => /node/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1')));
      if (node !== undefined) this.cliPid = node;
      else await sleep(100);
    }
    if (this.cliPid === 0) throw new Error('the TUI tap process was not found under its tmux pane');
    return this.cliPid;
  }

  counts(): TuiCounts | null {
    try {
      return tuiCountsOf(this.pane.screen());
    } catch {
      return null;
    }
  }

  /** Quits with q; the exit code the pane's shell printed, or null when it did not exit. */
  async quit(): Promise<number | null> {
    await this.pane.press('q');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const m = /EXIT:(\d+)/.exec(this.pane.screen());
      if (m !== null) return Number(m[1]);
      await sleep(200);
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Sampling.

interface Row {
  readonly atMs: number;
  readonly rssKb: Record<string, number | null>;
  readonly jsonEntries: number | null;
  readonly tui: TuiCounts | null;
  readonly requests: number;
}

interface ProcessSeries {
  readonly kind: 'cli-json' | 'cli-tui' | 'agent' | 'relay';
  readonly label: string;
  readonly samples: RssSample[];
}

function accessLogBytes(work: string): number[] {
  return Array.from({ length: PODS }, (_, i) => {
    const f = join(work, webName(i), 'access.log');
    return existsSync(f) ? statSync(f).size : 0;
  });
}

/** Processes in the pods' network namespaces now, by pid (agents, keepers, nginx...). */
function processesIn(inos: ReadonlyMap<number, string>): Array<{ pid: number; pod: string; cmdline: string }> {
  return listProcesses()
    .filter((p) => inos.has(p.netnsIno))
    .map((p) => ({ pid: p.pid, pod: inos.get(p.netnsIno)!, cmdline: p.cmdline }));
}

/**
 * h2load --h1 against every web pod for `seconds` (-D: the phase lasts what it says even when the
 * machine cannot keep the rate); the requests it reports succeeded, summed.
 */
async function runLoad(loadNetns: string, seconds: number): Promise<{ succeeded: number; outputs: string[] }> {
  const perClient = RATE / CLIENTS;
  const runs = Array.from({ length: PODS }, (_, i) => {
    const child = spawn('ip', ['netns', 'exec', loadNetns, 'h2load', '--h1', '-D', String(seconds), '-c', String(CLIENTS), `--rps=${perClient}`, `http://${webIp(i)}:8080/api/items?page=1`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    return new Promise<{ ok: number; out: string }>((resolve) =>
      child.on('close', () => {
        const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(out);
        resolve({ ok: m === null ? 0 : Number(m[1]), out });
      }),
    );
  });
  const done = await Promise.all(runs);
  return { succeeded: done.reduce((s, d) => s + d.ok, 0), outputs: done.map((d) => d.out) };
}

async function* linesOf(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line !== '') yield line;
}

function sortFile(file: string): string {
  const out = `${file}.sorted`;
  const r = spawnSync('sort', ['-S', '15%', '-T', dirname(file), '-o', out, file], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`sort ${file} failed: ${r.stderr.toString()}`);
  return out;
}

/** The ids each pod's access log gained since `from` (byte offsets), into one file. */
function expectedIdsFile(work: string, from: readonly number[], to: readonly number[], out: string): void {
  const fd = openSync(out, 'w');
  try {
    for (let i = 0; i < PODS; i++) {
      const src = openSync(join(work, webName(i), 'access.log'), 'r');
      const buf = Buffer.alloc(1 << 20);
      let pos = from[i]!;
      while (pos < to[i]!) {
        const n = readSync(src, buf, 0, Math.min(buf.length, to[i]! - pos), pos);
        if (n <= 0) break;
        writeFileSync(fd, buf.subarray(0, n));
        pos += n;
      }
      closeSync(src);
    }
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------

interface Verdict {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

interface GroupResult {
  readonly verdicts: Verdict[];
  readonly figures: BenchFigure[];
}

async function runGroup(group: readonly PhaseName[], sb: SandboxProcess, work: string, webInos: Map<number, string>): Promise<GroupResult> {
  const name = group.join('+');
  const durationMs = MINUTES * 60_000;
  const warmupMs = warmupMsFor(durationMs);
  const verdicts: Verdict[] = [];
  const figures: BenchFigure[] = [];
  // The run's length is part of the size: a short trial run must not read as the 30-minute soak.
  const size = `${PODS} pods x ${RATE} req/s, ${MINUTES} min`;
  log(`\nsoak phase ${name}: tap of ${PODS} pods, h2load --h1 ${RATE} req/s each for ${MINUTES} min; RSS every ${SAMPLE_MS / 1000} s, warm-up ${Math.round(warmupMs / 1000)} s`);

  const logFrom = accessLogBytes(work);
  const idsFile = join(work, `ids-${name}.txt`);
  const json = group.includes('json') ? new JsonTap(sb.kubeconfig, idsFile) : null;
  const tui = group.includes('tui') ? new TuiTap(sb.kubeconfig, work) : null;
  const series = new Map<string, ProcessSeries>();
  const rows: Row[] = [];
  let loadStartedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (json !== null) series.set(`cli-json ${json.child.pid}`, { kind: 'cli-json', label: `cli json (pid ${json.child.pid})`, samples: [] });
    if (tui !== null) {
      const pid = await tui.findCli();
      series.set(`cli-tui ${pid}`, { kind: 'cli-tui', label: `cli tui (pid ${pid})`, samples: [] });
    }
    series.set(`relay ${sb.pid}`, { kind: 'relay', label: `exec relay (pid ${sb.pid})`, samples: [] });

    // Every pod has as many agents as there are taps before the load starts.
    const want = PODS * group.length;
    const deadline = Date.now() + 180_000;
    let agents = 0;
    while (Date.now() < deadline) {
      agents = processesIn(webInos).filter((p) => AGENT_CMDLINE.test(p.cmdline)).length;
      if (agents >= want) break;
      if (json !== null && json.child.exitCode !== null) throw new Error(`tap -o json exited (${json.child.exitCode}): ${json.stderr}`);
      await sleep(500);
    }
    if (agents < want) throw new Error(`only ${agents} of ${want} agents started within 3 minutes; tap stderr: ${json?.stderr ?? ''}`);
    await sleep(2000);

    const sample = (last = false): void => {
      const atMs = Date.now() - loadStartedAt;
      const rssKb: Record<string, number | null> = {};
      for (const a of processesIn(webInos).filter((p) => AGENT_CMDLINE.test(p.cmdline))) {
        const key = `agent ${a.pid}`;
        if (!series.has(key)) series.set(key, { kind: 'agent', label: `agent ${a.pod} (pid ${a.pid})`, samples: [] });
      }
      for (const [key, s] of series) {
        const pid = Number(key.split(' ')[1]);
        const kb = rssKbOf(pid);
        rssKb[key] = kb;
        if (kb !== null) s.samples.push({ atMs, rssKb: kb });
      }
      const bytes = accessLogBytes(work);
      rows.push({ atMs, rssKb, jsonEntries: json?.withId ?? null, tui: tui?.counts() ?? null, requests: bytes.reduce((s, b, i) => s + (b - logFrom[i]!) / ID_LINE_BYTES, 0) });
      const row = rows.at(-1)!;
      if (last || rows.length === 1 || Math.floor(atMs / 60_000) > Math.floor(rows.at(-2)!.atMs / 60_000)) printRow(row, series);
    };
    printHeader(series);
    loadStartedAt = Date.now();
    const benchCpu = process.cpuUsage();
    // The CLIs' CPU over the load: what a change to their memory (more GCs) costs.
    const cliPids = [...series.entries()].filter(([, s]) => s.kind === 'cli-json' || s.kind === 'cli-tui').map(([k, s]) => ({ pid: Number(k.split(' ')[1]), label: s.label, kind: s.kind }));
    const cliCpuBefore = cliPids.map((c) => cpuSeconds(c.pid));
    sample();
    timer = setInterval(() => sample(), SAMPLE_MS);
    const load = await runLoad(sb.netns[`${NS}/load`]!, MINUTES * 60);
    const loadEndedMs = Date.now() - loadStartedAt;
    const cliCpu = cliPids.map((c, i) => ({ ...c, seconds: cpuSeconds(c.pid) - cliCpuBefore[i]! }));
    clearInterval(timer);
    timer = undefined;
    // The access logs flush each second; then the entries of the last requests arrive.
    await sleep(3000);
    const logTo = accessLogBytes(work);
    const logged = logTo.reduce((s, b, i) => s + (b - logFrom[i]!) / ID_LINE_BYTES, 0);
    if (json !== null) {
      const until = Date.now() + 30_000;
      while (json.withId < logged && Date.now() < until) await sleep(250);
    }
    sample(true);
    const lastLoadRows = rows.filter((r) => r.atMs <= loadEndedMs);
    const cpu = process.cpuUsage(benchCpu);
    log(`this benchmark's own CPU while reading: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in ${(loadEndedMs / 1000).toFixed(0)} s; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} cores`);
    log(`load: ${load.succeeded} requests succeeded (h2load), ${logged} in the access logs, in ${(loadEndedMs / 1000).toFixed(0)} s (${Math.round(logged / (loadEndedMs / 1000))} req/s in all)`);
    for (const c of cliCpu) {
      // % of a core per 1k entries/s = CPU seconds per entry x 1e5 (as test/bench/tap-exec.ts gives it).
      const perThousand = (c.seconds / Math.max(1, logged)) * 1e5;
      log(`${c.label}: ${c.seconds.toFixed(1)} s of CPU over the load, ${perThousand.toFixed(2)}% of a core per 1k entries/s`);
      figures.push({ bench: 'soak', figure: `soak ${c.kind} CPU per 1k entries/s`, size, sizeValue: PODS, ours: Math.round(perThousand * 100) / 100, unit: '% of a core', higherIsBetter: false });
    }
    const wanted = RATE * PODS * MINUTES * 60;
    verdicts.push({ check: `[${name}] load reached 90% of its rate`, ok: logged >= wanted * 0.9, detail: `${logged} of ${wanted} requests (${Math.round(logged / (MINUTES * 60))} req/s of ${RATE * PODS}); ${load.outputs.filter((o) => !/succeeded/.test(o)).length} h2load runs without a summary` });

    // (b) exactly once (json), screen updating (tui)
    if (json !== null) {
      const code = await json.stop();
      const expFile = join(work, `expected-${name}.txt`);
      expectedIdsFile(work, logFrom, logTo, expFile);
      const cmp = await compareSortedIds(linesOf(sortFile(expFile)), linesOf(sortFile(idsFile)));
      log(`json: ${json.entries} entries, ${json.withId} with a request id; expected ${cmp.expected}, seen ${cmp.seen}, missing ${cmp.missing}, duplicated ${cmp.duplicated}, unknown ${cmp.unexpected}${cmp.missingExamples.length > 0 ? ` (missing e.g. ${cmp.missingExamples.join(' ')})` : ''}`);
      for (const line of json.withoutId) log(`  an entry without a request id: ${line}`);
      verdicts.push({ check: '[json] every request exactly once', ok: cmp.missing === 0 && cmp.duplicated === 0 && cmp.unexpected === 0 && cmp.expectedRepeats === 0 && Math.abs(cmp.expected - load.succeeded) <= IN_FLIGHT, detail: `h2load ${load.succeeded}, logged ${cmp.expected}, missing ${cmp.missing}, duplicated ${cmp.duplicated}, unknown ${cmp.unexpected}` });
      verdicts.push({ check: '[json] CLI exited 0 on SIGINT', ok: code === 0, detail: `exit ${code}; stderr tail: ${json.stderr.trim().split('\n').slice(-2).join(' | ')}` });
      figures.push(
        { bench: 'soak', figure: 'soak requests (json)', size, sizeValue: PODS, ours: load.succeeded, unit: 'requests', higherIsBetter: true },
        { bench: 'soak', figure: 'soak missing requests (json)', size, sizeValue: PODS, ours: cmp.missing, unit: 'requests', higherIsBetter: false, goal: '0', met: cmp.missing === 0 },
        { bench: 'soak', figure: 'soak duplicated requests (json)', size, sizeValue: PODS, ours: cmp.duplicated, unit: 'requests', higherIsBetter: false, goal: '0', met: cmp.duplicated === 0 },
      );
    }
    if (tui !== null) {
      const during = lastLoadRows.map((r) => r.tui).filter((c): c is TuiCounts => c !== null);
      const seenOf = (c: TuiCounts): number => c.total; // total counts evicted entries too
      const last = during.at(-1);
      const before = during.at(-2);
      const growing = last !== undefined && before !== undefined && seenOf(last) > seenOf(before);
      const final = rows.at(-1)?.tui ?? null;
      verdicts.push({ check: '[tui] screen still updating at the end', ok: growing, detail: `entries seen ${before === undefined ? '-' : seenOf(before)} -> ${last === undefined ? '-' : seenOf(last)} over the last ${SAMPLE_MS / 1000} s of load; after it ${final === null ? '-' : `${seenOf(final)} (shown ${final.shown}, evicted ${final.evicted}, drops ${final.drops})`}` });
      verdicts.push({ check: '[tui] no drops', ok: final !== null && final.drops === 0, detail: `drops ${final?.drops ?? '-'}` });
      const code = await tui.quit();
      verdicts.push({ check: '[tui] CLI exited 0 on q', ok: code === 0, detail: `exit ${code}; stderr: ${existsSync(tui.errFile) ? readFileSync(tui.errFile, 'utf8').trim().split('\n').slice(-2).join(' | ') : ''}` });
      tui.pane.kill();
    }

    // (a) RSS flat after warm-up
    const growthByKind = new Map<string, { worst: RssGrowth; label: string }>();
    log(`RSS after warm-up (${Math.round(warmupMs / 1000)} s) to the end, medians:`);
    for (const s of series.values()) {
      const g = rssGrowth(s.samples, warmupMs);
      if (g === null) {
        verdicts.push({ check: `[${name}] RSS of ${s.label} measured`, ok: false, detail: `only ${s.samples.length} samples (did it exit or restart?)` });
        continue;
      }
      log(`  ${s.label.padEnd(34)} ${mb(g.startKb).padStart(7)} MB -> ${mb(g.endKb).padStart(7)} MB  ${g.growthPct >= 0 ? '+' : ''}${g.growthPct.toFixed(1)}%  (median of ${g.window})`);
      const worst = growthByKind.get(s.kind);
      if (worst === undefined || g.growthPct > worst.worst.growthPct) growthByKind.set(s.kind, { worst: g, label: s.label });
    }
    const agentSeries = [...series.values()].filter((s) => s.kind === 'agent');
    verdicts.push({ check: `[${name}] one agent per pod per tap throughout`, ok: agentSeries.length === PODS * group.length, detail: `${agentSeries.length} agent processes seen (${PODS * group.length} expected; more means an agent restarted)` });
    for (const [kind, { worst, label }] of growthByKind) {
      const ok = worst.growthPct < 10;
      verdicts.push({ check: `[${name}] ${kind} RSS flat after warm-up (< 10%)`, ok, detail: `worst ${label}: ${mb(worst.startKb)} -> ${mb(worst.endKb)} MB, ${worst.growthPct.toFixed(1)}%` });
      // The CLI's kind names its tap; the relay and the agents serve whichever phase ran.
      const figure = kind.startsWith('cli-') ? `soak ${kind} RSS growth after warm-up` : `soak ${kind} RSS growth after warm-up (${name})`;
      figures.push({ bench: 'soak', figure, size, sizeValue: PODS, ours: Math.round(worst.growthPct * 10) / 10, unit: '%', higherIsBetter: false, goal: '< 10%', met: ok });
    }

    // (c) nothing of the taps left in the pods once the keepers' idle time has passed: no agent,
    // and nothing in a capture container's cgroup (keeper, shells, tar).
    const until = Date.now() + KEEPER_GONE_MS;
    const ours = (): Array<{ pid: number; pod: string; cmdline: string }> => processesIn(webInos).filter((p) => AGENT_CMDLINE.test(p.cmdline) || CAPTURE_CGROUP.test(cgroupOf(p.pid)));
    let left = ours();
    while (left.length > 0 && Date.now() < until) {
      await sleep(1000);
      left = ours();
    }
    verdicts.push({ check: `[${name}] no agent or capture-container process left in the pods`, ok: left.length === 0, detail: left.length === 0 ? 'none' : left.map((p) => `${p.pod} pid ${p.pid}: ${p.cmdline.slice(0, 80)}`).join('; ') });
    const strays = listProcesses().filter((p) => (json !== null && p.pid === json.child.pid) || (tui !== null && p.pid === tui.cliPid) || /^h2load /.test(p.cmdline) || p.cmdline.includes(`tmux -L shark-soak-${process.pid}-`));
    verdicts.push({ check: `[${name}] no CLI, h2load or tmux left`, ok: strays.length === 0, detail: strays.map((p) => `pid ${p.pid}: ${p.cmdline.slice(0, 60)}`).join('; ') || 'none' });
    return { verdicts, figures };
  } finally {
    if (timer !== undefined) clearInterval(timer);
    if (json !== null && json.child.exitCode === null && json.child.signalCode === null) json.child.kill('SIGKILL');
    tui?.pane.kill();
  }
}

function printHeader(series: Map<string, ProcessSeries>): void {
  log(`  min  ${'cli MB'.padStart(7)} ${'relay MB'.padStart(8)} ${'agents MB (min-max)'.padStart(20)} ${'json entries'.padStart(12)} ${'tui seen'.padStart(10)} ${'requests'.padStart(10)}`);
  void series;
}

function printRow(row: Row, series: Map<string, ProcessSeries>): void {
  const of = (kind: string): number[] =>
    [...series.entries()].filter(([, s]) => s.kind === kind).map(([k]) => row.rssKb[k]).filter((v): v is number => typeof v === 'number');
  const cli = [...of('cli-json'), ...of('cli-tui')].map((v) => mb(v)).join('/');
  const agents = of('agent');
  const agentText = agents.length === 0 ? '-' : `${mb(Math.min(...agents))}-${mb(Math.max(...agents))} (${agents.length})`;
  const tuiSeen = row.tui === null ? '-' : String(row.tui.total);
  log(`  ${(row.atMs / 60_000).toFixed(1).padStart(4)}  ${cli.padStart(7)} ${mb(of('relay')[0]).padStart(8)} ${agentText.padStart(20)} ${String(row.jsonEntries ?? '-').padStart(12)} ${tuiSeen.padStart(10)} ${String(row.requests).padStart(10)}`);
}

async function main(): Promise<void> {
  const reason = requireSandbox() ?? requireBuild() ?? (which('h2load') ? null : 'h2load is not installed (Debian: nghttp2-client)') ?? (GROUPS.flat().includes('tui') && !hasTmux ? NO_TMUX : null);
  if (reason !== null) {
    log(`soak bench skipped: ${reason}`);
    return;
  }
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'ks-bench-soak-'));
  const fixture: SandboxFixture = {
    namespaces: [{ name: NS }],
    pods: [
      ...Array.from({ length: PODS }, (_, i) => {
        const dir = join(work, webName(i));
        mkdirSync(dir);
        writeFileSync(join(dir, 'nginx.conf'), nginxConf(webIp(i)));
        return {
          namespace: NS,
          name: webName(i),
          labels: { app: 'web' },
          ip: webIp(i),
          mountSource: false,
          volumes: [{ name: 'conf', hostPath: dir }],
          containers: [
            {
              name: 'nginx',
              image: 'sandbox.local/nginx:1',
              command: ['/usr/sbin/nginx', '-e', `${CONF_DIR}/error.log`, '-c', `${CONF_DIR}/nginx.conf`, '-g', 'daemon off;'],
              volumeMounts: [{ name: 'conf', mountPath: CONF_DIR }],
            },
          ],
        };
      }),
      { namespace: NS, name: 'load', labels: { app: 'load' }, ip: LOAD_IP, containers: [{ name: 'idle', image: 'busybox:1.36', command: ['sleep', '1000000'] }] },
    ],
  };
  const verdicts: Verdict[] = [];
  const phases: SoakPhaseFigures[] = [];
  // The sandbox (the exec relay whose RSS is measured) in its own process.
  const sb = await startSandboxProcess(fixture, work);
  const sandboxDir = dirname(sb.kubeconfig);
  const netnsNames = Object.values(sb.netns);
  try {
    const webInos = new Map<number, string>();
    for (let i = 0; i < PODS; i++) webInos.set(namedNetnsIno(sb.netns[`${NS}/${webName(i)}`]!), webName(i));
    // Before any tap: nothing of ours may be in the pods yet (a leftover of a killed run would mislead every count).
    const early = processesIn(webInos).filter((p) => AGENT_CMDLINE.test(p.cmdline) || CAPTURE_CGROUP.test(cgroupOf(p.pid)));
    if (early.length > 0) throw new Error(`capture processes in the pods before any tap: ${early.map((p) => p.pid).join(' ')}`);
    for (const group of GROUPS) {
      const r = await runGroup(group, sb, work, webInos);
      verdicts.push(...r.verdicts);
      phases.push({ phase: group.join('+'), date: new Date().toISOString(), figures: r.figures });
    }
  } catch (err) {
    verdicts.push({ check: 'the soak ran to its end', ok: false, detail: err instanceof Error ? err.message : String(err) });
  } finally {
    const stopped = await stopSandboxProcess(sb);
    // (c) after the sandbox: its own check of runc containers, cgroups, mounts and namespaces, and ours.
    const names = new Set(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]));
    const netnsLeft = netnsNames.filter((n) => names.has(n));
    const mountsLeft = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(sandboxDir) || l.includes(work));
    const procsLeft = listProcesses().filter((p) => p.pid === sb.pid || p.cmdline.includes(sandboxDir) || p.cmdline.includes(work));
    verdicts.push({
      check: 'nothing of the run left after the sandbox stopped',
      ok: stopped.ok && netnsLeft.length === 0 && mountsLeft.length === 0 && procsLeft.length === 0,
      detail: [stopped.ok ? 'sandbox stop: clean' : `sandbox stop: ${stopped.error}`, `namespaces ${netnsLeft.join(' ') || 'none'}`, `mounts ${mountsLeft.length}`, `processes ${procsLeft.map((p) => p.pid).join(' ') || 'none'}`].join('; '),
    });
    rmSync(work, { recursive: true, force: true });
  }

  log('\nsoak verdicts:');
  for (const v of verdicts) log(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.check}: ${v.detail}`);
  log(`phases: ${GROUPS.map((g) => g.join('+')).join(', then ')} (${GROUPS.length === 1 && GROUPS[0]!.length > 1 ? 'both taps at once: two agents per pod' : 'one after the other'}); ${((Date.now() - started) / 60_000).toFixed(1)} min end to end`);
  for (const p of phases) for (const f of p.figures) printFigure(f);
  const outDir = join(REPO_ROOT, 'test/bench/out');
  mkdirSync(outDir, { recursive: true });
  // Each phase's last figures: a run of one phase keeps the other's.
  const file = join(outDir, SOAK_FIGURES_FILE);
  let earlier: SoakPhaseFigures[] = [];
  if (existsSync(file)) {
    try {
      earlier = parseSoakFile(readFileSync(file, 'utf8'), statSync(file).mtime.toISOString());
    } catch (err) {
      log(`soak: ${file}: ${err instanceof Error ? err.message : String(err)}; written anew with this run's phases only`);
    }
  }
  const kept = mergeSoakPhases(earlier, phases);
  writeFileSync(file, soakFileText(kept));
  log(`soak: ${file}: ${kept.map((p) => `${p.phase} of ${p.date}`).join(', ')}`);
  if (verdicts.some((v) => !v.ok)) process.exitCode = 1;
}

await main();
// The races above leave their losing timers behind (the sandbox's 5-minute start bound, the stop
// waits): exit now rather than hold the root lock until they fire (measured: ~2 minutes idle).
process.exit();
