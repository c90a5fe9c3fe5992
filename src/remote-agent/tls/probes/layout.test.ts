import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { skipWithout } from '../../../../test/helpers/requirements.ts';
import type { TlsEvent } from '../events.ts';
import {
  CONFIG,
  decodeRecord,
  encodeConfig,
  kernelDevT,
  RECORD,
  STRUCT_SIZES,
  TLS_CHUNK_MAX,
  TLS_CHUNKS_PER_CALL,
  TlsRecordError,
  TUPLE,
  type KernelOffsets,
} from './layout.ts';

const HEADER = resolve(import.meta.dirname, '../../../../bpf/tls.h');

/** Every size, offset and constant of bpf/tls.h, printed as `name value` lines by a C program built from the header. */
function cLayout(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'ks-layout-'));
  try {
    const fields: [string, string][] = [
      ['tls_record', 'ts_ns'],
      ['tls_record', 'conn_id'],
      ['tls_record', 'stream_offset'],
      ['tls_record', 'length'],
      ['tls_record', 'pid'],
      ['tls_record', 'tid'],
      ['tls_record', 'fd'],
      ['tls_record', 'kind'],
      ['tls_record', 'library'],
      ['tls_record', 'direction'],
      ['tls_record', 'tuple'],
      ['tls_tuple', 'family'],
      ['tls_tuple', 'local_port'],
      ['tls_tuple', 'remote_port'],
      ['tls_tuple', 'local_ip'],
      ['tls_tuple', 'remote_ip'],
      ['tls_config', 'pidns_dev'],
      ['tls_config', 'pidns_ino'],
      ['tls_config', 'netns_ino'],
      ['tls_config', 'ready'],
      ['tls_config', 'off_task_nsproxy'],
      ['tls_config', 'off_nsproxy_net_ns'],
      ['tls_config', 'off_net_ns_inum'],
      ['tls_config', 'off_skc_family'],
      ['tls_config', 'off_skc_daddr'],
      ['tls_config', 'off_skc_rcv_saddr'],
      ['tls_config', 'off_skc_dport'],
      ['tls_config', 'off_inet_sport'],
      ['tls_config', 'off_skc_v6_daddr'],
      ['tls_config', 'off_skc_v6_rcv_saddr'],
      ['tls_config', 'off_sk_protocol'],
      ['tls_config', 'off_skc_net'],
      ['tls_config', 'off_task_files'],
      ['tls_config', 'off_files_fdt'],
      ['tls_config', 'off_fdt_max_fds'],
      ['tls_config', 'off_fdt_fd'],
      ['tls_config', 'off_file_private_data'],
      ['tls_config', 'off_socket_file'],
      ['tls_config', 'off_socket_sk'],
      ['tls_config', 'pad'],
    ];
    const structs = ['tls_record', 'tls_tuple', 'tls_config', 'tls_record_buf', 'tls_call', 'tls_go_key', 'tls_conn_key', 'tls_conn_bytes', 'tls_map_def'];
    const constants = ['TLS_CHUNK_MAX', 'TLS_CHUNKS_PER_CALL', 'TLS_KIND_DATA', 'TLS_KIND_SKIP', 'TLS_KIND_CLOSE', 'TLS_LIBRARY_OPENSSL', 'TLS_LIBRARY_GO', 'TLS_DIRECTION_WRITE', 'TLS_DIRECTION_READ'];
    const lines = [
      ...fields.map(([s, f]) => `  printf("${s}.${f} %zu\\n", offsetof(struct ${s}, ${f}));`),
      ...structs.map((s) => `  printf("sizeof.${s} %zu\\n", sizeof(struct ${s}));`),
      ...constants.map((c) => `  printf("${c} %d\\n", (int)(${c}));`),
    ];
    const src = join(dir, 'layout.c');
    writeFileSync(src, `#include <stddef.h>\n#include <stdio.h>\n#include "${HEADER}"\nint main(void) {\n${lines.join('\n')}\n  return 0;\n}\n`);
    const exe = join(dir, 'layout');
    const cc = spawnSync('clang', ['-Wall', '-Werror', '-o', exe, src], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `clang could not build the layout printer: ${cc.stderr}`);
    const out = spawnSync(exe, [], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return new Map(
      out.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const [k, v] = l.split(' ');
          return [k, Number(v)] as const;
        }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('layout.ts mirrors bpf/tls.h', { skip: skipWithout('clang') }, () => {
  it('every size, offset and constant matches what the compiler lays out', () => {
    const c = cLayout();
    const want = new Map<string, number>();
    const table = (struct: string, t: Record<string, number>, rename: (k: string) => string): void => {
      for (const [k, v] of Object.entries(t)) want.set(k === 'size' ? `sizeof.${struct}` : `${struct}.${rename(k)}`, v);
    };
    table('tls_record', RECORD, snake);
    table('tls_tuple', TUPLE, snake);
    table('tls_config', CONFIG, snake);
    for (const [k, v] of Object.entries(STRUCT_SIZES)) want.set(`sizeof.${k}`, v);
    want.set('TLS_CHUNK_MAX', TLS_CHUNK_MAX);
    want.set('TLS_CHUNKS_PER_CALL', TLS_CHUNKS_PER_CALL);
    want.set('TLS_KIND_DATA', 1);
    want.set('TLS_KIND_SKIP', 2);
    want.set('TLS_KIND_CLOSE', 3);
    want.set('TLS_LIBRARY_OPENSSL', 1);
    want.set('TLS_LIBRARY_GO', 2);
    want.set('TLS_DIRECTION_WRITE', 1);
    want.set('TLS_DIRECTION_READ', 2);
    // Both ways: nothing in TypeScript the header lacks, nothing in the header TypeScript lacks.
    assert.deepEqual(Object.fromEntries([...want].sort()), Object.fromEntries([...c].sort()));
  });
});

/** Builds a record the way tls.bpf.c does, for the decoder tests. */
interface RecordSpec {
  kind: number;
  tsNs?: bigint;
  connId?: bigint;
  streamOffset?: bigint;
  length?: bigint;
  pid?: number;
  tid?: number;
  fd?: number;
  library?: number;
  direction?: number;
  family?: number;
  localIp?: number[];
  remoteIp?: number[];
  localPort?: number;
  remotePort?: number;
  data?: Uint8Array;
}

function record(spec: RecordSpec): Uint8Array {
  const data = spec.data ?? new Uint8Array(0);
  const b = new Uint8Array(RECORD.size + data.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(RECORD.tsNs, spec.tsNs ?? 5_000_000n, true);
  v.setBigUint64(RECORD.connId, spec.connId ?? 0x55aa_0000_1234n, true);
  v.setBigUint64(RECORD.streamOffset, spec.streamOffset ?? 0n, true);
  v.setBigUint64(RECORD.length, spec.length ?? BigInt(data.length), true);
  v.setUint32(RECORD.pid, spec.pid ?? 42, true);
  v.setUint32(RECORD.tid, spec.tid ?? 43, true);
  v.setInt32(RECORD.fd, spec.fd ?? -1, true);
  b[RECORD.kind] = spec.kind;
  b[RECORD.library] = spec.library ?? 1;
  b[RECORD.direction] = spec.direction ?? 1;
  const t = RECORD.tuple;
  b[t + TUPLE.family] = spec.family ?? 0;
  v.setUint16(t + TUPLE.localPort, spec.localPort ?? 0, true);
  v.setUint16(t + TUPLE.remotePort, spec.remotePort ?? 0, true);
  b.set(spec.localIp ?? [], t + TUPLE.localIp);
  b.set(spec.remoteIp ?? [], t + TUPLE.remoteIp);
  b.set(data, RECORD.size);
  return b;
}

const decode = (b: Uint8Array, clockOffsetUs = 0): TlsEvent => decodeRecord(new DataView(b.buffer, b.byteOffset, b.byteLength), 0, b.byteLength, clockOffsetUs);
const V4MAPPED = (a: number[]): number[] => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...a];

describe('decodeRecord', () => {
  it('decodes a data record: copied bytes, wall-clock microseconds, IPv4 tuple', () => {
    const ring = new Uint8Array(4096);
    const rec = record({
      kind: 1,
      tsNs: 7_123_456_789n,
      connId: 0xdead_beefn,
      streamOffset: 100n,
      pid: 7,
      tid: 8,
      fd: 5,
      library: 2,
      direction: 2,
      family: 4,
      localIp: [10, 0, 0, 1],
      localPort: 443,
      remoteIp: [10, 0, 0, 2],
      remotePort: 51000,
      data: new TextEncoder().encode('GET / HTTP/1.1\r\n'),
    });
    ring.set(rec, 1000);
    const ev = decodeRecord(new DataView(ring.buffer), 1000, rec.length, 1_700_000_000_000_000);
    assert.deepEqual(ev, {
      kind: 'data',
      tsUs: 1_700_000_000_000_000 + 7_123_456,
      pid: 7,
      tid: 8,
      library: 'go',
      direction: 'read',
      connId: 0xdead_beefn,
      fd: 5,
      tuple: { family: 4, localIp: '10.0.0.1', localPort: 443, remoteIp: '10.0.0.2', remotePort: 51000 },
      streamOffset: 100,
      bytes: new TextEncoder().encode('GET / HTTP/1.1\r\n'),
    });
    // The ring's memory is reused after the callback: the event owns its bytes.
    ring.fill(0);
    assert.equal(new TextDecoder().decode((ev as { bytes: Uint8Array }).bytes), 'GET / HTTP/1.1\r\n');
  });

  it('formats IPv6 as RFC 5952 text and turns a v4-mapped pair into IPv4', () => {
    const v6 = decode(record({ kind: 2, length: 5000n, family: 6, localIp: [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1], remoteIp: [0xfe, 0x80, ...new Array<number>(13).fill(0), 2] }));
    assert.deepEqual(v6.kind === 'skip' && [v6.tuple, v6.lostBytes, v6.fd], [{ family: 6, localIp: '2001:db8::1', localPort: 0, remoteIp: 'fe80::2', remotePort: 0 }, 5000, -1]);
    const mapped = decode(record({ kind: 3, family: 6, localIp: V4MAPPED([127, 0, 0, 1]), localPort: 8443, remoteIp: V4MAPPED([127, 0, 0, 1]), remotePort: 40000 }));
    assert.deepEqual(mapped, { kind: 'close', tsUs: 5000, pid: 42, tuple: { family: 4, localIp: '127.0.0.1', localPort: 8443, remoteIp: '127.0.0.1', remotePort: 40000 } });
  });

  it('an unknown socket (family 0) is a null tuple', () => {
    const ev = decode(record({ kind: 1, data: new Uint8Array([1]) }));
    assert.equal(ev.kind === 'data' && ev.tuple, null);
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['a header cut short', () => record({ kind: 1 }).subarray(0, RECORD.size - 1), /shorter than its 88-byte header/],
    ['an unknown kind', () => record({ kind: 9 }), /unknown record kind 9/],
    ['an unknown library', () => record({ kind: 1, library: 3, data: new Uint8Array(1) }), /unknown library 3/],
    ['an unknown direction', () => record({ kind: 1, direction: 0, data: new Uint8Array(1) }), /unknown direction 0/],
    ['a family that is neither 4 nor 6', () => record({ kind: 1, family: 2, data: new Uint8Array(1) }), /family 2/],
    ['a length that disagrees with the record', () => record({ kind: 1, length: 10n, data: new Uint8Array(4) }), /says 10 bytes but carries 4/],
    ['an empty data record', () => record({ kind: 1 }), /data record of 0 bytes/],
    ['a chunk over 16 KiB', () => record({ kind: 1, length: BigInt(TLS_CHUNK_MAX + 1) }), /data record of 16385 bytes/],
    ['a skip record carrying data', () => record({ kind: 2, length: 3n, data: new Uint8Array(3) }), /skip record of 91 bytes/],
    ['a close record without a tuple', () => record({ kind: 3 }), /close record without a socket tuple/],
    ['a stream offset past 2^53', () => record({ kind: 2, length: 1n, streamOffset: 1n << 60n }), /stream offset/],
  ];
  for (const [name, make, message] of bad) {
    it(`throws TlsRecordError on ${name}`, () => {
      assert.throws(() => decode(make()), (err: unknown) => err instanceof TlsRecordError && err.code === 'TLS_BAD_RECORD' && message.test(err.message));
    });
  }

  it('never reads outside the view it was given', () => {
    const rec = record({ kind: 1, data: new Uint8Array(10) });
    const view = new DataView(rec.buffer, 0, rec.length - 1);
    assert.throws(() => decodeRecord(view, 0, rec.length, 0), /outside the 97-byte view/);
    assert.throws(() => decodeRecord(new DataView(rec.buffer), -1, 10, 0), TlsRecordError);
  });

  it('on any bytes, returns an event or throws TlsRecordError (nothing else)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(300), fc.nat(300), (bytes, offset, length) => {
        try {
          decodeRecord(new DataView(bytes.buffer), offset, length, 0);
        } catch (err) {
          if (!(err instanceof TlsRecordError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encodeConfig', () => {
  const offsets: KernelOffsets = {
    taskNsproxy: 3000,
    nsproxyNetNs: 48,
    netNsInum: 152,
    skcFamily: 16,
    skcDaddr: 0,
    skcRcvSaddr: 4,
    skcDport: 12,
    inetSport: 782,
    skcV6Daddr: 56,
    skcV6RcvSaddr: 72,
    skProtocol: 514,
    skcNet: 48,
    taskFiles: 3100,
    filesFdt: 32,
    fdtMaxFds: 0,
    fdtFd: 8,
    filePrivateData: 200,
    socketFile: 16,
    socketSk: 24,
  };

  it('writes every field little-endian at its offset, ready set, the PID namespace device as the kernel dev_t', () => {
    // st_dev of nsfs is (0, 4); a large minor checks glibc's split encoding: major 3, minor 0x12345.
    const stDev = (3n << 8n) | 0x45n | (0x123n << 20n);
    const bytes = encodeConfig({ pidNsDev: stDev, pidNsIno: 4026531836n, netNsIno: 4026531840n, offsets });
    const v = new DataView(bytes.buffer);
    assert.equal(bytes.length, CONFIG.size);
    assert.equal(v.getBigUint64(CONFIG.pidnsDev, true), (3n << 20n) | 0x12345n);
    assert.equal(v.getBigUint64(CONFIG.pidnsIno, true), 4026531836n);
    assert.equal(v.getUint32(CONFIG.netnsIno, true), 4026531840);
    assert.equal(v.getUint32(CONFIG.ready, true), 1);
    assert.deepEqual(
      [CONFIG.offTaskNsproxy, CONFIG.offNsproxyNetNs, CONFIG.offNetNsInum, CONFIG.offSkcFamily, CONFIG.offSkcDaddr, CONFIG.offSkcRcvSaddr, CONFIG.offSkcDport, CONFIG.offInetSport, CONFIG.offSkcV6Daddr, CONFIG.offSkcV6RcvSaddr, CONFIG.offSkProtocol, CONFIG.offSkcNet,
        CONFIG.offTaskFiles, CONFIG.offFilesFdt, CONFIG.offFdtMaxFds, CONFIG.offFdtFd, CONFIG.offFilePrivateData, CONFIG.offSocketFile, CONFIG.offSocketSk].map((o) => v.getUint32(o, true)),
      [3000, 48, 152, 16, 0, 4, 12, 782, 56, 72, 514, 48, 3100, 32, 0, 8, 200, 16, 24],
    );
  });

  it('the kernel dev_t of nsfs is its minor', () => {
    assert.equal(kernelDevT(4n), 4n);
  });

  it('refuses what does not fit', () => {
    assert.throws(() => encodeConfig({ pidNsDev: 4n, pidNsIno: 1n, netNsIno: 1n << 32n, offsets }), /does not fit 32 bits/);
    assert.throws(() => encodeConfig({ pidNsDev: 4n, pidNsIno: 1n, netNsIno: 1n, offsets: { ...offsets, inetSport: -1 } }), /inetSport = -1/);
    assert.throws(() => kernelDevT(1n << 44n), /32-bit dev_t/);
  });
});
