/**
 * The object loader on a small object of its own conventions (test/fixtures/bpf-loader/probe.bpf.c,
 * compiled here with clang): what it reads from the ELF, what it refuses, and, against the kernel,
 * maps made, relocations patched, a uprobe and a uretprobe on libc's getppid that fire when this
 * process calls it (through koffi), and a raw tracepoint that fires when it sends a datagram, seen in
 * the ring and in a map.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type koffiModule from 'koffi';
import { loadLibc } from '../../live/libc.ts';
import { openElfFile, parseElf } from '../elf.ts';
import { hasCommand, missingRoot, skipFor } from '../../../../test/helpers/requirements.ts';
import { BpfObjectError, parseBpfObject, type BpfObject } from './bpf-object.ts';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_RINGBUF, BpfSyscalls, fixedBytes } from './bpf-syscalls.ts';
import { LoadedObject } from './load-object.ts';
import { RingBufferReader } from './ring-buffer.ts';
import { attachUprobe, detachUprobe, readUprobePmu, type AttachedUprobe } from './uprobe-event.ts';

const SOURCE = fileURLToPath(new URL('../../../../test/fixtures/bpf-loader/probe.bpf.c', import.meta.url));
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const clangSkip = skipFor(hasCommand('clang') ? null : 'clang (the BPF compiler) is not installed');
const rootSkip = clangSkip || skipFor(missingRoot('loading BPF programs'));

let compiled: Uint8Array | undefined;

/** The fixture compiled as bpf/build.sh compiles bpf/tls.bpf.c. */
function fixtureObject(): Uint8Array {
  if (compiled !== undefined) return compiled;
  const dir = mkdtempSync(join(tmpdir(), 'ks-bpf-loader-'));
  try {
    const out = join(dir, 'probe.bpf.o');
    const r = spawnSync('clang', ['-target', 'bpf', '-O2', '-Wall', '-I/usr/include/x86_64-linux-gnu', '-c', SOURCE, '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    compiled = new Uint8Array(readFileSync(out));
    return compiled;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the object: its maps, programs and the ld_imm64 each map reference patches', { skip: clangSkip }, () => {
  const object = parseBpfObject(fixtureObject(), 'probe.bpf.o');
  assert.equal(object.license, 'GPL');
  assert.deepEqual(object.maps.get('records'), { name: 'records', type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 });
  assert.deepEqual(object.maps.get('hits'), { name: 'hits', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 3, flags: 0 });
  assert.deepEqual([...object.programs.keys()].sort(), ['raw_tp/sock_send_length', 'uprobe/ks_entry', 'uprobe/ks_return']);
  const entry = object.programs.get('uprobe/ks_entry')!;
  assert.equal(entry.kind, 'uprobe');
  assert.equal(entry.target, 'ks_entry');
  assert.deepEqual(entry.mapReferences.map((r) => r.map).sort(), ['hits', 'records']);
  for (const ref of entry.mapReferences) assert.equal(entry.instructions[ref.instruction * 8], 0x18, 'an ld_imm64');
  assert.equal(object.programs.get('raw_tp/sock_send_length')!.kind, 'raw_tp');
  assert.equal(object.programs.get('raw_tp/sock_send_length')!.target, 'sock_send_length');
});

test('what the loader cannot load right is refused with what and where', { skip: clangSkip }, () => {
  assert.throws(() => parseBpfObject(readFileSync('/bin/true'), '/bin/true'), (err: unknown) => err instanceof BpfObjectError && /\/bin\/true: not a BPF object \(machine 62/.test(err.message));
  // A relocation of another type (R_BPF_64_32: a BPF-to-BPF call) in .reluprobe/ks_entry.
  const bytes = fixtureObject().slice();
  const rel = parseElf(bytes, 'probe.bpf.o').section('.reluprobe/ks_entry')!;
  bytes[rel.offset + 8] = 10;
  assert.throws(() => parseBpfObject(bytes, 'bad.o'), (err: unknown) => err instanceof BpfObjectError && /bad\.o: \.reluprobe\/ks_entry at \d+: relocation type 10/.test(err.message));
});

/** The file offset of an exported function of libc (the shared ELF reader, as targets/ finds TLS functions). */
function libcOffset(symbol: string): number {
  const elf = openElfFile(LIBC);
  try {
    const sym = elf.findSymbols('.dynsym', [symbol]).get(symbol);
    assert.ok(sym, `${symbol} in ${LIBC}`);
    const offset = elf.fileOffsetOf(sym.value);
    assert.ok(offset !== null);
    return offset;
  } finally {
    elf.close();
  }
}

function load(sys: BpfSyscalls, object: BpfObject): LoadedObject {
  return LoadedObject.load(sys, object, {});
}

test('loaded and attached: a uprobe and a uretprobe on libc getppid fire for this process, in the ring and the map', { skip: rootSkip }, () => {
  const libc = loadLibc();
  const sys = new BpfSyscalls(libc);
  const koffi = createRequire(import.meta.url)('koffi') as typeof koffiModule;
  const getppid = koffi.load('libc.so.6').func('int getppid()');
  const loaded = load(sys, parseBpfObject(fixtureObject(), 'probe.bpf.o'));
  const probes: AttachedUprobe[] = [];
  const ring = RingBufferReader.open(libc, loaded.mapFd('records'), 4096);
  // process.ppid calls getppid() itself: read it before the probes are placed.
  const parent = process.ppid;
  try {
    const pmu = readUprobePmu();
    const offset = libcOffset('getppid');
    probes.push(attachUprobe(sys, pmu, loaded.programFd('uprobe/ks_entry')!, { path: LIBC, fileOffset: offset, retprobe: false }, 'ks_entry'));
    probes.push(attachUprobe(sys, pmu, loaded.programFd('uprobe/ks_return')!, { path: LIBC, fileOffset: offset, retprobe: true }, 'ks_return'));
    const before = process.hrtime.bigint();
    for (let i = 0; i < 5; i += 1) assert.equal(getppid(), parent);
    const after = process.hrtime.bigint();

    const ours: { ts: bigint; kind: number }[] = [];
    const mainThread = (BigInt(process.pid) << 32n) | BigInt(process.pid);
    ring.read(1000, (view, at, length) => {
      assert.equal(length, 24);
      // The main thread (tid = pid): Node's other threads may call getppid too.
      if (view.getBigUint64(at + 8, true) === mainThread) ours.push({ ts: view.getBigUint64(at, true), kind: Number(view.getBigUint64(at + 16, true)) });
    });
    // Other processes on the machine call getppid too: only this thread's calls are counted.
    assert.deepEqual(
      ours.map((r) => r.kind),
      [0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
      'entry then return, five times',
    );
    for (const r of ours) assert.ok(r.ts >= before && r.ts <= after, 'stamped on the monotonic clock during the calls');
    const hits = fixedBytes(8);
    assert.equal(sys.lookupElem(loaded.mapFd('hits'), Uint8Array.of(0, 0, 0, 0), hits), true);
    assert.ok(new DataView(hits.buffer).getBigUint64(0, true) >= 5n);

    // Detached: calls no longer fire.
    for (const p of probes.splice(0)) detachUprobe(sys, p);
    ring.read(1000, () => {});
    getppid();
    let after2 = 0;
    ring.read(1000, (view, at) => {
      if (view.getBigUint64(at + 8, true) >> 32n === BigInt(process.pid)) after2 += 1;
    });
    assert.equal(after2, 0);
  } finally {
    for (const p of probes) detachUprobe(sys, p);
    ring.close();
    loaded.close();
  }
});

test('a raw tracepoint program (sock_send_length) runs on every send once its link is open, and stops when it is closed', { skip: rootSkip }, async () => {
  const libc = loadLibc();
  const sys = new BpfSyscalls(libc);
  const loaded = load(sys, parseBpfObject(fixtureObject(), 'probe.bpf.o'));
  const ring = RingBufferReader.open(libc, loaded.mapFd('records'), 4096);
  const socket = createSocket('udp4');
  let link = -1;
  try {
    const sendsOfThisProcess = (): number => {
      let n = 0;
      ring.read(1000, (view, at) => {
        if (Number(view.getBigUint64(at + 16, true)) === 2 && view.getBigUint64(at + 8, true) >> 32n === BigInt(process.pid)) n += 1;
      });
      return n;
    };
    const send = (): Promise<void> => new Promise((resolve, reject) => socket.send('x', 9, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    await send();
    assert.equal(sendsOfThisProcess(), 0, 'loaded but not attached: nothing runs');
    link = sys.openRawTracepoint('sock_send_length', loaded.programFd('raw_tp/sock_send_length')!);
    await send();
    await send();
    // At least our two datagrams (the test runner's own sockets may send meanwhile).
    assert.ok(sendsOfThisProcess() >= 2);
    sys.close(link);
    link = -1;
    await send();
    assert.equal(sendsOfThisProcess(), 0, 'link closed: detached');
    assert.throws(() => sys.openRawTracepoint('ks_no_such_tracepoint', loaded.programFd('raw_tp/sock_send_length')!), /attaching raw tracepoint ks_no_such_tracepoint: .*\(errno 2\)/);
  } finally {
    socket.close();
    sys.close(link);
    ring.close();
    loaded.close();
  }
});

test('a uprobe the kernel refuses (an offset past the end of the file) names the probe and the errno, and leaves nothing open', { skip: rootSkip }, () => {
  const libc = loadLibc();
  const sys = new BpfSyscalls(libc);
  const loaded = load(sys, parseBpfObject(fixtureObject(), 'probe.bpf.o'));
  try {
    const fdsBefore = perfEventFds();
    assert.throws(
      () => attachUprobe(sys, readUprobePmu(), loaded.programFd('uprobe/ks_entry')!, { path: LIBC, fileOffset: 0x7fff_ffff, retprobe: false }, 'ks_entry'),
      /perf_event_open of a uprobe at \/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6\+0x7fffffff: .*\(errno \d+\)/,
    );
    assert.equal(perfEventFds(), fdsBefore);
  } finally {
    loaded.close();
  }
});

/** This process's perf event fds (a uprobe is one). */
function perfEventFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[perf_event]') n += 1;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}
