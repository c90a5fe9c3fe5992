import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope, requireNetns } from '../../../test/helpers/netns.ts';
import {
  BPF_ABS,
  BPF_B,
  BPF_H,
  BPF_JEQ,
  BPF_JMP,
  BPF_LD,
  BPF_RET,
  BPF_W,
  SKF_AD_IFINDEX,
  SKF_AD_OFF,
  SKF_AD_PKTTYPE,
  SKF_AD_PROTOCOL,
  SNAP_LENGTH,
  asm,
  assemble,
  captureFilter,
  encodeFilter,
  filterProblems,
  type SockFilter,
} from './socket-filter.ts';
import { HTTP_LOOPBACK, PYTHON_PING, UDP_SENDER, nodeIn, startDriver } from '../../../test/helpers/live-capture.ts';
import { hasCommand, skipFor } from '../../../test/helpers/requirements.ts';

interface SkbFacts {
  readonly protocol: number;
  readonly pkttype: number;
  readonly ifindex: number;
}

/** Runs the subset of classic BPF our assembler emits, with the kernel's rules for loads past the end. */
function runFilter(program: readonly SockFilter[], packet: Uint8Array, skb: SkbFacts): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    if ((code & 0x07) === BPF_LD && (code & 0xe0) === BPF_ABS) {
      const off = k | 0;
      if (off < 0) {
        const field = off - SKF_AD_OFF;
        if (field === SKF_AD_PROTOCOL) a = skb.protocol;
        else if (field === SKF_AD_PKTTYPE) a = skb.pkttype;
        else if (field === SKF_AD_IFINDEX) a = skb.ifindex;
        else throw new Error(`ancillary field ${field} not modelled`);
        continue;
      }
      const size = (code & 0x18) === BPF_W ? 4 : (code & 0x18) === BPF_H ? 2 : 1;
      if (off + size > packet.length) return 0;
      a = 0;
      for (let i = 0; i < size; i++) a = (a << 8) | packet[off + i]!;
      a >>>= 0;
    } else if (code === (BPF_JMP | BPF_JEQ)) {
      pc += a === k ? jt : jf;
    } else if ((code & 0x07) === BPF_RET) {
      return k;
    } else {
      throw new Error(`opcode ${code.toString(16)} not modelled`);
    }
  }
  throw new Error('ran off the end');
}

function ipv4(proto: number): Uint8Array {
  const p = new Uint8Array(28);
  p[0] = 0x45;
  p[9] = proto;
  return p;
}

function ipv6(nextHeader: number): Uint8Array {
  const p = new Uint8Array(48);
  p[0] = 0x60;
  p[6] = nextHeader;
  return p;
}

const HOST = 0;
const OUTGOING = 4;
const LO = 1;
const ETH = 7;

test('the capture filter is well-formed: jumps stay inside, it ends in RET, the kernel size limit holds', () => {
  for (const loopbackIfindex of [1, 42, null]) {
    const program = captureFilter({ loopbackIfindex });
    assert.deepEqual(filterProblems(program), [], `lo=${loopbackIfindex}`);
    assert.equal(encodeFilter(program).length, program.length * 8);
  }
  assert.ok(captureFilter({ loopbackIfindex: 1 }).length > captureFilter({ loopbackIfindex: null }).length);
});

test('assembler: labels become forward offsets; unknown, duplicate and backward labels are refused', () => {
  const { ld, jeq, ret, label } = asm;
  assert.deepEqual(assemble([ld('h', 12), jeq(0x800, 'yes', 'no'), label('no'), ret(0), label('yes'), ret(99)]), [
    { code: BPF_LD | BPF_H | BPF_ABS, jt: 0, jf: 0, k: 12 },
    { code: BPF_JMP | BPF_JEQ, jt: 1, jf: 0, k: 0x800 },
    { code: BPF_RET, jt: 0, jf: 0, k: 0 },
    { code: BPF_RET, jt: 0, jf: 0, k: 99 },
  ]);
  assert.equal(assemble([asm.ldAncillary(SKF_AD_PKTTYPE)])[0]!.k, 0xfffff004, 'ancillary offsets are SKF_AD_OFF + n as u32');
  assert.equal(assemble([ld('b', 9)])[0]!.code, BPF_LD | BPF_B | BPF_ABS);
  assert.throws(() => assemble([jeq(1, 'nowhere'), ret(0)]), /unknown label/);
  assert.throws(() => assemble([label('x'), ret(0), label('x'), ret(1)]), /twice/);
  assert.throws(() => assemble([label('back'), ret(0), jeq(1, 'back'), ret(0)]), /forward/);
  assert.deepEqual(filterProblems([{ code: BPF_JMP | BPF_JEQ, jt: 5, jf: 0, k: 0 }, { code: BPF_RET, jt: 0, jf: 0, k: 0 }]), [
    'instruction 0 jumps past the end (+5)',
  ]);
  assert.deepEqual(filterProblems([{ code: BPF_LD, jt: 0, jf: 0, k: 0 }]), ['the last instruction is not a RET']);
});

