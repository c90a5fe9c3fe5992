/**
 * The TLS probes for real: bpf/tls.bpf.o loaded by our loader in a process inside a network
 * namespace of the test's (test/helpers/tls-probe-driver.ts), uprobes on the machine's libssl.so.3,
 * curl talking HTTPS to Debian's python3 `ssl` server in that namespace. The request line arrives as
 * plaintext on both sides with the right directions, a 1 MiB body arrives whole and in order, a
 * connection in another namespace is not seen, and after close() or SIGKILL of the process that
 * loaded them nothing of ours is left in the kernel's program, link and perf event lists. Each runs
 * both ways of placing uprobes: uprobe_multi links (Linux 6.6, what this kernel does by default) and
 * a perf event per uprobe (older kernels). close() of a real plan (a Go binary's tens of return
 * probes) keeps the event loop turning.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { NODE, REPO_ROOT } from '../../../../test/helpers/capture.ts';
import { Scope, addAddress, addVeth, runOk, waitForPort, type Netns } from '../../../../test/helpers/netns.ts';
import { requireNetns } from '../../../../test/helpers/netns.ts';
import { hasCommand, missingRoot, skipFor } from '../../../../test/helpers/requirements.ts';
import { until } from '../../../../test/helpers/until.ts';
import type { DriverEvent } from '../../../../test/helpers/tls-probe-driver.ts';
import type { LibraryHookPlan, ProcessHookReport } from '../hooks.ts';
import { AHEAD_OF_USE } from '../targets/index.ts';
import { TlsUnavailableError } from '../probe-api.ts';
import { buildGoTls, requireGo } from '../../../../test/helpers/go-tls.ts';
import { Btf, kernelOffsets } from './btf.ts';
import { openProbes, type UprobeLinks } from './tls-probes.ts';

const MODES: readonly UprobeLinks[] = ['multi', 'perf-events'];

const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';
const PYTHON = '/usr/bin/python3';
const DRIVER = join(REPO_ROOT, 'test/helpers/tls-probe-driver.ts');
const BODY_BYTES = 1 << 20;

const skip =
  skipFor(missingRoot('loading BPF programs')) ||
  skipFor(requireNetns(['curl', 'openssl'])) ||
  skipFor(hasCommand(PYTHON) ? null : `${PYTHON} (Debian's python3, linked to libssl.so.3) is not installed`);

/** An HTTPS/1.1 server on Debian's python3 `ssl`: GET /bytes/N answers N bytes of (i * 7) & 0xff, head and body in two writes. */
const SERVER = `
import socket, ssl, sys, threading
cert, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
body = bytes((i * 7) & 0xff for i in range(${2 * BODY_BYTES}))
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port))
srv.listen(16)
def handle(conn):
    try:
        s = ctx.wrap_socket(conn, server_side=True)
        data = b''
        while b'\\r\\n\\r\\n' not in data:
            chunk = s.recv(65536)
            if not chunk:
                return
            data += chunk
        n = int(data.split(b' ')[1].rsplit(b'/', 1)[1])
        s.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' % n)
        s.sendall(body[:n])
        s.close()
    except Exception as e:
        sys.stderr.write(repr(e) + '\\n')
print('listening', flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
`;

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) b[i] = (i * 7) & 0xff;
  return b;
}

/** The driver process: its JSON lines, events gathered as they come. */
class Driver {
  readonly child: ChildProcess;
  readonly events: DriverEvent[] = [];
  readonly messages: Record<string, unknown>[] = [];
  readonly internalErrors: string[] = [];
  stderr = '';

  constructor(child: ChildProcess) {
    this.child = child;
    child.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString('utf8')));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, unknown>;
      if (Array.isArray(m.events)) this.events.push(...(m.events as DriverEvent[]));
      else if (typeof m.internalError === 'string') this.internalErrors.push(m.internalError);
      else this.messages.push(m);
    });
  }

  /** The next message with `key`, removed from the queue. */
  async take(key: string): Promise<Record<string, unknown>> {
    return until(`driver message "${key}"`, () => {
      const i = this.messages.findIndex((m) => key in m);
      return i < 0 ? undefined : this.messages.splice(i, 1)[0];
    }, 30_000, () => this.stderr);
  }

  send(command: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }
}

