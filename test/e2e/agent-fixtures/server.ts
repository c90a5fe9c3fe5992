/**
 * The "server pod" of the agent tests, run inside the server namespace:
 *   node server.ts PORT
 * Prints "listening PORT" when ready. Paths are /<group>/<id>/<route...>; the group and id only make
 * every request's path unique (tests match entries by path), the route picks the answer:
 *
 *   fixed/N            200, N bytes of text, Content-Length
 *   chunked/N/P        200, N bytes written in P pieces without Content-Length (chunked)
 *   status/C           status C (204: no body; else a short text body)
 *   upload             201, JSON {size, sha256} of the request body
 *   echo               200, the request body back with the request's Content-Type
 *   redact/echo        as echo; an X-Session-Token request header comes back as a
 *                      Set-Cookie session_token=<value> (the secret only travels in headers)
 *   anything else      404
 *
 * Request bodies are always read to the end before answering, so keep-alive connections stay usable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveFixture } from '../fixtures/serve.ts';
import { createHash } from 'node:crypto';
import { textBody } from './bodies.ts';

const port = Number(process.argv[2] ?? '8080');

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function send(res: ServerResponse, status: number, type: string, body: Buffer, extra: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(body.length), ...extra });
  res.end(body);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const [, , id = '0', ...route] = path.split('/');
  const body = await readBody(req);
  const seed = Number.parseInt(id, 10) || 0;
  switch (route[0]) {
    case 'fixed':
      send(res, 200, 'text/plain', textBody(Number(route[1] ?? '0'), seed));
      return;
    case 'chunked': {
      const data = textBody(Number(route[1] ?? '0'), seed);
      const pieces = Math.max(1, Number(route[2] ?? '3'));
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const step = Math.max(1, Math.ceil(data.length / pieces));
      for (let off = 0; off < data.length; off += step) {
        res.write(data.subarray(off, off + step));
        // A pause lets each piece leave as its own segments, as a streaming server's would.
        await pause(1);
      }
      res.end();
      return;
    }
    case 'status': {
      const code = Number(route[1] ?? '200');
      if (code === 204 || code === 304) {
        res.writeHead(code);
        res.end();
      } else {
        send(res, code, 'text/plain', Buffer.from(`status ${code}\n`));
      }
      return;
    }
    case 'upload': {
      const summary = { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
      send(res, 201, 'application/json', Buffer.from(JSON.stringify(summary)));
      return;
    }
    case 'echo':
      send(res, 200, req.headers['content-type'] ?? 'application/octet-stream', body);
      return;
    case 'redact': {
      const token = req.headers['x-session-token'];
      const extra: Record<string, string[]> = {};
      if (typeof token === 'string') extra['Set-Cookie'] = [`session_token=${token}; Path=/; HttpOnly`, 'lang=en; Path=/'];
      send(res, 200, req.headers['content-type'] ?? 'application/json', body.length > 0 ? body : Buffer.from('{"ok":true}'), extra);
      return;
    }
    default:
      send(res, 404, 'text/plain', Buffer.from('not found\n'));
  }
}

serveFixture(port, 60_000, handle);