test('the capture filter keeps TCP/UDP over IPv4 and IPv6 and drops the rest and loopback echoes', () => {
  const program = captureFilter({ loopbackIfindex: LO });
  const run = (packet: Uint8Array, protocol: number, pkttype = HOST, ifindex = ETH): number => runFilter(program, packet, { protocol, pkttype, ifindex });
  assert.equal(run(ipv4(6), 0x0800), SNAP_LENGTH, 'IPv4 TCP');
  assert.equal(run(ipv4(17), 0x0800), SNAP_LENGTH, 'IPv4 UDP');
  assert.equal(run(ipv4(1), 0x0800), 0, 'IPv4 ICMP');
  assert.equal(run(ipv4(132), 0x0800), 0, 'IPv4 SCTP');
  assert.equal(run(ipv6(6), 0x86dd), SNAP_LENGTH, 'IPv6 TCP');
  assert.equal(run(ipv6(17), 0x86dd), SNAP_LENGTH, 'IPv6 UDP');
  for (const ext of [0, 43, 44, 60]) assert.equal(run(ipv6(ext), 0x86dd), SNAP_LENGTH, `IPv6 extension header ${ext}`);
  assert.equal(run(ipv6(58), 0x86dd), 0, 'ICMPv6');
  assert.equal(run(new Uint8Array(28), 0x0806), 0, 'ARP');
  assert.equal(run(new Uint8Array(5), 0x0800), 0, 'a runt IPv4 packet: the load past the end drops it');
  assert.equal(run(ipv4(6), 0x0800, OUTGOING, ETH), SNAP_LENGTH, 'outgoing on a real interface is kept');
  assert.equal(run(ipv4(6), 0x0800, OUTGOING, LO), 0, 'outgoing on lo is the echo of an incoming one');
  assert.equal(run(ipv4(6), 0x0800, HOST, LO), SNAP_LENGTH, 'incoming on lo is kept');
  const noLo = captureFilter({ loopbackIfindex: null });
  assert.equal(runFilter(noLo, ipv4(6), { protocol: 0x0800, pkttype: OUTGOING, ifindex: LO }), SNAP_LENGTH);
});

const skip = skipFor(requireNetns([]));

test('in a namespace, on lo: TCP and UDP frames arrive exactly once, ICMP never', { skip, timeout: 60_000 }, async (t) => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('lo');
    const marker = `ks-udp-${process.pid}`;
    const driver = startDriver(ns, { iface: 'lo', marker });
    const opened = await driver.ready;
    assert.equal(opened.error, undefined, JSON.stringify(opened.error));

    const N = 40;
    // Nobody listens: the kernel answers with ICMP port unreachable, which quotes the datagram (marker included).
    await nodeIn(ns, UDP_SENDER, '127.0.0.1', '9', marker, String(N));
    const http = await nodeIn(ns, HTTP_LOOPBACK, `ks-http-${process.pid}`);
    assert.match(http, /ks-http-/);
    let icmp = 'ICMP: ';
    if (hasCommand('ping')) {
      await ns.execOk('ping', ['-c', '3', '-i', '0.2', '127.0.0.1']);
      icmp += 'ping -c 3';
    } else if (hasCommand('python3')) {
      const replies = (await ns.execOk('python3', ['-c', PYTHON_PING])).stdout.toString().trim();
      assert.ok(Number(replies) >= 1, `the raw ICMP echo got ${replies} replies`);
      icmp += `3 echo requests from a python raw socket (${replies} replies)`;
    } else {
      t.diagnostic('ICMP part skipped: neither ping nor python3 is installed');
      icmp += 'not sent (no ping, no python3)';
    }
    const s = await driver.finish();
    t.diagnostic(`${icmp}; frames ${s.frames} (tcp ${s.tcp}, udp ${s.udp}, other ${s.otherIp}, not IP ${s.notIp}); kernel ${JSON.stringify(s.kernel)}`);
    assert.equal(s.markerFrames, N, 'each UDP datagram exactly once, and no ICMP error quoting it');
    assert.equal(s.udp, N);
    assert.ok(s.tcp >= 8, `a whole HTTP exchange (handshake, request, response, FIN) is ${s.tcp} TCP frames`);
    assert.equal(s.duplicates, 0, 'no loopback duplicates');
    assert.equal(s.otherIp, 0, 'no ICMP');
    assert.equal(s.notIp, 0);
    assert.deepEqual(s.linkTypes, [101]);
    assert.equal(s.kernel.packets, s.frames, 'the kernel counted what we received');
    assert.equal(s.kernel.drops, 0);
    assert.equal(s.onFrameErrors, 0);
    assert.equal(s.corruptBlocks, 0);
  } finally {
    await scope.close();
  }
});
