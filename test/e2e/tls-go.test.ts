/**
 * TLS plaintext through Go crypto/tls probes (issue 15, acceptance 2): test/fixtures/go-tls built
 * here with Debian's Go toolchain (std lib only, offline). With its symbol table, the server (agent
 * in the server's network namespace) and the client (another agent in the client's) each give one
 * `tls: true` entry per request, HTTP/1.1 and HTTP/2, bodies above 64 KiB both ways (the client
 * lives for milliseconds: its binary is hooked through an idle process of the same file). Stripped
 * (`-ldflags='-s -w'`): the agent reports TLS_NOT_HOOKED with the stripped reason for the server's
 * pid, and the Go program goes on serving (a probe at a wrong place would crash it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import type { NoticeFrame } from '../../src/remote-agent/wire/protocol.ts';
import { addAddress, addVeth, alive, Scope, requireNetns, type Netns } from '../helpers/netns.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { buildGoTls, requireGo } from '../helpers/go-tls.ts';
import { isTlsEntry, spawnUntil } from '../helpers/tls-servers.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]) ?? requireGo());
const SERVER_IP = '10.79.0.2';
const CLIENT_IP = '10.79.0.1';
const PORT = 9443;
const REQUESTS = 5;

let built: { dir: string; plain: string; stripped: string } | undefined;

/** Both builds once for the file (about 2 s each with a warm cache). */
function binaries(): { plain: string; stripped: string } {
  if (built === undefined) {
    const dir = mkdtempSync(join(tmpdir(), `ks-go-tls-${process.pid}-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    built = { dir, plain: buildGoTls(dir), stripped: buildGoTls(dir, { stripped: true }) };
  }
  return built;
}

async function topology(scope: Scope): Promise<{ client: Netns; server: Netns }> {
  const client = await scope.netns('gcli');
  const server = await scope.netns('gsrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  return { client, server };
}

async function tlsAgent(ns: Netns, scope: Scope): Promise<AgentProcess> {
  const agent = startAgent(ns, ['--tls', '--iface', 'any'], { dir: prepareAgentDir(scope), scope });
  const hello = await agent.ready();
  for (const tid of readdirSync(`/proc/${hello.pid}/task`)) setPriority(Number(tid), 0);
  return agent;
}

function hookReports(agent: AgentProcess): NoticeFrame[] {
  return agent.frames.filter((f): f is NoticeFrame => f.type === 'warning' && ((f.code as string) === 'TLS_HOOKED' || (f.code as string) === 'TLS_NOT_HOOKED'));
}

/** Runs the Go client: REQUESTS requests to `path` over one connection; its "STATUS PROTO BYTES" lines. */
async function goClient(ns: Netns, binary: string, path: string, http2: boolean, body: number): Promise<string[]> {
  const r = await ns.execOk(binary, [http2 ? 'client' : 'client1', `https://${SERVER_IP}:${PORT}${path}`, String(REQUESTS), String(body)]);
  return r.stdout.toString('utf8').trim().split('\n');
}


for (const http2 of [false, true]) {
  test(`Go with symbols, ${http2 ? 'HTTP/2' : 'HTTP/1.1'}: server and client each give one tls entry per request`, { skip, timeout: 180_000 }, async (t) => {
    const scope = new Scope();
    try {
      const { plain } = binaries();
      const { client, server } = await topology(scope);
      const goServer = await spawnUntil(server, plain, ['server', `${SERVER_IP}:${PORT}`], 'listening', 'the Go server');
      // The client lives a few milliseconds, less than the agent's rescan period: an idle server of
      // the same binary in the client's namespace gets it hooked first. Probes are per file, so
      // they fire in the client process too (in the client agent's namespaces).
      await spawnUntil(client, plain, ['server', `${CLIENT_IP}:${PORT}`], 'listening', 'the idle Go process in the client namespace');
      const serverAgent = await tlsAgent(server, scope);
      const clientAgent = await tlsAgent(client, scope);
      await serverAgent.waitFor((f) => f.type === 'warning' && (f.code as string) === 'TLS_HOOKED', 30_000, 'the Go server hooked');
      await clientAgent.waitFor((f) => f.type === 'warning' && (f.code as string) === 'TLS_HOOKED', 30_000, 'the Go binary hooked in the client namespace');
      t.diagnostic(`server agent: ${JSON.stringify(hookReports(serverAgent))}`);

      const download = `/bytes/70000`;
      const upload = `/upload-${http2 ? 'h2' : 'h1'}`;
      const got = [...(await goClient(client, plain, download, http2, 0)), ...(await goClient(client, plain, upload, http2, 100_000))];
      t.diagnostic(`client: ${got.join(' | ')}`);
      const proto = http2 ? 'HTTP/2.0' : 'HTTP/1.1';
      assert.deepEqual(got, [...Array(REQUESTS).fill(`200 ${proto} 70000`), ...Array(REQUESTS).fill(`200 ${proto} ${`ok POST ${upload} 100000\n`.length}`)]);
      t.diagnostic(`client agent: ${JSON.stringify(hookReports(clientAgent))}`);

      for (const [side, agent] of [['server', serverAgent], ['client', clientAgent]] as const) {
        const of = (path: string): HttpEntry[] => agent.allEntries().filter(isHttpEntry).filter((e) => e.request.path === path);
        await agent.waitUntil(() => (of(download).length >= REQUESTS && of(upload).length >= REQUESTS ? true : undefined), 20_000, `${side}: ${REQUESTS} entries of each`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        t.diagnostic(`${side} entries: ${agent.allEntries().filter(isHttpEntry).map((e) => `${e.id} ${e.request.method} ${e.request.path} ${e.response?.status ?? e.error?.msg}`).join(' | ')}`);
        t.diagnostic(`${side} stats: ${JSON.stringify(agent.frames.filter((f) => f.type === 'stats').at(-1))}`);
        assert.equal(of(download).length, REQUESTS, `${side}: downloads once each`);
        assert.equal(of(upload).length, REQUESTS, `${side}: uploads once each`);
        for (const e of [...of(download), ...of(upload)]) {
          assert.ok(isTlsEntry(e), `${side} ${e.id}: tls: true`);
          assert.equal(e.response?.status, 200, `${side} ${e.id}`);
          assert.equal(e.protocol.version, http2 ? '2.0' : '1.1', `${side} ${e.id}`);
          assert.equal(e.dst.ip, SERVER_IP);
          assert.equal(e.dst.port, PORT);
        }
        for (const e of of(download)) assert.equal(e.response?.content.size, 70_000);
        for (const e of of(upload)) assert.equal(e.request.bodySize, 100_000);
        const exit = await agent.stop(5000);
        assert.equal(exit.code, 0, agent.stderr);
      }
      assert.ok(alive(goServer.pid!), 'the Go server still runs');
    } finally {
      await scope.close();
    }
  });
}

test("Go stripped (-ldflags='-s -w'): TLS_NOT_HOOKED with the stripped reason, and the server keeps serving", { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const { stripped, plain } = binaries();
    const { client, server } = await topology(scope);
    const goServer = await spawnUntil(server, stripped, ['server', `${SERVER_IP}:${PORT}`], 'listening', 'the stripped Go server');
    const agent = await tlsAgent(server, scope);
    const report = await agent.waitFor(
      (f) => f.type === 'warning' && (f.code as string) === 'TLS_NOT_HOOKED' && f.message.startsWith(`pid ${goServer.pid} `),
      30_000,
      "the stripped server's TLS_NOT_HOOKED report",
    );
    t.diagnostic(JSON.stringify(report));
    assert.match((report as NoticeFrame).message, /stripped/);
    const got = await goClient(client, plain, '/bytes/70000', true, 0);
    assert.deepEqual(got, Array(REQUESTS).fill('200 HTTP/2.0 70000'), 'the stripped server still answers');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(alive(goServer.pid!), 'the stripped server did not crash');
    assert.deepEqual(agent.allEntries().filter(isTlsEntry).map((e) => e.id), [], 'no plaintext entries from a process that was not hooked');
    const exit = await agent.stop(5000);
    assert.equal(exit.code, 0, agent.stderr);
  } finally {
    await scope.close();
  }
});
