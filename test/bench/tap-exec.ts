/**
 * `npm run bench`: `kubectl shark tap` end to end through the exec channel, against the sandbox
 * cluster (HTTPS API, WebSocket exec, pods as runc containers). One pod runs nginx (the image
 * `sandbox.local/nginx:1`, its config from this run's folder through a hostPath volume), another
 * is idle, and h2load --h1 runs in its network namespace at fixed rates; `tap web -n bench -o json`
 * taps the nginx pod (one agent). Per rate: entries per second on the CLI's stdout, and the delay
 * from the request on the wire (entry.timestamp, capture time of the request's first byte) to the
 * entry's line on stdout (read here as it arrives; same machine, same clock), p50 and p99.
 *
 * Needs root and h2load (Debian: nghttp2-client); prints why and exits 0 when they are missing.
 * Options: --seconds 6  --rates 1000,5000,10000,20000
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireSandbox, startSandbox, type Sandbox } from '../sandbox/index.ts';
import { run } from '../helpers/netns.ts';
import { NODE } from '../helpers/capture.ts';
import { MAIN, requireBuild, tapEnv } from '../helpers/tap.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '6' }, rates: { type: 'string', default: '1000,5000,10000,20000' } } });
const SECONDS = Number(values.seconds);
const RATES = values.rates.split(',').map(Number);
const WEB_IP = '10.244.0.20';
/** Where the nginx container sees this run's folder (config, pid file, logs, temp files). */
const CONF_DIR = '/bench';

interface RateResult {
  readonly rate: number;
  readonly requests: number;
  readonly entries: number;
  readonly entriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

class TapReader {
  readonly child: ChildProcess;
  delays: number[] = [];
  entries = 0;
  firstAt = 0;
  lastAt = 0;
  stats = 0;
  #rest = '';
  readonly firstStats: Promise<void>;

  constructor(kubeconfig: string) {
    this.child = spawn(NODE, [MAIN, 'tap', 'web', '-n', 'bench', '-o', 'json', '--stats'], {
      env: tapEnv(kubeconfig),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let resolve: () => void = () => {};
    this.firstStats = new Promise((r) => {
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
          this.stats++;
          resolve();
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

async function load(sandbox: Sandbox, rate: number): Promise<number> {
  const clients = Math.max(1, Math.min(100, Math.ceil(rate / 200)));
  const r = await run('ip', ['netns', 'exec', sandbox.podNetns('bench', 'load'), 'h2load', '--h1', '-c', String(clients), '-D', String(SECONDS), `--rps=${rate / clients}`, `http://${WEB_IP}:8080/api/items?page=1`]);
  const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(r.stdout.toString('utf8'));
  if (!done) throw new Error(`h2load output not understood: ${r.stdout.toString('utf8')} ${r.stderr}`);
  return Number(done[1]);
}

async function main(): Promise<void> {
  const reason = requireSandbox() ?? requireBuild() ?? (which('h2load') ? null : 'h2load is not installed (Debian: nghttp2-client)');
  if (reason !== null) {
    process.stdout.write(`tap-exec bench skipped: ${reason}\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'ks-bench-tap-'));
  writeFileSync(
    join(work, 'nginx.conf'),
    `worker_processes 1; pid ${CONF_DIR}/nginx.pid; error_log ${CONF_DIR}/error.log warn; events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${CONF_DIR}/b; proxy_temp_path ${CONF_DIR}/p; fastcgi_temp_path ${CONF_DIR}/f; uwsgi_temp_path ${CONF_DIR}/u; scgi_temp_path ${CONF_DIR}/s;
  keepalive_requests 1000000; server { listen ${WEB_IP}:8080; location / { default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; } } }
`,
  );
  const sandbox = await startSandbox({
    namespaces: [{ name: 'bench' }],
    pods: [
      {
        namespace: 'bench',
        name: 'web',
        labels: { app: 'web' },
        ip: WEB_IP,
        mountSource: false,
        volumes: [{ name: 'conf', hostPath: work }],
        containers: [
          {
            name: 'nginx',
            image: 'sandbox.local/nginx:1',
            command: ['/usr/sbin/nginx', '-e', `${CONF_DIR}/error.log`, '-c', `${CONF_DIR}/nginx.conf`, '-g', 'daemon off;'],
            volumeMounts: [{ name: 'conf', mountPath: CONF_DIR }],
          },
        ],
      },
      { namespace: 'bench', name: 'load', labels: { app: 'load' }, containers: [{ name: 'idle', image: 'busybox:1.36', command: ['sleep', '1000000'] }] },
    ],
    services: [{ namespace: 'bench', name: 'web', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }],
  });
  const results: RateResult[] = [];
  const tap = new TapReader(sandbox.kubeconfig);
  try {
    await Promise.race([tap.firstStats, new Promise((_, reject) => setTimeout(() => reject(new Error('tap did not start within 60 s')), 60_000))]);
    for (const rate of RATES) {
      tap.delays = [];
      tap.firstAt = 0;
      const before = tap.entries;
      const requests = await load(sandbox, rate);
      const deadline = Date.now() + 5000;
      while (tap.entries - before < requests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const entries = tap.entries - before;
      const sorted = [...tap.delays].sort((a, b) => a - b);
      results.push({
        rate,
        requests,
        entries,
        // From the first to the last entry of the run: the rate the exec channel delivered.
        entriesPerSecond: tap.lastAt > tap.firstAt ? Math.round(entries / ((tap.lastAt - tap.firstAt) / 1000)) : 0,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1) ?? NaN,
      });
    }
  } finally {
    await tap.stop();
    await sandbox.stop();
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write('\ntap-exec: h2load --h1 -> nginx pod; kubectl shark tap web -n bench -o json (one agent, WebSocket exec)\n');
  process.stdout.write('rate/s   requests    entries  entries/s   p50 ms   p99 ms   max ms\n');
  for (const r of results) {
    process.stdout.write(`${String(r.rate).padStart(6)}  ${String(r.requests).padStart(9)}  ${String(r.entries).padStart(9)}  ${String(r.entriesPerSecond).padStart(9)}  ${String(r.p50Ms).padStart(7)}  ${String(r.p99Ms).padStart(7)}  ${String(r.maxMs).padStart(7)}\n`);
  }
  process.stdout.write('goal: >= 10000 entries/s through the exec channel, p99 < 500 ms\n');
  process.stdout.write(`${JSON.stringify({ bench: 'tap-exec', results })}\n`);
}

await main();
