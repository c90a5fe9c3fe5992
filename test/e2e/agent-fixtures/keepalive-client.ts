/**
 * A client that keeps ONE keep-alive connection for its whole life, run inside the client
 * namespace:  node keepalive-client.ts HOST PORT
 * Each stdin line "COUNT PREFIX FIRST" sends COUNT requests one after the other on that connection,
 * `GET /PREFIX/<FIRST + i>/fixed/32`, and answers with one JSON line:
 * {"sent":[paths],"localPort":N}. A raw socket, not http.Agent: nothing may open a second
 * connection behind the test's back. An empty line closes the connection and exits.
 */
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [host = '127.0.0.1', portText = '8080'] = process.argv.slice(2);
const socket = connect({ host, port: Number(portText), noDelay: true });
let buffered = Buffer.alloc(0);
let waiting: (() => void) | null = null;
socket.on('data', (chunk: Buffer) => {
  buffered = Buffer.concat([buffered, chunk]);
  waiting?.();
});
socket.on('error', (err) => {
  process.stderr.write(`keepalive-client: ${err.message}\n`);
  process.exit(1);
});

/** Reads one response with a Content-Length body off the connection. */
async function response(): Promise<string> {
  for (;;) {
    const headEnd = buffered.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const head = buffered.subarray(0, headEnd).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 'NaN');
      if (!Number.isInteger(length)) throw new Error(`no Content-Length in ${JSON.stringify(head)}`);
      if (buffered.length >= headEnd + 4 + length) {
        buffered = buffered.subarray(headEnd + 4 + length);
        return head.split('\r\n')[0]!;
      }
    }
    await new Promise<void>((resolve) => (waiting = resolve));
    waiting = null;
  }
}

await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') break;
  const [count, prefix, first] = line.trim().split(/\s+/);
  const sent: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    const path = `/${prefix}/${Number(first) + i}/fixed/32`;
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${portText}\r\nConnection: keep-alive\r\n\r\n`);
    const status = await response();
    if (!status.includes(' 200 ')) throw new Error(`${path}: ${status}`);
    sent.push(path);
  }
  process.stdout.write(`${JSON.stringify({ sent, localPort: socket.localPort })}\n`);
}
socket.end();
