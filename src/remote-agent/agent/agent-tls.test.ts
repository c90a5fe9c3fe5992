/**
 * The agent's --tls wiring, in-process: hook reports as notices after hello, plaintext entries
 * through the same redaction and pushed-down filter as packet entries, counters in stats frames,
 * and packet capture going on when the probes cannot run. The probes here are a FAKE of
 * probe-api.ts (the real ones need the kernel: test/e2e/agent-tls*.test.ts); the records they
 * deliver are real traffic recorded through a proxy (test/helpers/recorded-tcp.ts), and the socket
 * they name is real (roles from this process's LISTEN socket).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { HttpEntry } from '../dissect/http1/entry.ts';
import type { LiveCapture } from '../live/index.ts';
import type { TlsEvent, TlsProbeCounters } from '../tls/events.ts';
import type { LibraryHookPlan, ProcessHookReport } from '../tls/hooks.ts';
import { TlsUnavailableError, type TlsProbeOptions, type TlsProbes } from '../tls/probe-api.ts';
import { openTlsCapture, type TargetScanResult } from '../tls/tls-capture.ts';
import type { AgentFrame, EntryFrame, HelloFrame, NoticeFrame, StatsFrame } from '../wire/protocol.ts';
import { Agent, type AgentConfig, type TlsOpener } from './agent.ts';
import { recordsOf, startRecordingProxy, type RecordedConnection } from '../../../test/helpers/recorded-tcp.ts';

/** Two requests with a secret header over one kept-alive connection, recorded. */
async function recordTraffic(): Promise<{ conn: RecordedConnection; done: () => Promise<void> }> {
  const server = http.createServer((req, res) => res.end(`you asked ${req.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy = await startRecordingProxy((server.address() as net.AddressInfo).port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const path of ['/a', '/b']) {
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, path, agent, headers: { authorization: 'Bearer s3cr3t-token' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  }
  return {
    conn: proxy.connections[0]!,
    done: async () => {
      agent.destroy();
      await proxy.close();
      server.close();
    },
  };
}

const PLAN: LibraryHookPlan = { key: '8:1234', library: 'openssl', version: 'OpenSSL 3.0.22', path: '/proc/77/root/usr/lib/libssl.so.3', probes: [] };

function report(pid: number, comm: string, hooked: boolean, reason: string): ProcessHookReport {
  return { pid, comm, library: hooked ? 'openssl' : null, hooked, reason, planKey: hooked ? PLAN.key : null };
}

/** A fake of the loaded probes: delivers `events` once a plan is attached, counts like the real ones. */
class FakeProbes implements TlsProbes {
  readonly attached: LibraryHookPlan[] = [];
  closed = 0;
  #counters: TlsProbeCounters = { events: 0, lostEvents: 3, bytes: 0 };
  readonly options: TlsProbeOptions;
  readonly refuse: string | null;

  constructor(options: TlsProbeOptions, refuse: string | null) {
    this.options = options;
    this.refuse = refuse;
  }

  attach(plan: LibraryHookPlan) {
    if (this.refuse !== null) return { ok: false as const, reason: this.refuse };
    this.attached.push(plan);
    return { ok: true as const, probes: 4 };
  }

  deliver(events: readonly TlsEvent[]): void {
    for (const e of events) {
      this.#counters = { ...this.#counters, events: this.#counters.events + 1, bytes: this.#counters.bytes + (e.kind === 'data' ? e.bytes.length : 0) };
    }
    this.options.onEvents(events);
  }

  counters(): TlsProbeCounters {
    return this.#counters;
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

const FAKE_LIVE = async () => () =>
  ({ iface: 'lo', linkType: 101, onFrameErrors: 0, corruptBlocks: 0, ringBytes: 0, handoverCopies: 0, kernelCounters: () => ({ packets: 0, drops: 0, freezes: 0 }), drain: () => 0, close: () => undefined }) satisfies LiveCapture;

function config(over: Partial<AgentConfig> = {}): AgentConfig {
  return { source: { kind: 'live', iface: 'lo' }, filter: null, maxBodyBytes: 65536, redact: true, redactKeys: [], maxMemoryBytes: 200 * 1048576, idleExitMs: 0, statsIntervalMs: 50, tls: true, ...over };
}

async function runAgent(cfg: AgentConfig, openTls: TlsOpener, during: (agent: Agent) => Promise<void>): Promise<AgentFrame[]> {
  const out = new PassThrough();
  let raw = '';
  out.setEncoding('utf8');
  out.on('data', (d: string) => (raw += d));
  const agent = new Agent(cfg, out, FAKE_LIVE, async () => openTls);
  const exit = agent.run();
  await during(agent);
  agent.stop('stop');
  assert.equal((await exit).code, 0);
  return raw
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AgentFrame);
}

const until = async (cond: () => boolean, tries = 200): Promise<void> => {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('--tls: hook reports after hello, plaintext entries redacted and filtered like any, tls counters in stats', async () => {
  const { conn, done } = await recordTraffic();
  let fake: FakeProbes | null = null;
  const scans: TargetScanResult[] = [{ plans: [PLAN], reports: [report(77, 'curl', true, 'libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write'), report(1, 'pause\u001b[31m', false, 'no libssl mapped')] }];
  const openTls: TlsOpener = (options) =>
    openTlsCapture(options, {
      openProbes: (o) => (fake = new FakeProbes(o, null)),
      scanTargets: async () => scans.shift() ?? { plans: [], reports: [] },
    });
  const records = recordsOf(conn.chunks, { pid: process.pid, connId: 0x42n, hooked: 'client', tuple: conn.clientTuple, t0Us: Date.now() * 1000 });
  let frames: AgentFrame[] = [];
  frames = await runAgent(config({ filter: 'tls and request.path == "/b"' }), openTls, async () => {
    await until(() => fake !== null && fake.attached.length === 1);
    fake!.deliver(records);
    // The lost-records warning comes from the agent's periodic check (every 250 ms).
    await until(() => false, 40);
  });
  await done();
  const hello = frames[0] as HelloFrame;
  assert.equal(hello.type, 'hello');
  assert.equal(hello.tls, true);
  assert.ok(hello.capabilities.includes('tls-plaintext'));
  const notices = frames.filter((f): f is NoticeFrame => f.type === 'warning' && (f.code === 'TLS_HOOKED' || f.code === 'TLS_NOT_HOOKED'));
  assert.deepEqual(
    notices.map((n) => `${n.code} ${n.message}`),
    ['TLS_HOOKED pid 77 (curl): libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write', 'TLS_NOT_HOOKED pid 1 (pause\\u001b[31m): no libssl mapped'],
  );
  assert.ok(frames.indexOf(notices[0]!) > 0, 'after hello');
  const entries = frames.filter((f): f is EntryFrame => f.type === 'entry').map((f) => f.entry as HttpEntry);
  assert.deepEqual(
    entries.map((e) => [e.id, e.tls, e.request.path, e.request.headers['authorization'] ?? e.request.headers['Authorization']]),
    [['t0-1', true, '/b', '[REDACTED]']],
    'the filter kept /b only; the secret header is redacted',
  );
  const last = frames.filter((f): f is StatsFrame => f.type === 'stats').at(-1)!;
  assert.equal(last.final, true);
  assert.deepEqual(last.tls, { events: records.length, bytes: records.reduce((n, r) => n + r.bytes.length, 0), lostEvents: 3, connections: 1, unresolved: 0, duplicates: 0 });
  assert.equal(last.filtered, 1);
  assert.ok(frames.some((f) => f.type === 'warning' && f.code === 'TLS_LOST' && /lost 3 TLS probe records/.test(f.message)));
  assert.equal(fake!.closed, 1, 'the probes are closed when the agent stops');
});

test('--tls where the probes cannot run: one TLS_UNAVAILABLE warning, hello says tls false, packet capture goes on', async () => {
  const openTls: TlsOpener = (options) =>
    openTlsCapture(options, {
      openProbes: () => {
        throw new TlsUnavailableError('BPF is refused (needs CAP_BPF and CAP_PERFMON, or a privileged container: tap --tls does that)');
      },
      scanTargets: async () => ({ plans: [], reports: [] }),
    });
  const frames = await runAgent(config(), openTls, async () => {
    await new Promise((r) => setTimeout(r, 120));
  });
  assert.equal((frames[0] as HelloFrame).tls, false);
  const unavailable = frames.filter((f): f is NoticeFrame => f.type === 'warning' && f.code === 'TLS_UNAVAILABLE');
  assert.equal(unavailable.length, 1);
  assert.match(unavailable[0]!.message, /^TLS plaintext capture is unavailable: BPF is refused .*; packet capture goes on$/);
  assert.ok(!frames.some((f) => f.type === 'error'));
  const stats = frames.filter((f): f is StatsFrame => f.type === 'stats');
  assert.ok(stats.length >= 2, 'stats keep coming');
  assert.ok(stats.every((s) => s.tls === undefined));
  assert.deepEqual(frames.at(-1), { type: 'bye', reason: 'stop' });
});

test('a library file the kernel refuses to probe: its processes are reported not hooked, with the reason', async () => {
  const openTls: TlsOpener = (options) =>
    openTlsCapture(options, {
      openProbes: (o) => new FakeProbes(o, 'uprobe on /usr/lib/libssl.so.3+0x35a40: Invalid argument'),
      scanTargets: async () => ({ plans: [PLAN], reports: [report(77, 'nginx', true, 'libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write')] }),
    });
  const frames = await runAgent(config(), openTls, async () => {
    await new Promise((r) => setTimeout(r, 60));
  });
  const notices = frames.filter((f): f is NoticeFrame => f.type === 'warning' && (f.code === 'TLS_HOOKED' || f.code === 'TLS_NOT_HOOKED'));
  assert.deepEqual(
    notices.map((n) => `${n.code} ${n.message}`),
    ['TLS_NOT_HOOKED pid 77 (nginx): libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write: the probes could not be attached (uprobe on /usr/lib/libssl.so.3+0x35a40: Invalid argument)'],
  );
});
