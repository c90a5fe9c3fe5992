/**
 * Sockets of hooked processes through /proc, against real sockets: a process in its own network
 * namespace with a LISTEN socket (IPv4, and a dual-stack IPv6 one that IPv4 clients reach as
 * `::ffff:a.b.c.d`), a client connection to each; its fds resolve to their 4-tuples and its listening
 * ports make it the server, as the agent in that namespace would see them. Needs root (skips
 * with the reason otherwise); run under the shared lock.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { skipFor } from '../../../test/helpers/requirements.ts';
import type { Entry } from '../../model/entry.ts';
import { CapturePipeline } from '../capture-pipeline.ts';
import type { HttpEntry } from '../dissect/http1/entry.ts';
import { newCaptureStats } from '../stats.ts';
import { parseTcpTable, ProcSocketLookup } from './proc-sockets.ts';
import { python3, requireNetns, Scope } from '../../../test/helpers/netns.ts';

test('parseTcpTable reads this process\'s real LISTEN socket out of /proc/self/net/tcp', async () => {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  try {
    const rows = parseTcpTable(readFileSync('/proc/self/net/tcp', 'latin1'), 4);
    const row = rows.find((r) => r.localPort === port);
    assert.ok(row, `port ${port} in ${rows.length} rows`);
    assert.deepEqual([row.localIp, row.state, row.remoteIp, row.remotePort], ['127.0.0.1', 10, '0.0.0.0', 0]);
    assert.ok(row.inode > 0);
    assert.equal(new ProcSocketLookup().isListening(process.pid, '127.0.0.1', port), true);
    assert.equal(new ProcSocketLookup().isListening(process.pid, '127.0.0.1', port === 65535 ? 1 : port + 1), false);
  } finally {
    server.close();
  }
});

test('parseTcpTable: IPv6 words, v4-mapped addresses, and lines that do not parse', () => {
  const text = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
    '   1: 0000000000000000FFFF00000100007F:24CC 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1',
    '   2: 20010DB8000000000000000000000001:01BB zz:0000 01 x x x x 0 0 1',
    '   3: short',
  ].join('\n');
  const rows = parseTcpTable(text, 6);
  assert.deepEqual(
    rows.map((r) => `${r.localIp}:${r.localPort} ${r.remoteIp}:${r.remotePort} ${r.state} ${r.inode}`),
    ['::1:8080 :::0 10 4242', '::ffff:127.0.0.1:9420 ::ffff:127.0.0.1:50000 1 4343'],
  );
});

test('in a network namespace: fds resolve to their tuples, LISTEN ports (IPv4 and dual-stack IPv6) make the server, plaintext gets its roles', { skip: skipFor(requireNetns(['python3'])) }, async () => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('sock');
    await ns.execOk('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
    await ns.execOk('sysctl', ['-q', '-w', 'net.ipv6.conf.lo.disable_ipv6=0']);
    const script = [
      'import socket, sys, time',
      's4 = socket.socket(); s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s4.bind(("0.0.0.0", 8443)); s4.listen()',
      's6 = socket.socket(socket.AF_INET6); s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s6.bind(("::", 9443)); s6.listen()',
      'c4 = socket.create_connection(("127.0.0.1", 8443)); a4, _ = s4.accept()',
      'c6 = socket.create_connection(("127.0.0.1", 9443)); a6, _ = s6.accept()',
      'print(c4.fileno(), c4.getsockname()[1], a4.fileno(), c6.fileno(), c6.getsockname()[1], a6.fileno(), flush=True)',
      'time.sleep(60)',
    ].join('\n');
    const child = ns.spawn(python3(), ['-c', script]);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`python exited ${code}`)));
    });
    const [c4, c4Port, a4, c6, c6Port, a6] = line.split(' ').map(Number) as [number, number, number, number, number, number];
    const pid = child.pid!;
    const lookup = new ProcSocketLookup();
    assert.deepEqual(lookup.tupleOfFd(pid, c4), { family: 4, localIp: '127.0.0.1', localPort: c4Port, remoteIp: '127.0.0.1', remotePort: 8443 });
    assert.deepEqual(lookup.tupleOfFd(pid, a4), { family: 4, localIp: '127.0.0.1', localPort: 8443, remoteIp: '127.0.0.1', remotePort: c4Port });
    // An IPv4 client of the dual-stack listener: the kernel's ::ffff:127.0.0.1, as IPv4 on the wire.
    assert.deepEqual(lookup.tupleOfFd(pid, a6), { family: 4, localIp: '127.0.0.1', localPort: 9443, remoteIp: '127.0.0.1', remotePort: c6Port });
    assert.deepEqual(lookup.tupleOfFd(pid, c6), { family: 4, localIp: '127.0.0.1', localPort: c6Port, remoteIp: '127.0.0.1', remotePort: 9443 });
    assert.equal(lookup.tupleOfFd(pid, 0), null, 'stdin is not a socket');
    assert.equal(lookup.tupleOfFd(pid, 999), null, 'no such fd');
    assert.deepEqual([lookup.isListening(pid, '127.0.0.1', 8443), lookup.isListening(pid, '127.0.0.1', 9443), lookup.isListening(pid, '127.0.0.1', c4Port)], [true, true, false]);
    // The tables are the namespace's: this test process's own namespace has no such listener.
    assert.equal(lookup.isListening(process.pid, '127.0.0.1', 8443) === true && lookup.isListening(process.pid, '127.0.0.1', 9443) === true, false);
    assert.equal(lookup.isListening(2 ** 22 + 7, '127.0.0.1', 8443), null, 'no such process');

    // Plaintext records of both ends of the 8443 connection, by fd only (as Go's carry them): the
    // server end is known by its LISTEN socket, so the entry runs client -> server either way.
    for (const [fd, hooked] of [[a4, 'server'], [c4, 'client']] as const) {
      const stats = newCaptureStats();
      const entries: Entry[] = [];
      const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(e) }, { tls: { sockets: lookup } });
      const base = { tsUs: Date.now() * 1000, pid, tid: pid, library: 'go' as const, connId: 0xc0ffeen, fd, tuple: null, streamOffset: 0 };
      const request = new TextEncoder().encode('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
      const response = new TextEncoder().encode('HTTP/1.1 204 No Content\r\n\r\n');
      pipeline.tlsEvents([
        { kind: 'data', ...base, direction: hooked === 'client' ? 'write' : 'read', bytes: request },
        { kind: 'data', ...base, tsUs: base.tsUs + 100, direction: hooked === 'client' ? 'read' : 'write', bytes: response },
      ]);
      pipeline.finish();
      const e = entries[0] as HttpEntry | undefined;
      assert.deepEqual([entries.length, e?.src.port, e?.dst.port, e?.response?.status, e?.tls], [1, c4Port, 8443, 204, true], hooked);
    }
  } finally {
    await scope.close();
  }
});
