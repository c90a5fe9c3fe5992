/**
 * The TLS target finder on real processes of this machine: Debian's python3 `ssl`, curl and nginx
 * (OpenSSL 3 through libssl.so.3) and a Go HTTPS server built here, compared with what binutils
 * (nm, readelf) and Go's own objdump say; a Go binary built stripped, a statically linked TLS
 * (Node), a deleted libssl, a process that loads libssl late, and a process in another network
 * namespace (not in scope). Root: reads other processes' /proc/PID/root and map_files, and makes a
 * network namespace (run under flock /tmp/kshark-root-tests.lock).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LibraryHookPlan, ProcessHookReport, UprobeSpec } from '../../src/remote-agent/tls/hooks.ts';
import { AHEAD_OF_USE, NO_LIBSSL_REASON, STRIPPED_REASON, TargetScanner, type TargetScan } from '../../src/remote-agent/tls/targets/index.ts';
import { NODE } from '../helpers/capture.ts';
import { buildGoTls, requireGo } from '../helpers/go-tls.ts';
import { createNetns, requireNetns, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';
const PYTHON = '/usr/bin/python3';
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = skipFor(
  !root ? 'reading other processes through /proc/PID/root needs root' : (requireNetns(['curl', 'nginx', 'openssl', 'readelf', 'nm']) ?? requireGo()),
);

let dir = '';
const children: ChildProcess[] = [];
/** Processes started by our children (nginx's worker): killed by pid at the end. */
const grandchildren: number[] = [];
let netns: Netns | null = null;

/** A TLS server in python's ssl module that answers nothing: clients connect and wait. */
const PY_SERVER = [
  'import socket, ssl, sys, time',
  'ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)',
  'ctx.load_cert_chain(sys.argv[1], sys.argv[2])',
  's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)',
  'print(s.getsockname()[1], flush=True)',
  'conns = []',
  'while True:',
  '    c, _ = s.accept()',
  '    try: conns.append(ctx.wrap_socket(c, server_side=True))',
  '    except Exception: pass',
].join('\n');

function start(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, stdout: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  // stderr ignored: a grandchild holding the pipe would keep this test file from ending.
  const child = spawn(cmd, args, { stdio: ['pipe', stdout, 'ignore'], env });
  children.push(child);
  return child;
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl !== -1) resolve(text.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before its first line: ${text}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until `pid` maps a file whose path contains `name` (a library loaded at start). */
async function waitForMapping(pid: number, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (readFileSync(`/proc/${pid}/maps`, 'utf8').includes(name)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`pid ${pid} never mapped ${name}`);
}

/**
 * The process's own outcome: not the report of its container's libssl hooked ahead of use, which goes
 * through whichever process its root was first seen through (that can be this one).
 */
function reportOf(scans: readonly TargetScan[], pid: number): ProcessHookReport | undefined {
  return scans.flatMap((s) => s.reports).findLast((r) => r.pid === pid && !r.reason.startsWith(AHEAD_OF_USE));
}

function planOf(scans: readonly TargetScan[], key: string | null): LibraryHookPlan | undefined {
  return scans.flatMap((s) => s.plans).find((p) => p.key === key);
}

/** The file offset of a virtual address by readelf's PT_LOAD table (independent of our reader). */
function readelfFileOffset(file: string, vaddr: number): number {
  for (const line of execFileSync('readelf', ['-lW', file], { encoding: 'utf8' }).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'LOAD') continue;
    const [offset, va, , filesz] = f.slice(1, 5).map((x) => Number.parseInt(x, 16)) as [number, number, number, number];
    if (vaddr >= va && vaddr < va + filesz) return offset + (vaddr - va);
  }
  throw new Error(`0x${vaddr.toString(16)} is in no PT_LOAD of ${file}`);
}

/** nm -D's address of each SSL function, as file offsets. */
function libsslTruth(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of execFileSync('nm', ['-D', '--defined-only', '--without-symbol-versions', LIBSSL], { encoding: 'utf8' }).split('\n')) {
    const [value, , name] = line.split(' ');
    if (name !== undefined && ['SSL_write', 'SSL_read', 'SSL_write_ex', 'SSL_read_ex'].includes(name)) out.set(name, readelfFileOffset(LIBSSL, Number.parseInt(value ?? '', 16)));
  }
  return out;
}

function fileKey(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}`;
}

before(async () => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-targets-`));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
});

