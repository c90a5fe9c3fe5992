import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SharkError } from '../../model/errors.ts';
import { Scope, addAddress, addVeth, requireNetns, waitForPort, type Netns } from '../../../test/helpers/netns.ts';
import type { Frame } from '../source/frame.ts';
import { openLiveCapture } from './index.ts';
import { MAX_SMALL_RING_BLOCK_TIMEOUT_MS, RING_BLOCK_SIZE, smallRingBlockTimeoutMs } from './live-capture.ts';
import { HTTP_GET, HTTP_SERVER, UDP_SENDER, nodeIn, startDriver, unprivilegedRunner } from '../../../test/helpers/live-capture.ts';
import type { DriverSummary } from '../../../test/helpers/live-capture-driver.ts';
import { missingRoot, skipFor, skipWithout } from '../../../test/helpers/requirements.ts';

const netnsSkip = skipFor(requireNetns([]));
const rootSkip = skipFor(missingRoot('opening a packet socket (CAP_NET_RAW)'));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SharkError) return err.code;
    throw err;
  }
  return 'no error';
}

test('bad ring options are a USAGE error before any socket is opened', () => {
  assert.equal(codeOf(() => openLiveCapture({ iface: 'lo', ringBytes: 1000 }, () => {})), 'USAGE');
  assert.equal(codeOf(() => openLiveCapture({ iface: 'lo', ringBytes: 2 ** 32 }, () => {})), 'USAGE');
  assert.equal(codeOf(() => openLiveCapture({ iface: 'lo', ringBytes: 1.5 * 2 ** 20 + 0.5 }, () => {})), 'USAGE');
  assert.equal(codeOf(() => openLiveCapture({ iface: 'lo', blockTimeoutMs: 0 }, () => {})), 'USAGE');
});

test('importing the live module does not load koffi; opening a capture does', () => {
  const index = fileURLToPath(new URL('./index.ts', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const loaded = () => Object.keys(require.cache).some((k) => k.includes('/koffi/'));
    const live = await import(${JSON.stringify(index)});
    const before = loaded();
    try { live.openLiveCapture({ iface: 'no-such-if0' }, () => {}); } catch {}
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true });
});

test('20 open/close cycles leak no file descriptors; close is idempotent and ends delivery', { skip: rootSkip }, () => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 20; i++) {
    const capture = openLiveCapture({ iface: i % 2 === 0 ? 'lo' : 'any', ringBytes: 2 << 20 }, () => {});
    assert.equal(fds(), before + 1, 'one socket while open');
    capture.close();
    capture.close();
    assert.equal(capture.drain(), 0);
    assert.deepEqual(Object.keys(capture.kernelCounters()), ['packets', 'drops', 'freezes']);
  }
  assert.equal(fds(), before);
});

test('close() from inside onFrame stops delivery; a kept view reads as empty, not freed memory', { skip: rootSkip, timeout: 10_000 }, async () => {
  const seen: Frame[] = [];
  const capture = openLiveCapture({ iface: 'lo', blockTimeoutMs: 5 }, (frame) => {
    seen.push(frame);
    capture.close();
  });
  const udp = createSocket('udp4');
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => udp.send(`ks-close-${i}`, 9, '127.0.0.1', () => resolve()));
  udp.close();
  const deadline = Date.now() + 5000;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(seen.length, 1, 'the first frame closes the capture');
  assert.equal(seen[0]!.data.length, 0, 'the ring was detached before it was unmapped');
  assert.ok(seen[0]!.origLen > 0);
  assert.equal(capture.drain(), 0);
});

interface Pair {
  readonly a: Netns;
  readonly b: Netns;
}

async function vethPair(scope: Scope): Promise<Pair> {
  const a = await scope.netns('a');
  const b = await scope.netns('b');
  await addVeth(a, 'eth-x', b, 'eth-y');
  await addAddress(a, 'eth-x', '10.98.0.1/24');
  await addAddress(b, 'eth-y', '10.98.0.2/24');
  return { a, b };
}

