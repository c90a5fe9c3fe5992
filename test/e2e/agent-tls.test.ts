/**
 * `agent.js capture --tls` for real, in a network namespace: the bundled agent loads the BPF
 * probes, finds the TLS libraries of the processes there, and curl's HTTPS requests to a Python
 * `ssl` server (HTTP/1.1, keep-alive, bodies over 64 KiB, TLS 1.3 and 1.2) and to nghttpd (HTTP/2
 * over ALPN) come out as plaintext entries with `tls: true`, each exactly once: client and server
 * are both hooked (the second end counts as duplicates) and packet capture sees the same
 * connections encrypted (not counted as undissected TLS). The broad acceptance suite is
 * test/e2e/tls-*.test.ts; this one checks the agent's wiring end to end. Needs root.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { AgentProcess, prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { NODE } from '../helpers/capture.ts';
import { python3, requireNetns, run, Scope, waitForPort, type Netns } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['curl', 'openssl', 'python3', 'nghttpd']));

const BIG = 100_000;
const POSTED = 70_000;

/** HTTPS/1.1 with keep-alive: GET /bytes/N answers N bytes, POST answers how many it read. */
const PY_SERVER = `
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def _send(self, body):
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        n = int(self.path.rsplit('/', 1)[1]) if self.path.startswith('/bytes/') else 2
        self._send(b'x' * n)
    def do_POST(self):
        got = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        self._send(str(len(got)).encode())
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 8443), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`;

function httpEntries(agent: AgentProcess): HttpEntry[] {
  return agent.allEntries().filter((e): e is HttpEntry => e.protocol.name === 'http');
}