after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    c.stdin?.destroy();
    c.stdout?.destroy();
  }
  for (const pid of grandchildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await netns?.destroy();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('TLS targets', { skip }, () => {
  it('python3 ssl, curl and nginx: one plan for libssl.so.3 with the offsets nm -D and readelf give, every process reported hooked', async () => {
    const py = start(PYTHON, ['-c', PY_SERVER, join(dir, 'cert.pem'), join(dir, 'key.pem')]);
    const pyPort = Number(await firstLine(py));
    const curl = start('curl', ['-sk', '-m', '60', `https://127.0.0.1:${pyPort}/`]);
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    mkdirSync(join(dir, 'nginx'), { recursive: true });
    writeFileSync(
      conf,
      [
        `pid ${join(dir, 'nginx', 'nginx.pid')};`,
        `error_log ${join(dir, 'nginx', 'error.log')};`,
        'worker_processes 1;',
        'events {}',
        'http {',
        `  access_log off; client_body_temp_path ${join(dir, 'nginx')}; proxy_temp_path ${join(dir, 'nginx')}; fastcgi_temp_path ${join(dir, 'nginx')}; uwsgi_temp_path ${join(dir, 'nginx')}; scgi_temp_path ${join(dir, 'nginx')};`,
        `  server { listen 127.0.0.1:${port} ssl; ssl_certificate ${join(dir, 'cert.pem')}; ssl_certificate_key ${join(dir, 'key.pem')}; location / { return 200 "ok\\n"; } }`,
        '}',
        '',
      ].join('\n'),
    );
    const nginx = start('nginx', ['-c', conf, '-g', 'daemon off;'], process.env, 'ignore');
    for (const c of [curl, nginx]) await waitForMapping(c.pid ?? 0, 'libssl.so.3');
    // nginx's worker: the master's child.
    let worker = 0;
    for (let i = 0; i < 200 && worker === 0; i++) {
      const kids = readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim();
      worker = kids === '' ? 0 : Number(kids.split(' ')[0]);
      if (worker === 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(worker > 0, 'nginx started a worker');
    grandchildren.push(worker);

    const scanner = new TargetScanner();
    // Two scans started together (a timer firing during a slow scan) share the work: each process and plan once.
    const scans = await Promise.all([scanner.scanTargets(), scanner.scanTargets()]);
    for (const pid of [py.pid, curl.pid, nginx.pid, worker]) assert.equal(scans.flatMap((s) => s.reports).filter((r) => r.pid === pid).length, 1);
    const key = fileKey(LIBSSL);
    const version = execFileSync('openssl', ['version'], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ');
    for (const [what, pid] of [
      ['python3', py.pid],
      ['curl', curl.pid],
      ['nginx master', nginx.pid],
      ['nginx worker', worker],
    ] as const) {
      const r = reportOf(scans, pid ?? 0);
      assert.ok(r, `${what} (pid ${pid}) is reported`);
      assert.deepEqual(
        { library: r.library, hooked: r.hooked, planKey: r.planKey, reason: r.reason },
        { library: 'openssl', hooked: true, planKey: key, reason: `libssl.so.3 (${version}): SSL_read, SSL_write, SSL_read_ex, SSL_write_ex` },
        what,
      );
    }
    assert.equal(reportOf(scans, curl.pid ?? 0)?.comm, 'curl');
    const plans = scans.flatMap((s) => s.plans).filter((p) => p.key === key);
    assert.equal(plans.length, 1, 'one plan for the one libssl inode');
    const plan = plans[0];
    assert.ok(plan);
    assert.equal(plan.library, 'openssl');
    assert.equal(plan.version, version);
    assert.equal(fileKey(plan.path), key, 'the plan path opens the mapped file');
    assert.match(plan.path, /^\/proc\/\d+\/root\/usr\/lib\/x86_64-linux-gnu\/libssl\.so\.3$/);
    const truth = libsslTruth();
    assert.equal(truth.size, 4);
    const want = [...truth].flatMap(([symbol, offset]) => [`${symbol} entry ${offset}`, `${symbol} return ${offset}`]).sort();
    assert.deepEqual(plan.probes.map((p) => `${p.symbol} ${p.retprobe ? 'return' : 'entry'} ${p.fileOffset}`).sort(), want);
    for (const p of plan.probes) {
      assert.equal(p.program, `${p.symbol.toLowerCase()}_${p.retprobe ? 'return' : 'entry'}`);
      assert.equal(p.path, plan.path);
    }

    // Known pids are not reported again, and their plan is not planned again.
    const again = await scanner.scanTargets();
    assert.equal(again.reports.filter((r) => [py.pid, curl.pid, nginx.pid, worker].includes(r.pid)).length, 0);
    assert.equal(again.plans.filter((p) => p.key === key).length, 0);
    for (const c of [curl, nginx, py]) c.kill('SIGKILL');
    process.kill(worker, 'SIGKILL');
  });

  it('a Go TLS server with symbols: entry and every RET of (*Conn).Write and Read as go tool objdump shows them', async () => {
    const bin = buildGoTls(dir);
    const server = start(bin, ['server', '127.0.0.1:0']);
    await firstLine(server);
    const scans = [await new TargetScanner().scanTargets()];
    const r = reportOf(scans, server.pid ?? 0);
    assert.ok(r);
    const goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
    assert.equal(r.library, 'go');
    assert.equal(r.hooked, true, r.reason);
    assert.equal(r.planKey, fileKey(bin));
    const plan = planOf(scans, r.planKey);
    assert.ok(plan);
    assert.equal(plan.version, goVersion);
    assert.equal(fileKey(plan.path), fileKey(bin));
    for (const [symbol, pattern, entryProgram, returnProgram] of [
      ['crypto/tls.(*Conn).Write', 'crypto/tls.\\(\\*Conn\\).Write$', 'go_write_entry', 'go_write_return'],
      ['crypto/tls.(*Conn).Read', 'crypto/tls.\\(\\*Conn\\).Read$', 'go_read_entry', 'go_read_return'],
    ] as const) {
      const dump = execFileSync('go', ['tool', 'objdump', '-s', pattern, bin], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      const lines = [...dump.matchAll(/^\s+\S+\t\t(0x[0-9a-f]+)\t\t[0-9a-f]+\t+(\S+)/gm)].map((m) => ({ address: Number(m[1]), op: m[2] }));
      assert.ok(lines.length > 10, `objdump shows ${symbol}`);
      const entry = readelfFileOffset(bin, lines[0]?.address ?? 0);
      const rets = lines.filter((l) => l.op === 'RET').map((l) => readelfFileOffset(bin, l.address));
      assert.ok(rets.length >= 1);
      const probes: readonly UprobeSpec[] = plan.probes.filter((p) => p.symbol === symbol);
      assert.deepEqual(
        probes.filter((p) => p.program === entryProgram).map((p) => p.fileOffset),
        [entry],
      );
      assert.deepEqual(
        probes.filter((p) => p.program === returnProgram).map((p) => p.fileOffset),
        rets,
      );
      assert.ok(probes.every((p) => !p.retprobe), 'never a uretprobe on Go');
      // And the byte there is a RET (0xc3) in the file.
      const bytes = readFileSync(bin);
      for (const at of rets) assert.equal(bytes[at], 0xc3);
    }
    assert.match(r.reason, new RegExp(`^go-tls \\(${goVersion}\\): crypto/tls\\.\\(\\*Conn\\)\\.Write, crypto/tls\\.\\(\\*Conn\\)\\.Read \\(entries and \\d+ RET instructions\\)$`));
    server.kill('SIGKILL');
  });

  it('a Go binary built with -ldflags=-s -w: not hooked, the stripped reason; a Go version before 1.17: the stack ABI reason', async () => {
    const stripped = buildGoTls(dir, { stripped: true });
    const server = start(stripped, ['server', '127.0.0.1:0']);
    await firstLine(server);
    // The same binary with its recorded version changed to go1.16 (same length): the ABI check.
    const goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
    const old = join(dir, 'go-tls-old');
    const bytes = readFileSync(buildGoTls(dir));
    const at = bytes.indexOf(Buffer.from(goVersion, 'latin1'), bytes.indexOf(Buffer.from('\xff Go buildinf:', 'latin1')));
    const oldVersion = goVersion.replace(/^go1\.\d\d/, 'go1.16');
    assert.equal(oldVersion.length, goVersion.length);
    bytes.write(oldVersion, at, 'latin1');
    writeFileSync(old, bytes, { mode: 0o755 });
    const oldServer = start(old, ['server', '127.0.0.1:0']);
    await firstLine(oldServer);

    const scans = [await new TargetScanner().scanTargets()];
    const r = reportOf(scans, server.pid ?? 0);
    assert.deepEqual(r && { library: r.library, hooked: r.hooked, planKey: r.planKey, reason: r.reason }, { library: 'go', hooked: false, planKey: null, reason: `${goVersion}: ${STRIPPED_REASON}` });
    const o = reportOf(scans, oldServer.pid ?? 0);
    assert.deepEqual(o && { library: o.library, hooked: o.hooked, reason: o.reason }, { library: 'go', hooked: false, reason: `${oldVersion} passes arguments on the stack (Go < 1.17): not hooked` });
    assert.equal(planOf(scans, fileKey(stripped)), undefined);
    // Nothing was done to them: both still serve.
    assert.equal(server.exitCode, null);
    assert.equal(oldServer.exitCode, null);
    server.kill('SIGKILL');
    oldServer.kill('SIGKILL');
  });

  it('statically linked TLS (Node) and a deleted libssl: not hooked, each with its reason', async () => {
    const node = start(NODE, ['-e', 'setTimeout(() => {}, 60_000); console.log("up")']);
    await firstLine(node);
    // curl with its own copy of libssl.so.3, then the copy replaced on disk (as a package upgrade does).
    const lib = join(dir, 'lib');
    mkdirSync(lib, { recursive: true });
    copyFileSync(LIBSSL, join(lib, 'libssl.so.3'));
    const py = start(PYTHON, ['-c', PY_SERVER, join(dir, 'cert.pem'), join(dir, 'key.pem')]);
    const port = Number(await firstLine(py));
    const curl = start('curl', ['-sk', '-m', '60', `https://127.0.0.1:${port}/`], { ...process.env, LD_LIBRARY_PATH: lib });
    await waitForMapping(curl.pid ?? 0, join(lib, 'libssl.so.3'));
    copyFileSync(LIBSSL, join(lib, 'libssl.so.3.new'));
    renameSync(join(lib, 'libssl.so.3.new'), join(lib, 'libssl.so.3'));

    const scans = [await new TargetScanner().scanTargets()];
    const n = reportOf(scans, node.pid ?? 0);
    assert.deepEqual(n && { library: n.library, hooked: n.hooked, reason: n.reason }, { library: null, hooked: false, reason: NO_LIBSSL_REASON });
    const c = reportOf(scans, curl.pid ?? 0);
    assert.deepEqual(c && { library: c.library, hooked: c.hooked, reason: c.reason }, {
      library: 'openssl',
      hooked: false,
      reason: 'libssl.so.3 was deleted or replaced on disk since the process mapped it (upgraded?): restart the process to capture its TLS',
    });
    for (const child of [node, curl, py]) child.kill('SIGKILL');
  });

  it('a hostile libssl (not ELF, in a folder named with terminal escapes): not hooked, the reason escaped', async () => {
    const evil = join(dir, 'evil\u001b[2J\u001b]0;owned\u0007');
    mkdirSync(evil, { recursive: true });
    writeFileSync(join(evil, 'libssl.so.3'), Buffer.alloc(8192, 0x41));
    // Maps the file executable, as the loader would map a library.
    const py = start(PYTHON, ['-c', 'import mmap, sys, time\nf = open(sys.argv[1], "rb")\nm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)\nprint("up", flush=True)\ntime.sleep(60)', join(evil, 'libssl.so.3')]);
    await firstLine(py);
    const r = reportOf([await new TargetScanner().scanTargets()], py.pid ?? 0);
    assert.ok(r);
    assert.equal(r.hooked, false);
    assert.equal(r.library, 'openssl');
    assert.match(r.reason, /^libssl\.so\.3 cannot be read: .*evil\\u001b\[2J\\u001b\]0;owned\\u0007\/libssl\.so\.3: not a readable ELF64 little-endian file: no ELF magic$/);
    assert.doesNotMatch(r.reason, /[\u0000-\u001f]/);
    py.kill('SIGKILL');
  });

  it('a container root without ld.so.cache: its libssl planned ahead of use once, through one of its processes, however many it has', async () => {
    // A "container": a folder with Debian's layout (merged /usr through an absolute link, which
    // must mean the folder's /usr, not the agent's) and no ld.so.cache; python3 chroots into it.
    const root = join(dir, 'container');
    const libDir = join(root, 'usr/lib/x86_64-linux-gnu');
    mkdirSync(libDir, { recursive: true });
    copyFileSync(LIBSSL, join(libDir, 'libssl.so.3'));
    copyFileSync(LIBSSL.replace('libssl', 'libcrypto'), join(libDir, 'libcrypto.so.3'));
    symlinkSync('/usr/lib', join(root, 'lib'));
    symlinkSync('/usr/lib/x86_64-linux-gnu', join(root, 'usr/lib64'));
    const CHROOTED = 'import os, sys, time\nos.chroot(sys.argv[1])\nprint("up", flush=True)\ntime.sleep(60)';
    const inRoot = async (): Promise<number> => {
      const py = start(PYTHON, ['-c', CHROOTED, root]);
      await firstLine(py);
      assert.equal(readlinkSync(`/proc/${py.pid}/root`), root);
      return py.pid ?? 0;
    };
    const pids = [await inRoot(), await inRoot()];
    const key = fileKey(join(libDir, 'libssl.so.3'));
    const scanner = new TargetScanner();
    const first = await scanner.scanTargets();
    const plans = first.plans.filter((p) => p.key === key);
    assert.equal(plans.length, 1, JSON.stringify(first.plans.map((p) => p.path)));
    const plan = plans[0]!;
    const through = pids.find((pid) => plan.path === `/proc/${pid}/root/usr/lib/x86_64-linux-gnu/libssl.so.3`);
    assert.ok(through !== undefined, plan.path);
    assert.match(plan.version, /^OpenSSL 3\.\d+\.\d+$/, "the version from the root's own libcrypto");
    const truth = libsslTruth();
    assert.deepEqual(plan.probes.filter((p) => !p.retprobe).map((p) => [p.symbol, p.fileOffset]).sort(), [...truth].sort());
    const ahead = first.reports.filter((r) => r.planKey === key);
    assert.deepEqual(ahead.map((r) => ({ pid: r.pid, library: r.library, hooked: r.hooked, reason: r.reason })), [
      { pid: through, library: 'openssl', hooked: true, reason: `${AHEAD_OF_USE} /usr/lib/x86_64-linux-gnu/libssl.so.3: libssl.so.3 (${plan.version}): SSL_read, SSL_write, SSL_read_ex, SSL_write_ex` },
    ]);
    // The processes themselves map no libssl and say so.
    for (const pid of pids) assert.ok(first.reports.some((r) => r.pid === pid && r.reason === NO_LIBSSL_REASON));
    // A third process of the same root, and later scans: the root is not looked at again.
    pids.push(await inRoot());
    for (let i = 0; i < 2; i++) {
      const later = await scanner.scanTargets();
      assert.deepEqual(later.plans.filter((p) => p.key === key), []);
      assert.deepEqual(later.reports.filter((r) => r.planKey === key || r.reason.startsWith(AHEAD_OF_USE)), []);
    }
  });

  it('a process that loads libssl after the first look is reported again, hooked, once its recheck is due', async () => {
    let clock = 1_000_000;
    const scanner = new TargetScanner({ now: () => clock });
    const py = start(PYTHON, ['-c', 'import sys\nprint("up", flush=True)\nsys.stdin.readline()\nimport ssl\nprint("ssl", flush=True)\nsys.stdin.readline()']);
    const lines: string[] = [];
    py.stdout?.on('data', (b: Buffer) => lines.push(...b.toString('utf8').trim().split('\n')));
    await firstLine(py);
    const first = await scanner.scanTargets();
    assert.equal(reportOf([first], py.pid ?? 0)?.reason, NO_LIBSSL_REASON);
    py.stdin?.write('\n');
    await waitForMapping(py.pid ?? 0, 'libssl.so.3');
    // Not due yet: nothing new about it.
    clock += 500;
    assert.equal(reportOf([await scanner.scanTargets()], py.pid ?? 0), undefined);
    clock += 600;
    const later = await scanner.scanTargets();
    const r = reportOf([later], py.pid ?? 0);
    assert.equal(r?.hooked, true, r?.reason);
    assert.equal(r?.library, 'openssl');
    py.kill('SIGKILL');
  });

  it('a plan whose process exited before it was attached is planned again through a living one (forgetPlan)', async () => {
    // A private copy of libssl, so that only these two processes map it (not others on the machine).
    const lib = join(dir, 'lib-forget');
    mkdirSync(lib, { recursive: true });
    copyFileSync(LIBSSL, join(lib, 'libssl.so.3'));
    const env = { ...process.env, LD_LIBRARY_PATH: lib };
    // Two independent processes (a client would exit with its server).
    const sleeper = ['-c', 'import ssl, time\nprint("up", flush=True)\ntime.sleep(60)'];
    const py = start(PYTHON, sleeper, env);
    const other = start(PYTHON, sleeper, env);
    for (const c of [py, other]) await firstLine(c);
    for (const c of [py, other]) await waitForMapping(c.pid ?? 0, join(lib, 'libssl.so.3'));
    const scanner = new TargetScanner();
    const key = fileKey(join(lib, 'libssl.so.3'));
    const first = planOf([await scanner.scanTargets()], key);
    assert.ok(first);
    const named = Number(/^\/proc\/(\d+)\//.exec(first.path)?.[1]);
    const [gone, alive] = named === py.pid ? [py, other] : [other, py];
    assert.equal(named, gone.pid);
    gone.kill('SIGKILL');
    await new Promise((r) => gone.once('exit', r));
    scanner.forgetPlan(key);
    const second = planOf([await scanner.scanTargets()], key);
    assert.ok(second, 'planned again');
    assert.equal(second.path, first.path.replace(`/proc/${gone.pid}/`, `/proc/${alive.pid}/`));
    assert.deepEqual(second.probes.map((p) => p.fileOffset), first.probes.map((p) => p.fileOffset));
    alive.kill('SIGKILL');
  });

  it('a process in another network namespace is not in scope, and the agent never reports itself', async () => {
    netns = await createNetns('tls');
    const inside = start('ip', ['netns', 'exec', netns.name, PYTHON, '-c', 'import ssl, time\nprint("up", flush=True)\ntime.sleep(60)']);
    await firstLine(inside);
    const outside = start(PYTHON, ['-c', 'import ssl, time\nprint("up", flush=True)\ntime.sleep(60)']);
    await firstLine(outside);
    // `ip netns exec` execs python: the same pid, now in the namespace.
    await waitForMapping(inside.pid ?? 0, 'libssl.so.3');
    assert.notEqual(statSync(`/proc/${inside.pid}/ns/net`).ino, statSync('/proc/self/ns/net').ino);
    const scans = [await new TargetScanner().scanTargets()];
    assert.equal(reportOf(scans, inside.pid ?? 0), undefined, 'not in the agent network namespace');
    assert.equal(reportOf(scans, outside.pid ?? 0)?.hooked, true);
    assert.equal(reportOf(scans, process.pid), undefined, 'the agent itself');
    inside.kill('SIGKILL');
    outside.kill('SIGKILL');
  });

  it('scans this machine quickly, also with 500 more processes (a busy node): the figures are printed', async () => {
    const measure = async (): Promise<{ first: TargetScan; firstMs: number; median: number; pids: number }> => {
      const scanner = new TargetScanner();
      let t = performance.now();
      const first = await scanner.scanTargets();
      const firstMs = performance.now() - t;
      const runs: number[] = [];
      for (let i = 0; i < 11; i++) {
        t = performance.now();
        await scanner.scanTargets();
        runs.push(performance.now() - t);
      }
      runs.sort((a, b) => a - b);
      const pids = execFileSync('sh', ['-c', 'ls /proc | grep -c "^[0-9]"'], { encoding: 'utf8' }).trim();
      return { first, firstMs, median: runs[5] ?? 0, pids: Number(pids) };
    };
    const print = (what: string, m: Awaited<ReturnType<typeof measure>>): void => {
      process.stdout.write(`# target scan of ${what} (${m.pids} pids, ${m.first.inScope} in scope, ${m.first.plans.length} plans): first ${m.firstMs.toFixed(0)} ms, then median ${m.median.toFixed(1)} ms\n`);
    };
    const idle = await measure();
    print('this machine', idle);

    // 450 processes of one C program without TLS, 50 curl clients of one libssl (waiting on a server that never answers).
    const py = start(PYTHON, ['-c', PY_SERVER, join(dir, 'cert.pem'), join(dir, 'key.pem')]);
    const port = Number(await firstLine(py));
    const busy: ChildProcess[] = [];
    for (let i = 0; i < 450; i++) busy.push(start('sleep', ['120'], process.env, 'ignore'));
    for (let i = 0; i < 50; i++) busy.push(start('curl', ['-sk', '-m', '120', `https://127.0.0.1:${port}/`], process.env, 'ignore'));
    for (const c of busy.slice(-50)) await waitForMapping(c.pid ?? 0, 'libssl.so.3');
    const loaded = await measure();
    print('this machine with 500 more processes', loaded);
    assert.ok(loaded.first.inScope >= 500);
    for (const c of [...busy, py]) c.kill('SIGKILL');
    // Generous bounds on a shared 2-core machine: the rescan runs every second in the agent.
    assert.ok(idle.median < 250 && loaded.median < 500, `a rescan took ${idle.median} / ${loaded.median} ms`);
    assert.ok(loaded.firstMs < 20_000, `the first scan took ${loaded.firstMs} ms`);
  });
});