/** `mode` forces how uprobes are placed; absent, the driver does as the agent does (multi when the kernel has it). */
function startDriver(ns: Netns, ringBytes = 4 * 1024 * 1024, mode?: UprobeLinks): Driver {
  const [cmd, args] = ns.wrap(NODE, ['--import', 'tsx', DRIVER, String(ringBytes), ...(mode === undefined ? [] : [mode])]);
  return new Driver(spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** What the process holds in the kernel: BPF program and link ids from /proc/PID/fdinfo. */
function kernelObjectsOf(pid: number): { progs: number[]; links: number[] } {
  const progs: number[] = [];
  const links: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const prog = /^prog_id:\s+(\d+)$/m.exec(info);
    const link = /^link_id:\s+(\d+)$/m.exec(info);
    if (link) links.push(Number(link[1]));
    else if (prog) progs.push(Number(prog[1]));
  }
  return { progs, links };
}

const O_CLOEXEC = 0o2000000;

/** The driver's BPF (map, program, link) and perf event fds, with their open flags from fdinfo. */
function kernelFdFlags(pid: number): { fd: string; kind: string; flags: number }[] {
  const out: { fd: string; kind: string; flags: number }[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let kind: string;
    let info: string;
    try {
      kind = readlinkSync(`/proc/${pid}/fd/${fd}`);
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    if (!/^anon_inode:(bpf|\[perf_event\])/.test(kind)) continue;
    out.push({ fd, kind, flags: parseInt(/^flags:\s+([0-7]+)$/m.exec(info)?.[1] ?? '0', 8) });
  }
  return out;
}

interface BpftoolEntry {
  readonly id?: number;
  readonly pid?: number;
  readonly prog_id?: number;
  /** bpftool perf list: 'uprobe', 'uretprobe', 'raw_tracepoint', ... */
  readonly fd_type?: string;
  /** bpftool link list: 'raw_tracepoint', 'perf_event', 'uprobe_multi' (a number where bpftool 7.1 has no name for it). */
  readonly type?: string | number;
}

function bpftool(args: string[]): BpftoolEntry[] {
  const r = spawnSync('bpftool', [...args, '-j'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout || '[]') as BpftoolEntry[];
}

/** The uprobes and uretprobes `pid` holds, as bpftool perf list shows them. */
function uprobesOf(pid: number): BpftoolEntry[] {
  return bpftool(['perf', 'list']).filter((p) => p.pid === pid && (p.fd_type === 'uprobe' || p.fd_type === 'uretprobe'));
}

/** The BPF links a plan takes: one per uprobe (a perf event each), or one per program (uprobe_multi). */
function linksOf(plan: LibraryHookPlan, mode: UprobeLinks): number {
  return mode === 'multi' ? new Set(plan.probes.map((p) => `${p.program} ${p.retprobe}`)).size : plan.probes.length;
}

/** The uprobe_multi links `held` holds, as bpftool link list shows them. */
function multiLinksOf(held: { links: number[] }): BpftoolEntry[] {
  return bpftool(['link', 'list']).filter((l) => held.links.includes(l.id ?? -1) && (l.type === 'uprobe_multi' || l.type === 12));
}

/** Asserts the kernel lists none of `held` and no perf event of `pid`. */
function assertNothingLeft(pid: number, held: { progs: number[]; links: number[] }): void {
  const progs = new Set(bpftool(['prog', 'list']).map((p) => p.id));
  const links = new Set(bpftool(['link', 'list']).map((l) => l.id));
  assert.deepEqual(held.progs.filter((id) => progs.has(id)), [], 'programs left');
  assert.deepEqual(held.links.filter((id) => links.has(id)), [], 'links left');
  assert.deepEqual(bpftool(['perf', 'list']).filter((p) => p.pid === pid || held.progs.includes(p.prog_id ?? -1)), [], 'perf events left');
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * The agent's way: the target scanner (in the driver, so in its namespace) finds the python3
 * server's libssl.so.3 and plans it; the driver attaches the plan. Returns the plan.
 */
async function scanAndAttach(driver: Driver): Promise<LibraryHookPlan> {
  driver.send({ scan: true });
  const scanned = (await driver.take('scanned')).scanned as { plan: LibraryHookPlan; attached: unknown }[];
  assert.equal(scanned.length, 1, JSON.stringify(scanned.map((s) => s.plan.path)));
  assert.equal(scanned[0]!.plan.library, 'openssl');
  assert.match(scanned[0]!.plan.path, /\/libssl\.so\.3$/);
  assert.deepEqual(scanned[0]!.attached, { ok: true, probes: 8 });
  return scanned[0]!.plan;
}

/** A folder with a fresh self-signed key.pem and cert.pem, removed by the scope. */
async function certificate(scope: Scope): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ks-tls-probes-'));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  return dir;
}

async function startServer(ns: Netns, dir: string): Promise<ChildProcess> {
  const server = ns.spawn(PYTHON, ['-c', SERVER, join(dir, 'cert.pem'), join(dir, 'key.pem'), '8443']);
  await waitForPort(ns, '127.0.0.1', 8443);
  return server;
}

for (const mode of MODES) test(`${mode}: curl to a python3 ssl server: plaintext both ways, a 1 MiB body whole, counters, another namespace unseen; close() leaves nothing`, { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const dir = await certificate(scope);
  const ns = await scope.netns('tlsp');
  const other = await scope.netns('tlso');
  const server = await startServer(ns, dir);
  await startServer(other, dir);

  const driver = startDriver(ns, undefined, mode);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  const plan = await scanAndAttach(driver);
  driver.send({ attach: plan });
  assert.deepEqual((await driver.take('attached')).attached, { ok: true, probes: 8 }, 'the same key again is a no-op');

  const elsewhere = other.spawn('curl', ['-k', '-s', '-o', '/dev/null', 'https://127.0.0.1:8443/bytes/100']);
  assert.equal(await exitOf(elsewhere), 0);
  const wallBeforeUs = Date.now() * 1000;
  const curl = ns.spawn('curl', ['-k', '-s', '--http1.1', '-o', join(dir, 'body'), 'https://127.0.0.1:8443/bytes/1048576']);
  assert.equal(await exitOf(curl), 0);
  const wallAfterUs = Date.now() * 1000;
  assert.equal(readFileSync(join(dir, 'body')).length, BODY_BYTES);

  const dataOf = (pid: number, direction: string): DriverEvent[] => driver.events.filter((e) => e.kind === 'data' && e.pid === pid && e.direction === direction);
  const bytesOf = (events: DriverEvent[]): Buffer => Buffer.concat(events.map((e) => Buffer.from(e.bytes as string, 'base64')));
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n';
  await until('the whole response in curl read events', () => (bytesOf(dataOf(curl.pid!, 'read')).length >= head.length + BODY_BYTES ? true : undefined), 20_000,
    () => `${dataOf(curl.pid!, 'read').length} read events of curl, ${bytesOf(dataOf(curl.pid!, 'read')).length} bytes`);
  await until('the server read the request', () => (dataOf(server.pid!, 'read').length > 0 ? true : undefined));

  // The request line, written by curl and read by the server (python3 calls SSL_read_ex).
  const written = dataOf(curl.pid!, 'write');
  assert.ok(written.length >= 1);
  assert.match(bytesOf(written).toString('latin1'), /^GET \/bytes\/1048576 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:8443\r\n/);
  assert.equal(written[0]!.library, 'openssl');
  // Kernel monotonic stamps moved onto the wall clock (Date.now has millisecond steps: 1 ms of slack).
  for (const e of [...written, ...dataOf(curl.pid!, 'read')]) {
    assert.ok((e.tsUs as number) >= wallBeforeUs - 1000 && (e.tsUs as number) <= wallAfterUs + 1000, `event at ${e.tsUs as number} µs, curl ran ${wallBeforeUs}..${wallAfterUs}`);
  }
  assert.equal(written[0]!.tid, curl.pid);
  assert.match(bytesOf(dataOf(server.pid!, 'read')).toString('latin1'), /^GET \/bytes\/1048576 HTTP\/1\.1\r\n/);
  // The socket, from the raw tracepoint program on sock_send_length during the SSL_write.
  assert.deepEqual(
    { ...(written[0]!.tuple as object), localPort: 0 },
    { family: 4, localIp: '127.0.0.1', localPort: 0, remoteIp: '127.0.0.1', remotePort: 8443 },
  );

  // 1 MiB and its head as curl read it: one connection, chunks in order, offsets contiguous.
  const reads = dataOf(curl.pid!, 'read');
  assert.equal(new Set(reads.map((e) => e.connId)).size, 1);
  let offset = 0;
  for (const e of reads) {
    assert.equal(e.streamOffset, offset, 'each chunk starts where the last ended');
    offset += Buffer.from(e.bytes as string, 'base64').length;
  }
  const response = bytesOf(reads);
  assert.equal(response.subarray(0, head.length).toString('latin1'), head);
  assert.ok(response.subarray(head.length).equals(pattern(BODY_BYTES)), 'the body, byte for byte');
  // The server wrote it in one SSL_write_ex of 1 MiB: 64 chunks of 16 KiB, nothing skipped.
  const serverWrites = driver.events.filter((e) => e.pid === server.pid && e.direction === 'write');
  assert.equal(serverWrites.filter((e) => e.kind === 'skip').length, 0);
  assert.ok(bytesOf(serverWrites.filter((e) => e.kind === 'data')).subarray(head.length).equals(pattern(BODY_BYTES)));

  // The other namespace's curl and server: out of scope, never reported.
  assert.equal(driver.events.filter((e) => e.pid === elsewhere.pid).length, 0);
  assert.deepEqual(driver.internalErrors, []);

  driver.send({ counters: true });
  const counters = (await driver.take('counters')).counters as { events: number; bytes: number; lostEvents: number };
  assert.equal(counters.events, driver.events.length);
  assert.equal(counters.bytes, driver.events.reduce((n, e) => n + (e.kind === 'data' ? Buffer.from(e.bytes as string, 'base64').length : 0), 0));
  assert.equal(counters.lostEvents, 0);

  const held = kernelObjectsOf(driver.child.pid!);
  const uprobeLinks = linksOf(plan, mode);
  assert.equal(held.links.length, 3 + uprobeLinks, `three raw tracepoint links and ${uprobeLinks} uprobe links`);
  const kernelFds = kernelFdFlags(driver.child.pid!);
  assert.ok(kernelFds.length >= 9 + 15 + 3 + uprobeLinks + (mode === 'multi' ? 0 : 8), `${kernelFds.length} BPF and perf fds`);
  assert.deepEqual(kernelFds.filter((f) => (f.flags & O_CLOEXEC) === 0), [], 'every BPF and perf event fd is close-on-exec');
  if (mode === 'multi') {
    assert.equal(uprobesOf(driver.child.pid!).length, 0, 'no uprobe perf events');
    assert.equal(multiLinksOf(held).length, uprobeLinks, 'uprobe_multi links');
  } else {
    assert.equal(uprobesOf(driver.child.pid!).length, 8, 'eight uprobe perf events');
  }
  assert.equal(bpftool(['perf', 'list']).filter((p) => p.pid === driver.child.pid && p.fd_type === 'raw_tracepoint').length, 3, 'three raw tracepoints');
  driver.send({ close: true });
  await driver.take('closed');
  assertNothingLeft(driver.child.pid!, held);
});

test('one write past the 1 MiB per call: 64 chunks, then one skip of exactly the rest at its offset; the close of each side with the tuple', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const ns = await scope.netns('tlsc');
  const dir = await certificate(scope);
  const server = await startServer(ns, dir);
  const driver = startDriver(ns);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  await scanAndAttach(driver);
  const n = BODY_BYTES + BODY_BYTES / 2;
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n`;
  const curl = ns.spawn('curl', ['-k', '-s', '--http1.1', '-o', '/dev/null', `https://127.0.0.1:8443/bytes/${n}`]);
  assert.equal(await exitOf(curl), 0);
  const closes = (): DriverEvent[] => driver.events.filter((e) => e.kind === 'close');
  await until('both sides closed', () => (closes().some((e) => e.pid === curl.pid) && closes().some((e) => e.pid === server.pid) ? true : undefined), 20_000,
    () => JSON.stringify(closes()));

  // The server's sendall of the body is one SSL_write_ex of n bytes.
  const writes = driver.events.filter((e) => e.pid === server.pid && e.direction === 'write');
  const bodyData = writes.filter((e) => e.kind === 'data' && (e.streamOffset as number) >= head.length);
  assert.equal(bodyData.length, 64);
  assert.ok(Buffer.concat(bodyData.map((e) => Buffer.from(e.bytes as string, 'base64'))).equals(pattern(BODY_BYTES)), 'the first MiB, byte for byte');
  const skips = writes.filter((e) => e.kind === 'skip');
  assert.deepEqual(skips.map((e) => [e.streamOffset, e.lostBytes]), [[head.length + BODY_BYTES, n - BODY_BYTES]]);
  // curl reads in small calls: everything arrives.
  const reads = driver.events.filter((e) => e.pid === curl.pid && e.kind === 'data' && e.direction === 'read');
  assert.equal(reads.reduce((sum, e) => sum + Buffer.from(e.bytes as string, 'base64').length, 0), head.length + n);

  // Each side's close names the connection: the server's port 8443 facing curl's port, and back.
  const curlTuple = reads[0]!.tuple as { localPort: number };
  const serverClose = closes().find((e) => e.pid === server.pid)!;
  const curlClose = closes().find((e) => e.pid === curl.pid)!;
  assert.deepEqual(serverClose.tuple, { family: 4, localIp: '127.0.0.1', localPort: 8443, remoteIp: '127.0.0.1', remotePort: curlTuple.localPort });
  assert.deepEqual(curlClose.tuple, { family: 4, localIp: '127.0.0.1', localPort: curlTuple.localPort, remoteIp: '127.0.0.1', remotePort: 8443 });
  assert.deepEqual(driver.internalErrors, []);
});

test('a ring too small for a 1 MiB response: the kernel counts what it refused, and what arrives is still in order', { skip, timeout: 60_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const ns = await scope.netns('tlsl');
  const dir = await certificate(scope);
  await startServer(ns, dir);
  const driver = startDriver(ns, 4096);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  await scanAndAttach(driver);
  const curl = ns.spawn('curl', ['-k', '-s', '--http1.1', '-o', '/dev/null', 'https://127.0.0.1:8443/bytes/1048576']);
  assert.equal(await exitOf(curl), 0);
  driver.send({ counters: true });
  const counters = (await driver.take('counters')).counters as { events: number; bytes: number; lostEvents: number };
  // 1 MiB is 64+ records of up to 16 KiB each way; a one-page ring holds none of the full ones.
  assert.ok(counters.lostEvents > 64, `lost ${counters.lostEvents}`);
  const reads = driver.events.filter((e) => e.pid === curl.pid && e.kind === 'data' && e.direction === 'read');
  for (let i = 1; i < reads.length; i += 1) assert.ok((reads[i]!.streamOffset as number) > (reads[i - 1]!.streamOffset as number), 'holes, never disorder');
  assert.deepEqual(driver.internalErrors, []);
});

for (const mode of MODES) test(`${mode}: SIGKILL of the process that loaded and attached the probes leaves nothing in the kernel`, { skip, timeout: 60_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const ns = await scope.netns('tlsk');
  const dir = await certificate(scope);
  await startServer(ns, dir);
  const driver = startDriver(ns, undefined, mode);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  const plan = await scanAndAttach(driver);
  const held = kernelObjectsOf(driver.child.pid!);
  assert.ok(held.progs.length >= 15 && held.links.length === 3 + linksOf(plan, mode), `programs ${held.progs.length}, links ${held.links.length}`);
  if (mode === 'multi') assert.equal(multiLinksOf(held).length, linksOf(plan, mode));
  driver.child.kill('SIGKILL');
  await exitOf(driver.child);
  // The kernel releases the objects of a dead process's fds asynchronously (RCU): give it a moment.
  await until('the kernel dropped the dead process\'s probes', () => {
    try {
      assertNothingLeft(driver.child.pid!, held);
      return true;
    } catch {
      return undefined;
    }
  });
  assertNothingLeft(driver.child.pid!, held);
});

for (const mode of MODES) test(`${mode}: a plan the kernel refuses attaches nothing and says which probe failed and why`, { skip, timeout: 60_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const ns = await scope.netns('tlsf');
  const dir = await certificate(scope);
  await startServer(ns, dir);
  const driver = startDriver(ns, undefined, mode);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  const plan = await scanAndAttach(driver);
  // The same file under another key, its fourth probe at an offset past the end of the file.
  const broken: LibraryHookPlan = {
    ...plan,
    key: `${plan.key}-broken`,
    probes: [...plan.probes.slice(0, 3), { ...plan.probes[3]!, fileOffset: 0x7fff_0000 }, ...plan.probes.slice(4)],
  };
  const fourth = plan.probes[3]!;
  const linksBefore = kernelObjectsOf(driver.child.pid!).links.length;
  driver.send({ attach: broken });
  const result = (await driver.take('attached')).attached as { ok: boolean; reason: string };
  assert.equal(result.ok, false);
  assert.equal(
    result.reason.replace(/: [^:]*\(errno \d+\)$/, ''),
    `${fourth.retprobe ? 'return probe' : 'probe'} ${fourth.program} on ${fourth.symbol} (${fourth.path}+0x7fff0000): ${
      mode === 'multi' ? `uprobe_multi link of ${fourth.retprobe ? 'uretprobes' : 'uprobes'}` : `perf_event_open of a ${fourth.retprobe ? 'uretprobe' : 'uprobe'}`
    } at ${fourth.path}+0x7fff0000`,
  );
  assert.match(result.reason, /\(errno \d+\)$/);
  // The three placed before the failure are closed off the event loop: gone soon after.
  await until('the refused plan\'s probes removed', () => (kernelObjectsOf(driver.child.pid!).links.length === linksBefore ? true : undefined), 10_000,
    () => `${kernelObjectsOf(driver.child.pid!).links.length} links, ${linksBefore} before`);
  assert.equal(uprobesOf(driver.child.pid!).length, mode === 'multi' ? 0 : 8, 'the first plan\'s eight stay');
  // The broken plan is not remembered: fixed, under the same key, it attaches.
  driver.send({ attach: { ...plan, key: broken.key } });
  assert.deepEqual((await driver.take('attached')).attached, { ok: true, probes: 8 });
});

test('without privileges (uid 65534, no capabilities) opening says in one sentence that BPF is refused and what to do', { skip: skip || skipFor(hasCommand('setpriv') ? null : 'setpriv (util-linux) is not installed: cannot drop privileges'), timeout: 60_000 }, async () => {
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', NODE, '--import', 'tsx', DRIVER], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const driver = new Driver(child);
  const message = (await driver.take('unavailable')).unavailable as string;
  assert.equal(await exitOf(child), 3);
  assert.match(message, /^BPF is refused \(needs CAP_BPF and CAP_PERFMON, or a privileged container: tap --tls does that\): creating BPF map \w+ failed$/);
});

test('no kernel BTF, or no BPF object: TlsUnavailableError saying which, and nothing is loaded', { skip }, () => {
  const options = { ringBytes: 1 << 16, onEvents: () => {}, onInternalError: (err: unknown) => assert.fail(String(err)) };
  // This process's own BPF programs and links: other test files load probes at the same time in CI,
  // so the host-wide list (bpftool prog list) changes under this test.
  const held = () => kernelObjectsOf(process.pid);
  const before = held();
  assert.throws(
    () => openProbes(options, { btf: { kernelOffsets: () => kernelOffsets(Btf.open('/nonexistent/vmlinux')) } }),
    (err: unknown) => err instanceof TlsUnavailableError && err.code === 'TLS_UNAVAILABLE' && /^TLS capture needs the kernel's BTF type information: .*\/nonexistent\/vmlinux/.test(err.message),
  );
  assert.throws(
    () => openProbes(options, { btf: { kernelOffsets }, objectPath: '/nonexistent/tls.bpf.o' }),
    (err: unknown) => err instanceof TlsUnavailableError && /^the TLS probes' BPF object cannot be read: .*\/nonexistent\/tls\.bpf\.o/.test(err.message),
  );
  assert.throws(() => openProbes({ ...options, ringBytes: 5000 }, { btf: { kernelOffsets } }), /ringBytes 5000 is not a power of two/);
  assert.deepEqual(held(), before);
});

test('without a forced mode the probes use uprobe_multi links on this kernel (6.6+): no uprobe perf events', { skip, timeout: 60_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const ns = await scope.netns('tlsa');
  const dir = await certificate(scope);
  await startServer(ns, dir);
  const driver = startDriver(ns);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  const plan = await scanAndAttach(driver);
  const held = kernelObjectsOf(driver.child.pid!);
  assert.equal(uprobesOf(driver.child.pid!).length, 0);
  assert.equal(multiLinksOf(held).length, linksOf(plan, 'multi'));
});

for (const mode of MODES) {
  test(`${mode}: close() of a Go binary's and libssl's probes keeps the event loop turning (a 5 ms timer is never 250 ms late) and leaves nothing`, { skip: skip || skipFor(requireGo()), timeout: 180_000 }, async (t) => {
    const scope = new Scope();
    t.after(() => scope.close());
    const dir = await certificate(scope);
    const goBinary = buildGoTls(dir);
    const ns = await scope.netns('tlsc');
    await startServer(ns, dir);
    ns.spawn(goBinary, ['server', '127.0.0.1:9443']);
    await waitForPort(ns, '127.0.0.1', 9443);

    const driver = startDriver(ns, undefined, mode);
    scope.defer(() => void driver.child.kill('SIGKILL'));
    await driver.take('ready');
    driver.send({ scan: true });
    const scanned = (await driver.take('scanned')).scanned as { plan: LibraryHookPlan; attached: { ok: boolean; probes: number }; attachMs: number }[];
    assert.deepEqual(scanned.map((s) => s.plan.library).sort(), ['go', 'openssl']);
    const probes = scanned.reduce((n, s) => n + s.attached.probes, 0);
    assert.ok(scanned.every((s) => s.attached.ok) && probes >= 20, `${probes} probes attached`);
    const held = kernelObjectsOf(driver.child.pid!);

    driver.send({ close: true });
    const closed = await driver.take('closed');
    const { closeCallMs, closeMs, maxLagMs } = closed as { closeCallMs: number; closeMs: number; maxLagMs: number };
    t.diagnostic(`${probes} probes: attach ${scanned.map((s) => `${s.plan.library} ${s.attachMs.toFixed(0)} ms`).join(', ')}; close() call ${closeCallMs.toFixed(1)} ms, all closed ${closeMs.toFixed(0)} ms, longest event loop stall ${maxLagMs.toFixed(0)} ms`);
    assert.ok(maxLagMs < 250, `the event loop stalled ${maxLagMs.toFixed(0)} ms while closing`);
    assert.ok(closeCallMs < 100, `close() itself took ${closeCallMs.toFixed(0)} ms`);
    assertNothingLeft(driver.child.pid!, held);
  });
}

test('a curl that runs after the scan, in a namespace where only `sleep` (no libssl) lives: hooked ahead of use through the container\'s ld.so.cache', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const dir = await certificate(scope);
  const ns = await scope.netns('tlsa');
  const far = await scope.netns('tlsf');
  await addVeth(ns, 'ks0', far, 'ks0');
  await addAddress(ns, 'ks0', '10.79.0.1/24');
  await addAddress(far, 'ks0', '10.79.0.2/24');
  // The server is in another namespace: out of scope, so nothing in scope maps libssl.
  far.spawn(PYTHON, ['-c', SERVER.replace("('127.0.0.1', port)", "('10.79.0.2', port)"), join(dir, 'cert.pem'), join(dir, 'key.pem'), '8443']);
  await waitForPort(far, '10.79.0.2', 8443);
  const sleeper = ns.spawn('sleep', ['600']);
  scope.defer(() => void sleeper.kill('SIGKILL'));

  const driver = startDriver(ns);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  await until('sleep in the namespace', () => (readlinkSync(`/proc/${sleeper.pid}/exe`).endsWith('/sleep') ? true : undefined), 5000);
  driver.send({ scan: true });
  const scanned = await driver.take('scanned');
  const plans = scanned.scanned as { plan: LibraryHookPlan; attached: unknown }[];
  const reports = scanned.reports as ProcessHookReport[];
  const mine = reports.find((r) => r.pid === sleeper.pid && r.reason.startsWith(AHEAD_OF_USE));
  assert.ok(mine !== undefined, `no ahead-of-use report through sleep: ${JSON.stringify(reports)}`);
  assert.equal(mine.hooked, true);
  assert.match(mine.reason, /\/usr\/lib\/x86_64-linux-gnu\/libssl\.so\.3: libssl\.so\.3 \(OpenSSL 3\.\d+\.\d+\): SSL_read, SSL_write, SSL_read_ex, SSL_write_ex$/);
  assert.ok(reports.some((r) => r.pid === sleeper.pid && !r.hooked), 'sleep itself still reports no libssl mapped');
  assert.equal(plans.length, 1, JSON.stringify(plans.map((p) => p.plan.path)));
  assert.equal(plans[0]!.plan.key, mine.planKey);
  assert.deepEqual(plans[0]!.attached, { ok: true, probes: 8 });
  driver.send({ scan: true });
  assert.deepEqual((await driver.take('scanned')).scanned, [], 'the root is looked at once: nothing planned again');

  // curl starts after the scan and ends long before the next one would come.
  const curl = ns.spawn('curl', ['-k', '-s', '--http1.1', '-o', '/dev/null', 'https://10.79.0.2:8443/bytes/100']);
  assert.equal(await exitOf(curl), 0);
  const written = (): string => Buffer.concat(driver.events.filter((e) => e.kind === 'data' && e.pid === curl.pid && e.direction === 'write')
    .map((e) => Buffer.from(e.bytes as string, 'base64'))).toString('latin1');
  await until("curl's request line in its write events", () => (written().startsWith('GET /bytes/100 HTTP/1.1\r\n') ? true : undefined), 10_000, () => JSON.stringify(written()));
  assert.deepEqual(driver.internalErrors, []);
});

test('Go HTTP/1.1 client (writes and reads on two goroutines): in ring order, each request comes before the response to it', { skip: skip || skipFor(requireGo()), timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  t.after(() => scope.close());
  const dir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-goorder-`));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const goBinary = buildGoTls(dir);
  const ns = await scope.netns('tlso');
  const server = ns.spawn(goBinary, ['server', '127.0.0.1:9443']);
  await waitForPort(ns, '127.0.0.1', 9443);
  const driver = startDriver(ns);
  scope.defer(() => void driver.child.kill('SIGKILL'));
  await driver.take('ready');
  driver.send({ scan: true });
  await driver.take('scanned');
  const REQUESTS = 5;
  const RESPONSE_BODY = 70_000;
  // Several clients: the Write's RET ran after the answer's Read RET in about half of them (before the fix).
  for (let run = 0; run < 4; run += 1) {
    const from = driver.events.length;
    await ns.execOk(goBinary, ['client1', `https://127.0.0.1:9443/bytes/${RESPONSE_BODY}`, String(REQUESTS), '0']);
    await until('the client connection\'s close record', () => (driver.events.slice(from).some((e) => e.kind === 'close' && e.pid !== server.pid) ? true : undefined));
    const client = driver.events.slice(from).filter((e) => e.kind === 'data' && e.pid !== server.pid);
    const size = (e: DriverEvent): number => Buffer.from(e.bytes as string, 'base64').length;
    const written = client.filter((e) => e.direction === 'write').reduce((n, e) => n + size(e), 0);
    const read = client.filter((e) => e.direction === 'read').reduce((n, e) => n + size(e), 0);
    assert.ok(written % REQUESTS === 0 && read % REQUESTS === 0, `run ${run}: ${written} bytes written, ${read} read`);
    const request = written / REQUESTS;
    const response = read / REQUESTS;
    let writtenSoFar = 0;
    for (const e of client) {
      if (e.direction === 'write') writtenSoFar += size(e);
      else {
        const answering = Math.floor((e.streamOffset as number) / response) + 1;
        assert.ok(writtenSoFar >= answering * request, `run ${run}: read at ${e.streamOffset as number} (response ${answering}) came with only ${writtenSoFar} request bytes before it`);
      }
    }
    t.diagnostic(`run ${run}: ${client.length} data records, requests of ${request} bytes, responses of ${response}, each request first`);
  }
  assert.deepEqual(driver.internalErrors, []);
});
