/**
 * The own-traffic harness itself: namespaces and veths come and go (also leftovers of killed runs),
 * and captureFacts() tells over-MTU frames and unfinished TCP checksums apart from good ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scope, addAddress, addVeth, python3, requireNetns, run, sweepStale } from '../helpers/netns.ts';
import { captureFacts } from '../helpers/capture.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]));

async function namespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.toString('utf8').split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

test('a scope creates connected namespaces and removes them on close, also after a failure', { skip }, async () => {
  const scope = new Scope();
  let names: string[] = [];
  await assert.rejects(async () => {
    try {
      const a = await scope.netns('a');
      const b = await scope.netns('b');
      names = [a.name, b.name];
      await addVeth(a, 'eth0', b, 'eth0');
      await addAddress(a, 'eth0', '10.89.0.1/24');
      await addAddress(b, 'eth0', '10.89.0.2/24');
      assert.match(a.name, new RegExp(`^ks-${process.pid}-\\d+-a$`));
      // A listener in b, a connection from a: the link works.
      const listener = b.spawn(python3(), ['-c', 'import socket;s=socket.socket();s.bind(("10.89.0.2",9));s.listen();print("up",flush=True);c,_=s.accept();c.sendall(b"hello")']);
      await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
      const got = await a.exec(python3(), ['-c', 'import socket;s=socket.create_connection(("10.89.0.2",9));print(s.recv(5).decode())']);
      assert.equal(got.stdout.toString('utf8').trim(), 'hello');
      assert.ok((await namespaces()).includes(a.name));
      throw new Error('failure in the middle of a test');
    } finally {
      await scope.close();
    }
  }, /failure in the middle/);
  const after = await namespaces();
  assert.equal(names.length, 2);
  for (const name of names) assert.ok(!after.includes(name), `${name} was removed`);
});

test('sweepStale removes namespaces and veths of dead test processes, not live ones', { skip }, async () => {
  const deadPid = 4_194_305; // above the largest pid_max: no such process
  const stale = `ks-${deadPid}-1-stale`;
  const staleLink = `ksa${deadPid}x1`;
  const live = `ks-${process.pid}-999-live`;
  await run('ip', ['netns', 'add', stale]);
  await run('ip', ['netns', 'add', live]);
  await run('ip', ['link', 'add', staleLink, 'type', 'veth', 'peer', 'name', `ksb${deadPid}x1`]);
  try {
    const removed = await sweepStale();
    assert.ok(removed.includes(stale), `removed ${removed.join(' ')}`);
    assert.ok(removed.includes(staleLink), `removed ${removed.join(' ')}`);
    const after = await namespaces();
    assert.ok(!after.includes(stale));
    assert.ok(after.includes(live), 'a namespace of a live process stays');
    assert.notEqual((await run('ip', ['link', 'show', staleLink])).code, 0, 'the stale veth is gone');
  } finally {
    await run('ip', ['netns', 'del', stale]);
    await run('ip', ['netns', 'del', live]);
    await run('ip', ['link', 'del', staleLink]);
  }
});

/** An Ethernet/IPv4/TCP frame with `payload` bytes; checksum right or left as offload leaves it. */
function tcpFrame(payload: number, goodChecksum: boolean): Buffer {
  const f = Buffer.alloc(14 + 20 + 20 + payload);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40 + payload, 16);
  f[22] = 64;
  f[23] = 6;
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(f, 26);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(80, 36);
  f[46] = 0x50;
  f[47] = 0x18;
  for (let i = 0; i < payload; i++) f[54 + i] = (i * 7) & 0xff;
  let sum = 0;
  for (let i = 26; i < 34; i += 2) sum += f.readUInt16BE(i);
  sum += 6 + 20 + payload;
  const pseudo = sum;
  for (let i = 34; i + 1 < f.length; i += 2) sum += f.readUInt16BE(i);
  if ((f.length - 34) % 2 === 1) sum += f[f.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  let p = pseudo;
  while (p > 0xffff) p = (p & 0xffff) + (p >>> 16);
  // Checksum offload leaves the folded pseudo-header sum in the field: not a valid checksum.
  f.writeUInt16BE(goodChecksum ? ~sum & 0xffff : p, 50);
  return f;
}

function pcap(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  }
  return Buffer.concat(parts);
}

test('captureFacts counts frames over the MTU and unfinished TCP checksums', () => {
  const dir = mkdtempSync(join(tmpdir(), `ks-facts-${process.pid}-`));
  try {
    const file = join(dir, 'x.pcap');
    writeFileSync(file, pcap([tcpFrame(100, true), tcpFrame(101, true), tcpFrame(1460, false), tcpFrame(20000, false), tcpFrame(0, true)]));
    const facts = captureFacts(file);
    assert.deepEqual(facts, { frames: 5, largestFrame: 20054, overMtuFrames: 1, badTcpChecksums: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
