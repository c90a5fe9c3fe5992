/**
 * TLS plaintext through OpenSSL uprobes (issue 15, acceptance 1): the agent, `node agent.js capture
 * --tls --iface any` from a copy of the bundle, runs in the server's network namespace; curl
 * (OpenSSL 3) in a client namespace talks to Debian's python3 `ssl` server and to nginx with TLS,
 * TLS 1.2 and 1.3, HTTP/1.1 and HTTP/2 (ALPN), over kept-alive connections, with bodies above
 * 64 KiB both ways. Every request curl made must come out as exactly one entry with `tls: true`, the
 * status and the body sizes curl saw; nothing else may come out (the TLS bytes the packet capture
 * sees on the same connections are not a second copy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { addAddress, addVeth, Scope, requireNetns, waitForPort, type Netns } from '../helpers/netns.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { curlTransfers, isTlsEntry, makeCertificate, startNginx, startPythonHttps, writeNginxConfig, type CurlTransfer, type TlsVersion } from '../helpers/tls-servers.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['curl', 'nginx', 'openssl', '/usr/bin/python3']));
const SERVER_IP = '10.78.0.2';
const CLIENT_IP = '10.78.0.1';
const PORT = 8443;
/** Response bodies: small, just over 64 KiB, several TLS records and many segments. */
const SIZES = [0, 1200, 70_000, 300_000];
const UPLOAD_BYTES = 100_000;

interface Case {
  readonly server: 'python' | 'nginx';
  readonly tls: TlsVersion;
  readonly http2: boolean;
}

const CASES: readonly Case[] = [
  { server: 'python', tls: '1.2', http2: false },
  { server: 'python', tls: '1.3', http2: false },
  { server: 'nginx', tls: '1.2', http2: false },
  { server: 'nginx', tls: '1.3', http2: false },
  { server: 'nginx', tls: '1.2', http2: true },
  { server: 'nginx', tls: '1.3', http2: true },
];

async function topology(scope: Scope): Promise<{ client: Netns; server: Netns; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `ks-tls-${process.pid}-`));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  const client = await scope.netns('tcli');
  const server = await scope.netns('tsrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  return { client, server, dir };
}

/** The agent with --tls, at normal priority (this test is about completeness, not yielding: agent-yield tests that). */
async function tlsAgent(ns: Netns, scope: Scope): Promise<AgentProcess> {
  const agent = startAgent(ns, ['--tls', '--iface', 'any'], { dir: prepareAgentDir(scope), scope });
  const hello = await agent.ready();
  for (const tid of readdirSync(`/proc/${hello.pid}/task`)) setPriority(Number(tid), 0);
  return agent;
}

for (const c of CASES) {
  const name = `${c.server}, TLS ${c.tls}, ${c.http2 ? 'HTTP/2 (ALPN)' : 'HTTP/1.1'}`;
  test(`agent --tls: ${name}: every request curl made is one tls entry with its status and sizes`, { skip, timeout: 120_000 }, async (t) => {
    const scope = new Scope();
    try {
      const { client, server, dir } = await topology(scope);
      const certificate = await makeCertificate(dir, SERVER_IP);
      if (c.server === 'python') {
        await startPythonHttps(server, SERVER_IP, PORT, certificate, c.tls);
      } else {
        startNginx(server, writeNginxConfig({ dir, port: PORT, certificate, tls: c.tls, http2: c.http2, sizes: SIZES }));
        await waitForPort(server, SERVER_IP, PORT);
      }
      const agent = await tlsAgent(server, scope);
      const hooked = await agent.waitFor((f) => f.type === 'warning' && (f.code as string) === 'TLS_HOOKED', 20_000, 'a TLS_HOOKED report for the server');
      t.diagnostic(`hook report: ${JSON.stringify(hooked)}`);

      const base = `https://${SERVER_IP}:${PORT}`;
      const gets = Array.from({ length: 12 }, (_, i) => `/bytes/${SIZES[i % SIZES.length]}?i=${i}`);
      const posts = Array.from({ length: 3 }, (_, i) => `${c.server === 'python' ? '/echo' : '/upload'}?i=${i}`);
      const made: CurlTransfer[] = [
        ...(await curlTransfers(client, { paths: gets, base, http2: c.http2, tls: c.tls, dir })),
        ...(await curlTransfers(client, { paths: posts, base, http2: c.http2, tls: c.tls, dir, uploadBytes: UPLOAD_BYTES })),
      ];
      t.diagnostic(`curl: ${made.length} transfers, ${made.reduce((n, m) => n + m.connects, 0)} connections, HTTP ${[...new Set(made.map((m) => m.httpVersion))].join(',')}`);
      for (const m of made) assert.ok(m.status === 200 || m.status === 201, `${m.path}: curl got ${m.status}`);
      assert.deepEqual([...new Set(made.map((m) => m.httpVersion))], [c.http2 ? '2' : '1.1'], 'ALPN gave the asked version');
      assert.equal(made.reduce((n, m) => n + m.connects, 0), 2, 'keep-alive: one connection per curl run');

      const byPath = (): Map<string, HttpEntry[]> => {
        const map = new Map<string, HttpEntry[]>();
        for (const e of agent.allEntries()) {
          if (!isHttpEntry(e)) continue;
          map.set(e.request.url, [...(map.get(e.request.url) ?? []), e]);
        }
        return map;
      };
      await agent.waitUntil(() => (made.every((m) => byPath().has(m.path)) ? true : undefined), 20_000, 'an entry for every request curl made');
      // Late copies (a second sighting) would come right after: give them a moment.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const found = byPath();
      for (const m of made) {
        const entries = found.get(m.path) ?? [];
        assert.equal(entries.length, 1, `${m.path}: ${entries.length} entries`);
        const e = entries[0]!;
        assert.ok(isTlsEntry(e), `${m.path}: tls: true`);
        assert.equal(e.request.method, m.method, `${m.path}: method`);
        assert.equal(e.response?.status, m.status, `${m.path}: status`);
        assert.equal(e.response?.content.size, m.downloaded, `${m.path}: response size`);
        assert.equal(e.request.bodySize, m.uploaded, `${m.path}: request size`);
        assert.equal(e.protocol.version, c.http2 ? '2.0' : '1.1', `${m.path}: HTTP version`);
        assert.equal(e.dst.ip, SERVER_IP, `${m.path}: server address`);
        assert.equal(e.dst.port, PORT, `${m.path}: server port`);
        assert.equal(e.src.ip, CLIENT_IP, `${m.path}: client address`);
      }
      const strangers = [...found.keys()].filter((url) => !made.some((m) => m.path === url));
      assert.deepEqual(strangers, [], 'entries for requests nobody made');
      const stats = agent.lastStats();
      t.diagnostic(`stats: ${JSON.stringify(stats)}`);
      const exit = await agent.stop(5000);
      assert.equal(exit.code, 0, agent.stderr);
    } finally {
      await scope.close();
    }
  });
}
