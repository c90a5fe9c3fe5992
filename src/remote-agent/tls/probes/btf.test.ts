import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { skipFor, skipForFeature, missingCommand } from '../../../../test/helpers/requirements.ts';
import { Btf, BtfError, funcBtfId, kernelBtf, kernelOffsets, VMLINUX_BTF } from './btf.ts';

const noBtf = existsSync(VMLINUX_BTF) ? null : `the kernel exposes no BTF (${VMLINUX_BTF}: CONFIG_DEBUG_INFO_BTF)`;
const noTools = missingCommand('bpftool', 'apt-get install bpftool') ?? missingCommand('clang', 'apt-get install clang');

/**
 * What the compiler says the offsets are: `bpftool btf dump ... format c` turns the kernel's BTF
 * into C declarations, clang lays them out and offsetof prints them: an oracle that shares no code
 * with btf.ts.
 */
function compilerOffsets(fields: readonly string[]): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'ks-btf-'));
  try {
    const header = spawnSync('bpftool', ['btf', 'dump', 'file', VMLINUX_BTF, 'format', 'c'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(header.status, 0, header.stderr);
    writeFileSync(join(dir, 'vmlinux.h'), header.stdout);
    const lines = fields.map((f) => {
      const [struct, ...path] = f.split('.');
      return `  printf("${f} %lu\\n", (unsigned long)__builtin_offsetof(struct ${struct}, ${path.join('.')}));`;
    });
    writeFileSync(
      join(dir, 'offsets.c'),
      `#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include "vmlinux.h"\nint printf(const char *, ...);\nint main(void) {\n${lines.join('\n')}\n  return 0;\n}\n`,
    );
    const cc = spawnSync('clang', ['-w', '-o', join(dir, 'offsets'), join(dir, 'offsets.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const out = spawnSync(join(dir, 'offsets'), [], { encoding: 'utf8' });
    return new Map(out.stdout.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])] as const));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the running kernel BTF', { skip: skipForFeature(noBtf) || skipFor(noTools) }, () => {
  it('kernelOffsets() equals what the compiler lays out from the same BTF', () => {
    const offsets = kernelOffsets();
    const fields: Record<keyof typeof offsets, string> = {
      taskNsproxy: 'task_struct.nsproxy',
      nsproxyNetNs: 'nsproxy.net_ns',
      netNsInum: 'net.ns.inum',
      skcFamily: 'sock.__sk_common.skc_family',
      skcDaddr: 'sock.__sk_common.skc_daddr',
      skcRcvSaddr: 'sock.__sk_common.skc_rcv_saddr',
      skcDport: 'sock.__sk_common.skc_dport',
      inetSport: 'inet_sock.inet_sport',
      skcV6Daddr: 'sock.__sk_common.skc_v6_daddr',
      skcV6RcvSaddr: 'sock.__sk_common.skc_v6_rcv_saddr',
      skProtocol: 'sock.sk_protocol',
      skcNet: 'sock.__sk_common.skc_net',
      taskFiles: 'task_struct.files',
      filesFdt: 'files_struct.fdt',
      fdtMaxFds: 'fdtable.max_fds',
      fdtFd: 'fdtable.fd',
      filePrivateData: 'file.private_data',
      socketFile: 'socket.file',
      socketSk: 'socket.sk',
    };
    const compiler = compilerOffsets(Object.values(fields));
    for (const [key, field] of Object.entries(fields)) {
      assert.equal(offsets[key as keyof typeof offsets], compiler.get(field), field);
    }
    // skc_daddr is in an anonymous struct in an anonymous union, skc_dport likewise: found at depth.
    assert.equal(kernelBtf().memberOffset('sock_common', 'skc_rcv_saddr'), compiler.get('sock.__sk_common.skc_rcv_saddr'));
  });

  it('funcBtfId is the id bpftool lists for the FUNC', () => {
    const raw = spawnSync('bpftool', ['btf', 'dump', 'file', VMLINUX_BTF], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
    for (const fn of ['tcp_sendmsg', 'tcp_recvmsg', 'tcp_close']) {
      const m = new RegExp(`^\\[(\\d+)\\] FUNC '${fn}' `, 'm').exec(raw);
      assert.ok(m, `bpftool lists no FUNC ${fn}`);
      assert.equal(funcBtfId(fn), Number(m[1]), fn);
    }
  });

  it('a bitfield is found with its bit offset and width, and refused as a byte offset', () => {
    const raw = spawnSync('bpftool', ['btf', 'dump', 'file', VMLINUX_BTF], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
    const sock = /^\[\d+\] STRUCT 'sock' size=\d+ vlen=\d+\n((?:\t.*\n)+)/m.exec(raw);
    assert.ok(sock, 'bpftool lists no struct sock');
    const bf = /'(\w+)' type_id=\d+ bits_offset=(\d+) bitfield_size=(\d+)/.exec(sock[1]);
    assert.ok(bf, 'struct sock has no bitfield on this kernel');
    const m = kernelBtf().member('sock', bf[1]);
    assert.deepEqual([m.bitOffset, m.bitSize], [Number(bf[2]), Number(bf[3])]);
    assert.throws(() => kernelBtf().memberOffset('sock', bf[1]), /is a bitfield/);
  });

  it('names what is missing', () => {
    assert.throws(() => kernelBtf().memberOffset('sock_common', 'skc_nonesuch'), (e: unknown) => e instanceof BtfError && e.code === 'BTF_MISSING' && /struct sock_common has no member skc_nonesuch/.test(e.message));
    assert.throws(() => kernelBtf().memberOffset('no_such_struct', 'x'), /has no struct no_such_struct/);
    assert.throws(() => funcBtfId('no_such_function_here'), /has no function no_such_function_here/);
    assert.throws(() => kernelBtf().memberOffset('net', 'ns.inum.deeper'), /struct net\.ns\.inum is not a struct or union/);
  });
});

/** A small BTF blob built by hand: the shapes that matter (anonymous members, bitfields, loops). */
class BtfBuilder {
  readonly #types: number[] = [];
  readonly #strings: string[] = [''];
  #strLen = 1;
  /** Byte offset of each type's record in the blob, by id. */
  readonly at: number[] = [0];

  str(s: string): number {
    if (s === '') return 0;
    const off = this.#strLen;
    this.#strings.push(s);
    this.#strLen += Buffer.byteLength(s) + 1;
    return off;
  }

  type(name: string, kind: number, vlen: number, sizeOrType: number, extra: number[] = [], kindFlag = false): number {
    this.at.push(24 + this.#types.length * 4);
    this.#types.push(this.str(name), ((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return ++this.count;
  }

  count = 0;

  bytes(): Uint8Array {
    const types = new Uint8Array(this.#types.length * 4);
    const tv = new DataView(types.buffer);
    this.#types.forEach((w, i) => tv.setUint32(i * 4, w >>> 0, true));
    const strs = Buffer.from(this.#strings.join('\0') + '\0');
    const out = new Uint8Array(24 + types.length + strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    v.setUint32(4, 24, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, types.length, true);
    v.setUint32(16, types.length, true);
    v.setUint32(20, strs.length, true);
    out.set(types, 24);
    out.set(strs, 24 + types.length);
    return out;
  }
}

function sample(): { bytes: Uint8Array; b: BtfBuilder } {
  const b = new BtfBuilder();
  const int = b.type('int', 1, 0, 4, [32]);
  const inner = b.type('', 4, 2, 8, [b.str('a'), int, 0, b.str('b'), int, 32]); // anonymous struct {a; b;}
  const union = b.type('', 5, 2, 8, [b.str('whole'), int, 0, 0, inner, 0]); // anonymous union {whole; struct {a; b;}}
  const cint = b.type('', 10, 0, int); // const int
  const td = b.type('myint', 8, 0, cint); // typedef const int myint
  // struct outer (kind_flag: bitfield sizes in the offset word) { int x; union {...}; myint bf:3; myint y; }
  b.type('outer', 4, 4, 20, [b.str('x'), td, 0, 0, union, 32, b.str('bf'), td, (3 << 24) | 96, b.str('y'), td, 128], true);
  const proto = b.type('', 13, 0, int);
  b.type('do_thing', 12, 0, proto);
  const loopA = b.type('loop_a', 8, 0, 0);
  b.type('loop_b', 8, 0, loopA);
  b.type('looped', 4, 1, 4, [0, loopA, 0]);
  const bytes = b.bytes();
  // Close the typedef loop: loop_a -> loop_b (type id loopA + 1).
  new DataView(bytes.buffer).setUint32(b.at[loopA] + 8, loopA + 1, true);
  return { bytes, b };
}

describe('Btf on built blobs', () => {
  it('finds members through anonymous unions and structs, typedefs and modifiers, and bitfields', () => {
    const btf = new Btf(sample().bytes, 'sample');
    assert.equal(btf.memberOffset('outer', 'x'), 0);
    assert.equal(btf.memberOffset('outer', 'whole'), 4);
    assert.equal(btf.memberOffset('outer', 'a'), 4);
    assert.equal(btf.memberOffset('outer', 'b'), 8);
    assert.equal(btf.memberOffset('outer', 'y'), 16);
    assert.deepEqual(btf.member('outer', 'bf'), { bitOffset: 96, bitSize: 3, typeId: 5 });
    assert.throws(() => btf.memberOffset('outer', 'bf'), /sample: struct outer member bf is a bitfield \(bit 96, 3 bits\)/);
    assert.equal(btf.funcBtfId('do_thing'), 8);
    assert.throws(() => btf.memberOffset('outer', 'x.deeper'), /struct outer\.x is not a struct or union/);
  });

  it('a typedef loop is an error, not a hang', () => {
    const btf = new Btf(sample().bytes, 'sample');
    assert.throws(() => btf.memberOffset('looped', 'anything'), (e: unknown) => e instanceof BtfError && e.code === 'BTF_INVALID' && /a loop\?/.test(e.message));
  });

  it('refuses bad magic, another version and a header cut short', () => {
    const good = sample().bytes;
    const bad = good.slice();
    // Big-endian BTF (bytes eb 9f) or anything else.
    bad[0] = 0xeb;
    bad[1] = 0x9f;
    assert.throws(() => new Btf(bad, 'x'), /x: bad magic 0x9feb .*another byte order/);
    const v2 = good.slice();
    v2[2] = 2;
    assert.throws(() => new Btf(v2, 'x'), /BTF version 2 is not 1/);
    assert.throws(() => new Btf(good.subarray(0, 10), 'x'), /10 bytes is shorter than a BTF header/);
  });

  it('every truncation is a BtfError naming the problem', () => {
    const good = sample().bytes;
    for (let n = 0; n < good.length; n++) {
      assert.throws(() => new Btf(good.subarray(0, n), 'cut'), (e: unknown) => e instanceof BtfError && e.code === 'BTF_INVALID', `cut at ${n}`);
    }
  });

  it('a type id or string offset out of range is a BtfError', () => {
    const { bytes, b } = sample();
    const v = new DataView(bytes.buffer);
    const outer = b.at[6];
    // struct outer's first member (x): its type becomes 999, then its name a string past the end.
    v.setUint32(outer + 12 + 4, 999, true);
    assert.throws(() => new Btf(bytes, 's').memberOffset('outer', 'x.y'), /type id 999 is out of range/);
    v.setUint32(outer + 12, 0xffff, true);
    assert.throws(() => new Btf(bytes, 's').memberOffset('outer', 'x'), /string offset 65535 is past the string section/);
  });

  it('on any mutation of a valid blob: a result or a BtfError, never another exception', () => {
    const good = sample().bytes;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const bytes = good.slice();
        for (const [at, value] of edits) bytes[at] = value;
        try {
          const btf = new Btf(bytes, 'fuzz');
          for (const [s, p] of [['outer', 'b'], ['outer', 'bf'], ['looped', 'z']]) {
            try {
              btf.member(s, p);
            } catch (e) {
              if (!(e instanceof BtfError)) throw e;
            }
          }
          try {
            btf.funcBtfId('do_thing');
          } catch (e) {
            if (!(e instanceof BtfError)) throw e;
          }
        } catch (e) {
          if (!(e instanceof BtfError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
