/**
 * Copy as curl against a real curl and a real HTTP server: every method with and without each kind
 * of body is pasted into sh, and the node:http server on 127.0.0.1 must receive exactly the
 * original method, path, body bytes and Content-Type. This is what the argv checks in
 * curl-command.test.ts cannot show: what curl makes of those arguments (GET by default, POST once
 * it has data, @ reading a file). Skipped, with the reason printed, when curl is not installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HttpEntry as Entry } from '../../../remote-agent/dissect/http1/entry.ts';
import { curlCommand } from './curl-command.ts';
import { makeEntry } from '../../../tui/test-support.ts';

const hasCurl = spawnSync('curl', ['--version']).status === 0;

interface Received {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

const received = new Map<string, Received>();
const server = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    received.set(String(req.headers['x-case']), { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
    // 204 has no body whatever the method, so curl never waits for one (-X HEAD would otherwise).
    res.writeHead(204).end();
  });
});
let port = 0;
let home = '';

before(async () => {
  if (!hasCurl) return;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // The commands run as pasted; curl's own settings come from a .curlrc in a HOME of our own.
  home = mkdtempSync(join(tmpdir(), 'shark-curl-'));
  writeFileSync(join(home, '.curlrc'), 'silent\nshow-error\nmax-time = 10\noutput = /dev/null\n');
});

after(() => {
  server.close();
  if (home !== '') rmSync(home, { recursive: true, force: true });
});

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PURGE', 'PROPFIND'];

type Body = { text: string; mimeType: string; encoding?: 'base64' };
const BODIES: readonly { readonly name: string; readonly body: Body | undefined; readonly bytes: Buffer; readonly contentType?: string }[] = [
  { name: 'none', body: undefined, bytes: Buffer.alloc(0) },
  { name: 'empty', body: { text: '', mimeType: '' }, bytes: Buffer.alloc(0) },
  { name: 'form', body: { text: 'a=1&b=two words', mimeType: '' }, bytes: Buffer.from('a=1&b=two words') },
  { name: 'json', body: { text: '{"n":"O\'Brien","x":"$(id)"}', mimeType: 'application/json' }, bytes: Buffer.from('{"n":"O\'Brien","x":"$(id)"}'), contentType: 'application/json' },
  { name: 'CR LF and tabs', body: { text: 'line 1\r\nline\t2\n', mimeType: 'text/plain' }, bytes: Buffer.from('line 1\r\nline\t2\n'), contentType: 'text/plain' },
  { name: 'starts with @', body: { text: '@/etc/hostname', mimeType: 'text/plain' }, bytes: Buffer.from('@/etc/hostname'), contentType: 'text/plain' },
  { name: 'NUL inside', body: { text: 'a\u0000b', mimeType: '' }, bytes: Buffer.from('a\u0000b') },
  // One argument of exec may hold 128 KiB at most: a larger body as an argument would not even start curl.
  { name: '200 KiB', body: { text: 'x'.repeat(200 * 1024), mimeType: 'text/plain' }, bytes: Buffer.from('x'.repeat(200 * 1024)), contentType: 'text/plain' },
  { name: 'binary', body: { text: Buffer.from([0, 1, 0xff, 0x0a, 0x40]).toString('base64'), mimeType: 'application/octet-stream', encoding: 'base64' }, bytes: Buffer.from([0, 1, 0xff, 0x0a, 0x40]), contentType: 'application/octet-stream' },
];

function entryFor(caseId: string, method: string, spec: (typeof BODIES)[number]): Entry {
  const requestHeaders: Record<string, string> = { Host: `127.0.0.1:${port}`, 'X-Case': caseId, 'Content-Length': String(spec.bytes.length) };
  if (spec.contentType !== undefined) requestHeaders['Content-Type'] = spec.contentType;
  return makeEntry({ method, url: `/p/${caseId}?q=a%20b`, requestHeaders, ...(spec.body === undefined ? {} : { requestBody: spec.body }) });
}

test('copy as curl, pasted into sh: a real curl sends the original method, path, body and Content-Type', { skip: hasCurl ? false : 'curl is not installed (apt-get install -y curl)' }, async () => {
  // The command goes to sh on stdin, as a paste would: `sh -c COMMAND` would itself hit exec's limit on one argument.
  const run = (command: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn('sh', ['-s'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`sh exited ${code}: ${stderr}`));
      });
      child.stdin.end(`${command}\n`);
    });
  const cases: { id: string; method: string; spec: (typeof BODIES)[number]; command: string }[] = [];
  METHODS.forEach((method, m) =>
    BODIES.forEach((spec, b) => {
      const id = `${m}-${b}`;
      cases.push({ id, method, spec, command: curlCommand(entryFor(id, method, spec)) });
    }),
  );
  // Two at a time: the machine is shared, and each curl is a process.
  for (let i = 0; i < cases.length; i += 2) {
    await Promise.all(
      cases.slice(i, i + 2).map(({ command }) => run(command)),
    );
  }
  for (const { id, method, spec, command } of cases) {
    const got = received.get(id);
    const where = `${method} with body ${spec.name}: ${command}`;
    assert.ok(got !== undefined, `${where}: the server saw no request`);
    assert.equal(got.method, method, `${where}: method`);
    assert.equal(got.url, `/p/${id}?q=a%20b`, `${where}: path`);
    assert.deepEqual(got.body, spec.bytes, `${where}: body bytes`);
    assert.equal(got.contentType, spec.contentType, `${where}: Content-Type`);
  }
  assert.equal(received.size, METHODS.length * BODIES.length);
});

test('copy as curl: no -X for what curl sends by itself, --head for HEAD, --data-binary for bodies, never -k', () => {
  const words = (entry: Entry): string => curlCommand(entry);
  const get = makeEntry({ method: 'GET', url: '/a', requestHeaders: { Host: 'h' } });
  assert.equal(words(get), `curl 'http://h/a'`);
  const post = makeEntry({ method: 'POST', url: '/a', requestHeaders: { Host: 'h', 'Content-Type': 'application/json' }, requestBody: { text: '{}', mimeType: 'application/json' } });
  assert.equal(words(post), `curl 'http://h/a' -H 'Content-Type: application/json' --data-binary '{}'`);
  assert.equal(words(makeEntry({ method: 'POST', url: '/a', requestHeaders: { Host: 'h' } })), `curl -X POST 'http://h/a'`);
  assert.equal(words(makeEntry({ method: 'GET', url: '/a', requestHeaders: { Host: 'h' }, requestBody: { text: 'q', mimeType: '' } })), `curl -X GET 'http://h/a' -H 'Content-Type:' --data-binary 'q'`);
  assert.equal(words(makeEntry({ method: 'HEAD', url: '/a', requestHeaders: { Host: 'h' } })), `curl --head 'http://h/a'`);
  assert.equal(words(makeEntry({ method: 'DELETE', url: '/a', requestHeaders: { Host: 'h' } })), `curl -X DELETE 'http://h/a'`);
  const tls = { ...makeEntry({ method: 'GET', url: '/a', requestHeaders: { Host: 'h' } }), tls: true };
  assert.equal(words(tls), `curl 'https://h/a'`);
  assert.doesNotMatch(words(tls), /(^| )(-k|--insecure)( |$)/);
});
