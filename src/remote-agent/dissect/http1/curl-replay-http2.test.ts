/**
 * Copy as curl for HTTP/2 and gRPC entries, against a real curl and a real HTTP/2 server
 * (node:http2, clear text on 127.0.0.1): the pasted command must speak HTTP/2 without an upgrade
 * (h2c prior knowledge), send the method, path and authority as pseudo-header fields of its own
 * (none of the entry's is sent again as a header), and a gRPC call's framed message bytes and
 * headers exactly. Skipped, with the reason printed, when curl is not installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildGrpcEntry, buildHttp2Entry } from '../../../../test/helpers/entries.ts';
import { skipFor } from '../../../../test/helpers/requirements.ts';
import { curlCommand } from './curl-command.ts';

const hasCurl = spawnSync('curl', ['--version']).status === 0;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const received: Received[] = [];
const server = createServer();
server.on('stream', (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    received.push({ headers, body: Buffer.concat(chunks) });
    stream.respond({ ':status': 204 }, { endStream: true });
  });
});
let port = 0;
let home = '';

before(async () => {
  if (!hasCurl) return;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  home = mkdtempSync(join(tmpdir(), 'shark-curl-h2-'));
  writeFileSync(join(home, '.curlrc'), 'silent\nshow-error\nmax-time = 10\noutput = /dev/null\n');
});

after(() => {
  server.close();
  if (home !== '') rmSync(home, { recursive: true, force: true });
});

function paste(command: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sh = spawn('sh', ['-c', command], { env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'ignore', 'inherit'] });
    sh.on('error', reject);
    sh.on('close', (code) => resolve(code ?? -1));
  });
}

test('copy as curl: an HTTP/2 request and a gRPC call arrive over h2c as they were sent', { skip: skipFor(hasCurl ? null : 'curl is not installed (apt-get install -y curl)') }, async () => {
  const authority = `127.0.0.1:${port}`;
  const get = buildHttp2Entry({ url: '/items?page=2', authority, requestHeaders: { 'x-tenant': 'acme' } });
  assert.match(curlCommand(get), /^curl --http2-prior-knowledge 'http:\/\/127\.0\.0\.1:\d+\/items\?page=2' -H 'x-tenant: acme'$/);
  assert.equal(await paste(curlCommand(get)), 0);

  const call = buildGrpcEntry({ authority, service: 'shop.v1.Cart', rpc: 'AddItem' });
  const framed = Buffer.from([0, 0, 0, 0, 3, 0x08, 0x96, 0x01]); // one message: field 1 = 150
  call.request.postData = { mimeType: 'application/grpc', text: framed.toString('base64'), encoding: 'base64' };
  assert.equal(await paste(curlCommand(call)), 0);

  assert.equal(received.length, 2);
  const [first, second] = received;
  assert.deepEqual([first!.headers[':method'], first!.headers[':path'], first!.headers[':authority'], first!.headers['x-tenant']], ['GET', '/items?page=2', authority, 'acme']);
  assert.deepEqual([second!.headers[':method'], second!.headers[':path'], second!.headers['content-type'], second!.headers.te], ['POST', '/shop.v1.Cart/AddItem', 'application/grpc', 'trailers']);
  assert.deepEqual(second!.body, framed);
});