/** One curl run (one process: its transfers share connections); prints "<http version> <status>" per transfer. */
async function curl(ns: Netns, args: readonly string[]): Promise<string> {
  const out = ['-o', '/dev/null', '-w', '%{http_version} %{response_code}\\n'];
  const argv = ['-sk', '--fail', ...args.flatMap((a) => (a.startsWith('https://') ? [...out, a] : a === '--next' ? [a, '-sk', '--fail'] : [a]))];
  const r = await ns.exec('curl', argv);
  assert.equal(r.code, 0, `curl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString('utf8');
}

test('agent --tls: curl to a Python ssl server and to nghttpd gives every request once, as plaintext', { skip, timeout: 180_000 }, async () => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('tls');
    const dir = prepareAgentDir(scope);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=shop.test', '-keyout', key, '-out', cert]);
    assert.equal(made.code, 0, made.stderr);
    const docroot = join(dir, 'www');
    await run('mkdir', [docroot]);
    writeFileSync(join(docroot, 'big.bin'), Buffer.alloc(BIG, 0x42));
    writeFileSync(join(docroot, 'small.txt'), 'hello h2\n');
    const posted = join(dir, 'posted.bin');
    writeFileSync(posted, Buffer.alloc(POSTED, 0x50));

    ns.spawn(python3(), ['-c', PY_SERVER, cert, key]);
    ns.spawn('nghttpd', ['-d', docroot, '8444', key, cert]);
    await waitForPort(ns, '127.0.0.1', 8443);
    await waitForPort(ns, '127.0.0.1', 8444);

    const agent = startAgent(ns, ['--tls', '--iface', 'lo', '--stats-interval', '250'], { dir, scope });
    const hello = await agent.ready(30_000);
    assert.equal(hello.tls, true, `TLS capture runs: ${JSON.stringify(agent.notices())}`);
    const hooked = agent.notices('TLS_HOOKED').map((n) => n.message);
    assert.ok(hooked.some((m) => /\(python3?[^)]*\): libssl\.so\.3/.test(m)), hooked.join('\n'));
    assert.ok(hooked.some((m) => /\(nghttpd\): libssl\.so\.3/.test(m)), hooked.join('\n'));

    // HTTP/1.1, one kept-alive connection per curl run: TLS 1.3, then TLS 1.2.
    const base = 'https://127.0.0.1:8443';
    for (const tls of [['--tlsv1.3'], ['--tlsv1.2', '--tls-max', '1.2']]) {
      const out = await curl(ns, ['--http1.1', ...tls, `${base}/bytes/${BIG}`, `${base}/bytes/5`, '--next', '--http1.1', ...tls, '--data-binary', `@${posted}`, `${base}/upload`]);
      assert.equal(out, '1.1 200\n1.1 200\n1.1 200\n');
    }
    // HTTP/2 over ALPN: two streams on one connection.
    const h2 = await curl(ns, ['--http2', 'https://127.0.0.1:8444/big.bin', 'https://127.0.0.1:8444/small.txt']);
    assert.equal(h2, '2 200\n2 200\n');

    const summary = (): string[] =>
      httpEntries(agent)
        .map((e) => `${e.request.method} ${e.request.path} ${e.protocol.version} ${e.response?.status} ${e.response?.bodySize} ${e.tls} ${e.dst.port}`)
        .sort();
    const want = [
      `GET /big.bin 2.0 200 ${BIG} true 8444`,
      `GET /bytes/${BIG} 1.1 200 ${BIG} true 8443`,
      `GET /bytes/${BIG} 1.1 200 ${BIG} true 8443`,
      'GET /bytes/5 1.1 200 5 true 8443',
      'GET /bytes/5 1.1 200 5 true 8443',
      'GET /small.txt 2.0 200 9 true 8444',
      `POST /upload 1.1 200 5 true 8443`,
      `POST /upload 1.1 200 5 true 8443`,
    ];
    await agent.waitUntil(() => (summary().length >= want.length ? true : undefined), 20_000, `${want.length} entries`);
    const stop = await agent.stop(10_000);
    assert.equal(stop.code, 0, agent.summary());
    assert.deepEqual(summary(), want, 'every request once, none from packet capture');
    const posts = httpEntries(agent).filter((e) => e.request.method === 'POST');
    assert.ok(posts.every((e) => e.request.bodySize === POSTED), posts.map((e) => e.request.bodySize).join(' '));
    assert.ok(httpEntries(agent).every((e) => /^t\d+-\d+$/.test(e.id)));
    const final = agent.lastStats()!;
    assert.equal(final.final, true);
    assert.equal(final.tls?.connections, 3, JSON.stringify(final.tls));
    assert.ok((final.tls?.duplicates ?? 0) > 0, 'the servers are hooked too: their records are duplicates');
    assert.equal(final.tls?.unresolved, 0);
    assert.equal(final.tls?.lostEvents, 0);
    assert.equal(final.undissected?.connections['tls'], undefined, `no TLS connection also counted by packet capture: ${JSON.stringify(final.undissected)}`);
    assert.equal(final.internalErrors ?? 0, 0);
  } finally {
    await scope.close();
  }
});

test('agent --tls without BPF (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN dropped): one TLS_UNAVAILABLE warning, packet capture goes on', { skip: skipFor(requireNetns(['curl', 'python3', 'setpriv'])), timeout: 120_000 }, async () => {
  const scope = new Scope();
  try {
    const ns = await scope.netns('notls');
    const dir = prepareAgentDir(scope);
    ns.spawn(python3(), ['-m', 'http.server', '--bind', '127.0.0.1', '8080', '--directory', dir]);
    await waitForPort(ns, '127.0.0.1', 8080);
    // As a container without those capabilities would run it (CAP_NET_RAW stays: packets still come).
    const args = ['--tls', '--iface', 'lo', '--stats-interval', '250'];
    const child = ns.spawn('setpriv', ['--bounding-set', '-bpf,-perfmon,-sys_admin', '--inh-caps', '-bpf,-perfmon,-sys_admin', NODE, 'agent.js', 'capture', ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const agent = new AgentProcess(child, args, { dir, scope });
    scope.defer(() => agent.kill());
    const hello = await agent.ready(30_000);
    assert.equal(hello.tls, false);
    const unavailable = await agent.waitFor((f) => f.type === 'warning' && f.code === 'TLS_UNAVAILABLE', 5000, 'TLS_UNAVAILABLE');
    assert.match((unavailable as { message: string }).message, /^TLS plaintext capture is unavailable: .+; packet capture goes on$/);
    const r = await ns.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{response_code}', 'http://127.0.0.1:8080/agent.js']);
    assert.equal(r.stdout.toString(), '200');
    await agent.waitUntil(() => (httpEntries(agent).length >= 1 ? true : undefined), 10_000, 'the plain HTTP entry');
    const stop = await agent.stop(10_000);
    assert.equal(stop.code, 0);
    const [e] = httpEntries(agent);
    assert.deepEqual([e!.request.path, e!.response?.status, e!.tls], ['/agent.js', 200, false]);
    assert.equal(agent.notices('TLS_UNAVAILABLE').length, 1);
    assert.equal(agent.lastStats()?.tls, undefined);
  } finally {
    await scope.close();
  }
});