test('over a veth pair (offloads on): both directions on any and by name, over-MTU frames whole', { skip: netnsSkip, timeout: 90_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { a, b } = await vethPair(scope);
    const marker = `ks-veth-${process.pid}`;
    const any = startDriver(a, { iface: 'any', marker });
    const byName = startDriver(a, { iface: 'eth-x', marker });
    for (const d of [any, byName]) assert.equal((await d.ready).error, undefined);

    const server = b.spawn(process.execPath, ['-e', HTTP_SERVER, '--', '10.98.0.2', '8080', String(1 << 20)]);
    scope.defer(() => void server.kill('SIGKILL'));
    await waitForPort(a, '10.98.0.2', 8080);
    const N = 20;
    await nodeIn(a, UDP_SENDER, '10.98.0.2', '5555', marker, String(N));
    await nodeIn(b, UDP_SENDER, '10.98.0.1', '5556', marker, String(N));
    assert.equal((await nodeIn(a, HTTP_GET, 'http://10.98.0.2:8080/big')).trim(), String(1 << 20));

    const sAny = await any.finish();
    const sName = await byName.finish();
    for (const [name, s] of [['any', sAny], ['eth-x', sName]] as const) {
      t.diagnostic(
        `${name}: ${s.frames} frames (tcp ${s.tcp}, udp ${s.udp}), largest ${s.maxCaptured} B, ${s.overMtuWhole} over the MTU, kernel ${JSON.stringify(s.kernel)}`,
      );
      assert.equal(s.flows['10.98.0.1>10.98.0.2/17'], N, `${name}: UDP a->b`);
      assert.equal(s.flows['10.98.0.2>10.98.0.1/17'], N, `${name}: UDP b->a`);
      assert.ok((s.flows['10.98.0.1>10.98.0.2/6'] ?? 0) > 0, `${name}: TCP a->b`);
      assert.ok((s.flows['10.98.0.2>10.98.0.1/6'] ?? 0) > 0, `${name}: TCP b->a`);
      assert.equal(s.markerFrames, 2 * N, `${name}: each datagram once, ICMP errors quoting them filtered`);
      assert.equal(s.otherIp + s.notIp, 0, `${name}: no ARP, no ICMP`);
      assert.equal(s.duplicates, 0);
      assert.ok(s.overMtuWhole > 0, `${name}: GSO frames larger than the 1500-byte MTU, captured whole`);
      assert.equal(s.truncated, 0, `${name}: snaplen == len for every frame`);
      assert.equal(s.kernel.packets, s.frames);
      assert.equal(s.kernel.drops, 0);
    }
    assert.deepEqual(sName.flows, sAny.flows, 'nothing but eth-x carries traffic in a');
  } finally {
    await scope.close();
  }
});

test('an unknown interface name is CAPTURE_NO_INTERFACE listing the ones that exist', { skip: netnsSkip, timeout: 30_000 }, async () => {
  const scope = new Scope();
  try {
    const { a } = await vethPair(scope);
    const opened = await startDriver(a, { iface: 'eth-nope' }).ready;
    assert.equal(opened.error?.code, 'CAPTURE_NO_INTERFACE');
    assert.match(opened.error.message, /"eth-nope"/);
    assert.match(opened.error.message, /eth-x, lo, any/);
    assert.equal(opened.error.context.available, 'eth-x,lo');
  } finally {
    await scope.close();
  }
});

test('without CAP_NET_RAW (as nobody) opening is CAPTURE_PERMISSION with a hint', { skip: netnsSkip || skipFor(unprivilegedRunner()), timeout: 30_000 }, async () => {
  const scope = new Scope();
  try {
    const a = await scope.netns('nobody');
    const opened = await startDriver(a, { iface: 'any' }, true).ready;
    assert.equal(opened.error?.code, 'CAPTURE_PERMISSION', JSON.stringify(opened.error));
    assert.match(opened.error.message, /CAP_NET_RAW/);
  } finally {
    await scope.close();
  }
});

