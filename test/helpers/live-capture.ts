/**
 * Test helpers for the live capture: run the capture driver inside a network namespace (optionally
 * as an unprivileged user) and small traffic generators, all with this process's Node.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../../src/model/line-splitter.ts';
import type { DriverOptions, DriverSummary } from './live-capture-driver.ts';
import type { Netns } from './netns.ts';
import { hasCommand } from './requirements.ts';

const DRIVER = fileURLToPath(new URL('./live-capture-driver.ts', import.meta.url));

export interface DriverError {
  readonly code: string;
  readonly message: string;
  readonly context: Record<string, string | number>;
}

export interface RunningDriver {
  /** Resolves once the capture is open, or with the open error. */
  readonly ready: Promise<{ error?: DriverError }>;
  /** Closes the driver's stdin and waits for its summary. */
  finish(): Promise<DriverSummary>;
}

/** null when we can run a command as `nobody`, else why not. */
export function unprivilegedRunner(): string | null {
  return hasCommand('setpriv') ? null : 'setpriv (util-linux) is not installed: cannot drop privileges';
}

export function startDriver(ns: Netns, options: DriverOptions, asNobody = false): RunningDriver {
  const node = [process.execPath, DRIVER, JSON.stringify(options)];
  const [cmd, ...args] = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...node] : node;
  const child: ChildProcess = ns.spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  let exited = false;
  // The driver writes one small JSON line per message: a line without an end past 1 MiB is a bug.
  const splitter = new LineSplitter(1024 * 1024, {
    line: (line) => lines.push(line),
    overlong: (bytes) => lines.push(JSON.stringify({ error: { code: 'DRIVER_OUTPUT', message: `a line of ${bytes} bytes` } })),
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    splitter.push(chunk);
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  child.on('exit', () => {
    exited = true;
    waiters.splice(0).forEach((w) => w());
  });
  const nextLine = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const line = lines.shift();
      if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
      if (exited) throw new Error(`capture driver exited without output (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const ready = nextLine().then((msg) => (msg.error === undefined ? {} : { error: msg.error as DriverError }));
  return {
    ready,
    async finish() {
      child.stdin!.end();
      const msg = await nextLine();
      if (msg.summary === undefined) throw new Error(`unexpected driver output ${JSON.stringify(msg)}: ${stderr.trim()}`);
      return msg.summary as DriverSummary;
    },
  };
}

/** Runs a Node script (as `node -e`) inside the namespace; returns its stdout. */
export async function nodeIn(ns: Netns, script: string, ...args: string[]): Promise<string> {
  const r = await ns.execOk(process.execPath, ['-e', script, '--', ...args]);
  return r.stdout.toString('utf8');
}

/** Sends `count` datagrams `<marker>-<i>` one after another (unique payloads, so duplicates show). */
export const UDP_SENDER = `
const dgram = require('node:dgram');
const [host, port, marker, count] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
(async () => {
  for (let i = 0; i < Number(count); i++) {
    await new Promise((resolve, reject) => s.send(marker + '-' + i, Number(port), host, (err) => (err ? reject(err) : resolve())));
  }
  s.close();
})();
`;

/** A UDP receiver that counts datagrams until it has `count`, then exits (also after `ms`). */
export const UDP_RECEIVER = `
const dgram = require('node:dgram');
const [host, port, count, ms] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
let n = 0;
s.on('message', () => { if (++n >= Number(count)) { console.log(n); process.exit(0); } });
s.bind(Number(port), host, () => console.log('listening'));
setTimeout(() => { console.log(n); process.exit(0); }, Number(ms));
`;

/** An HTTP server that answers every request with `bytes` bytes; prints "listening". */
export const HTTP_SERVER = `
const http = require('node:http');
const [host, port, bytes] = process.argv.slice(1);
const body = Buffer.alloc(Number(bytes), 'x');
http.createServer((req, res) => res.end(body)).listen(Number(port), host, () => console.log('listening'));
`;

/** GETs `url` and prints the body length. */
export const HTTP_GET = `
const http = require('node:http');
http.get(process.argv[1], (res) => { let n = 0; res.on('data', (c) => (n += c.length)); res.on('end', () => console.log(n)); });
`;

/** Server and client in one process over 127.0.0.1: one request for `/<marker>`, body `<marker>`. */
export const HTTP_LOOPBACK = `
const http = require('node:http');
const marker = process.argv[1];
const server = http.createServer((req, res) => res.end(marker + ' ' + req.url));
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  http.get({ host: '127.0.0.1', port, path: '/' + marker, agent: false }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => { console.log(body); server.close(); });
  });
});
`;

/** Three ICMP echo requests to 127.0.0.1 through a raw socket (when `ping` is missing); prints replies seen. */
export const PYTHON_PING = `
import socket, struct, time
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for i in range(3):
    p = struct.pack('!BBHHH', 8, 0, 0, 0x4b53, i) + b'ks-icmp!'
    p = p[:2] + struct.pack('!H', csum(p)) + p[4:]
    s.sendto(p, ('127.0.0.1', 0))
s.settimeout(0.5)
replies = 0
try:
    while True:
        d = s.recv(2048)
        if d[20] == 0: replies += 1
except socket.timeout:
    pass
print(replies)
`;