test('a burst of 100k datagrams on lo: all captured, none dropped; Node CPU per frame reported', { skip: netnsSkip || skipWithout('python3'), timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('burst');
    const driver = startDriver(ns, { iface: 'lo', countOnly: true, settleMs: 300 });
    assert.equal((await driver.ready).error, undefined);
    const N = 100_000;
    const sender = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.time()
for i in range(${N}): s.sendto(b'x' * 64, ('127.0.0.1', 9))
print(time.time() - t)`;
    const seconds = Number((await ns.execOk('python3', ['-c', sender])).stdout.toString().trim());
    const s = await driver.finish();
    t.diagnostic(`${s.frames} frames in ${seconds.toFixed(2)} s (${Math.round(N / seconds)} /s); driver CPU ${(s.cpuUs / 1000).toFixed(1)} ms = ${((s.cpuUs * 1000) / Math.max(1, s.frames)).toFixed(0)} ns per frame (fixed start/settle cost included); kernel ${JSON.stringify(s.kernel)}`);
    assert.equal(s.frames, N);
    assert.equal(s.kernel.packets, N);
    assert.equal(s.kernel.drops, 0);
  } finally {
    await scope.close();
  }
});

/** `count` UDP datagrams "<marker>-<i>" to 127.0.0.1:9 from python3 in `ns`, 100 every 1.5 ms. */
async function sendPacedDatagrams(ns: Netns, marker: string, count: number): Promise<void> {
  const sender = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(${count}):
    s.sendto(b'${marker}-%d' % i, ('127.0.0.1', 9))
    if i % 100 == 99: time.sleep(0.0015)`;
  await ns.execOk('python3', ['-c', sender]);
}

/** The ring grew to `blocks` blocks, and every datagram came out once, in order, none dropped. */
function assertGrewWithoutLoss(t: TestContext, s: DriverSummary, count: number, blocks: number): void {
  t.diagnostic(`ring ${s.ringBytes / RING_BLOCK_SIZE} blocks at the end; ${s.handoverCopies} frames held by both rings handed out once; kernel ${JSON.stringify(s.kernel)}`);
  assert.equal(s.ringBytes, blocks * RING_BLOCK_SIZE, 'the ring grew');
  assert.equal(s.kernel.drops, 0);
  assert.equal(s.duplicates, 0);
  assert.equal(s.markerSequence.length, count, 'every datagram, once');
  const outOfOrder = s.markerSequence.findIndex((n, i) => n !== i);
  assert.equal(outOfOrder, -1, `in order (first difference at ${outOfOrder}: ${s.markerSequence.slice(Math.max(0, outOfOrder - 3), outOfOrder + 3).join(',')})`);
}

test('a capture that starts on a small ring moves to the full one when it falls behind: every datagram once, in order, none dropped', { skip: netnsSkip || skipWithout('python3'), timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('grow');
    const marker = `ks-grow-${process.pid}`;
    // 64 blocks retired every 10-12 ms (the kernel's timer ticks): kept off the CPU for 300 ms by
    // its first frame, the capture finds 25-30 blocks waiting (the move starts at 16), mid-stream,
    // with room for 34-39 more while the full ring is set up. With 32 blocks and a 220 ms stall
    // (room for ~100 ms) one CI run, late in the suite, dropped a frame: setting up the full ring
    // (32 MiB from the kernel) or getting the CPU back can take that long on a busy machine.
    const driver = startDriver(ns, { iface: 'lo', initialRingBytes: 64 * RING_BLOCK_SIZE, ringBytes: 128 * RING_BLOCK_SIZE, blockTimeoutMs: 10, initialBlockTimeoutMs: 10, marker, settleMs: 300, stallOnFirstFrameMs: 300 });
    assert.equal((await driver.ready).error, undefined);
    // Paced (~1 s in all), so that datagrams keep coming before, during and after the move.
    await sendPacedDatagrams(ns, marker, 60_000);
    assertGrewWithoutLoss(t, await driver.finish(), 60_000, 128);
  } finally {
    await scope.close();
  }
});

test('a reader slower than the packets moves to the full ring once a quarter of the small one waits, before one lap of it overflows: none dropped', { skip: netnsSkip || skipWithout('python3'), timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('slow');
    const marker = `ks-slow-${process.pid}`;
    // 60 us per frame reads ~16k frames/s; ~50k/s come for ~0.6 s, a block retired every 10 ms
    // (~500 datagrams): the 32 blocks hold 320 ms, with room for 240 ms more once 8 wait. Moved
    // when a drain ended (after a lap of them, ~1 s of reading), the small ring overflowed first.
    const driver = startDriver(ns, { iface: 'lo', initialRingBytes: 32 * RING_BLOCK_SIZE, ringBytes: 128 * RING_BLOCK_SIZE, blockTimeoutMs: 10, initialBlockTimeoutMs: 10, marker, settleMs: 300, costPerFrameUs: 60 });
    assert.equal((await driver.ready).error, undefined);
    await sendPacedDatagrams(ns, marker, 30_000);
    assertGrewWithoutLoss(t, await driver.finish(), 30_000, 128);
  } finally {
    await scope.close();
  }
});

test('the small ring retires its blocks more slowly, so that it holds as long a trickle as the full ring', () => {
  // The agent's default budget: 16 blocks growing to 100, the full ring's blocks retired every 10 ms.
  assert.equal(smallRingBlockTimeoutMs(10, 16, 100), 63);
  assert.ok(16 * smallRingBlockTimeoutMs(10, 16, 100) >= 100 * 10, 'the small ring spans the full one');
  assert.equal(smallRingBlockTimeoutMs(10, 16, 128), 80);
  assert.equal(smallRingBlockTimeoutMs(10, 8, 128), MAX_SMALL_RING_BLOCK_TIMEOUT_MS, 'a trickle waits at most this long to be read');
  assert.equal(smallRingBlockTimeoutMs(10, 100, 100), 10, 'no move, no change');
  assert.equal(smallRingBlockTimeoutMs(200, 16, 100), 200, 'never faster than asked');
  assert.throws(() => openLiveCapture({ iface: 'lo', initialBlockTimeoutMs: 0 }, () => {}), (err: unknown) => err instanceof SharkError && err.code === 'USAGE');
});

test('a trickle while a fresh capture is kept off the CPU for 600 ms: the small ring holds it all', { skip: netnsSkip || skipWithout('python3'), timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    // The agent's geometry (16 blocks growing to 100), and a datagram every ~3 ms: every block is
    // retired by its timer with a few datagrams in it. With the full ring's 10 ms the 16 small
    // blocks hold 160 ms of it, and a reader away for 600 ms (as a fresh agent at nice 19 behind a
    // busy app) loses most of it: the control run below counts those drops.
    const run = async (name: string, initialBlockTimeoutMs: number | undefined) => {
      const ns = await scope.netns(name);
      const marker = `ks-${name}-${process.pid}`;
      const driver = startDriver(ns, { iface: 'lo', initialRingBytes: 16 * RING_BLOCK_SIZE, ringBytes: 100 * RING_BLOCK_SIZE, blockTimeoutMs: 10, initialBlockTimeoutMs, marker, settleMs: 400, stallOnFirstFrameMs: 600 });
      assert.equal((await driver.ready).error, undefined);
      const sender = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b'${marker}-%d' % i, ('127.0.0.1', 9))
    time.sleep(0.003)`;
      await ns.execOk('python3', ['-c', sender]);
      return driver.finish();
    };
    const control = await run('trickle10', 10);
    t.diagnostic(`10 ms blocks: ${control.markerSequence.length} of 300 datagrams, kernel ${JSON.stringify(control.kernel)}`);
    assert.ok(control.kernel.drops > 0, 'the control loses datagrams: the stall is longer than 16 blocks of 10 ms');
    const s = await run('trickle', undefined);
    t.diagnostic(`default small-ring timeout: ${s.markerSequence.length} of 300 datagrams, ring ${s.ringBytes / RING_BLOCK_SIZE} blocks at the end, kernel ${JSON.stringify(s.kernel)}`);
    assert.equal(s.kernel.drops, 0);
    assert.equal(s.duplicates, 0);
    assert.equal(s.markerSequence.length, 300, 'every datagram, once');
    assert.equal(s.markerSequence.findIndex((n, i) => n !== i), -1, 'in order');
  } finally {
    await scope.close();
  }
});

test('a capture that keeps up stays on its small ring', { skip: netnsSkip || skipWithout('python3'), timeout: 60_000 }, async () => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('nogrow');
    const marker = `ks-nogrow-${process.pid}`;
    const driver = startDriver(ns, { iface: 'lo', initialRingBytes: 32 * RING_BLOCK_SIZE, ringBytes: 128 * RING_BLOCK_SIZE, blockTimeoutMs: 10, initialBlockTimeoutMs: 10, marker, settleMs: 300 });
    assert.equal((await driver.ready).error, undefined);
    await nodeIn(ns, UDP_SENDER, '127.0.0.1', '9', marker, '2000');
    const s = await driver.finish();
    assert.equal(s.markerSequence.length, 2000);
    assert.equal(s.ringBytes, 32 * RING_BLOCK_SIZE);
  } finally {
    await scope.close();
  }
});
