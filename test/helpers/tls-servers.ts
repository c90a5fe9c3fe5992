/**
 * TLS servers and clients for the TLS plaintext tests and bench (issue 15), all linked to this
 * machine's OpenSSL 3 (libssl.so.3): a self-signed certificate made with `openssl`, nginx with TLS
 * (HTTP/1.1 and HTTP/2 through ALPN), Debian's python3 `ssl` server (test/fixtures/tls), and curl
 * runs whose every transfer is reported back (status, sizes, HTTP version, new connections), so a
 * test can count the requests it made against the entries it got.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../../src/model/entry.ts';
import { REPO_ROOT } from './capture.ts';
import { runOk, type Netns } from './netns.ts';

/** Debian's python3 (its `ssl` module links the system libssl.so.3), not a version manager's. */
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const HTTPS_SERVER_SCRIPT = join(REPO_ROOT, 'test/fixtures/tls/https-server.py');

export interface Certificate {
  readonly cert: string;
  readonly key: string;
}

/** A self-signed P-256 certificate for `ip` (and localhost), valid for two days. */
export async function makeCertificate(dir: string, ip: string): Promise<Certificate> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=kubectl-shark-test', '-addext', `subjectAltName=IP:${ip},DNS:localhost`, '-keyout', key, '-out', cert,
  ]);
  return { cert, key };
}

const PATTERN = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789\n');

/** The body /bytes/N answers with (nginx's static files and the python server agree). */
export function bodyOf(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += PATTERN.length) PATTERN.copy(out, i, 0, Math.min(PATTERN.length, size - i));
  return out;
}

export type TlsVersion = '1.2' | '1.3' | 'any';

export interface NginxOptions {
  readonly dir: string;
  readonly port: number;
  readonly certificate: Certificate;
  readonly tls: TlsVersion;
  /** Also HTTP/2 (offered through ALPN; HTTP/1.1 stays available). */
  readonly http2: boolean;
  /** Sizes of the static bodies at /bytes/N. */
  readonly sizes: readonly number[];
  /** Worker processes (the bench uses one per core). */
  readonly workers?: number;
}

/**
 * Writes an nginx configuration (and its static bodies) under `dir`: GET /bytes/N serves N bytes,
 * POST /upload reads the body and answers 201 "stored\n", anything else 404. Keep-alive up to
 * 10,000 requests per connection. Runs as root (the files are in a 0700 temp folder). The upload
 * is proxied to a second server on a Unix socket: nginx reads a body only for a handler that
 * wants it, and an HTTP/2 client whose body nginx leaves unread stalls on flow control; a Unix
 * socket carries no packets, so the packet capture sees no second copy of the request.
 */
export function writeNginxConfig(o: NginxOptions): string {
  const root = join(o.dir, 'www');
  mkdirSync(join(root, 'bytes'), { recursive: true });
  for (const size of o.sizes) writeFileSync(join(root, 'bytes', String(size)), bodyOf(size));
  const protocols = o.tls === '1.2' ? 'TLSv1.2' : o.tls === '1.3' ? 'TLSv1.3' : 'TLSv1.2 TLSv1.3';
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(
    conf,
    `user root;
worker_processes ${o.workers ?? 1};
daemon off;
pid ${join(o.dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(o.dir, 'body')};
  proxy_temp_path ${join(o.dir, 'proxy')};
  fastcgi_temp_path ${join(o.dir, 'fastcgi')};
  uwsgi_temp_path ${join(o.dir, 'uwsgi')};
  scgi_temp_path ${join(o.dir, 'scgi')};
  keepalive_requests 10000;
  keepalive_timeout 60s;
  client_max_body_size 16m;
  default_type application/octet-stream;
  server {
    listen ${o.port} ssl${o.http2 ? ' http2' : ''};
    ssl_certificate ${o.certificate.cert};
    ssl_certificate_key ${o.certificate.key};
    ssl_protocols ${protocols};
    root ${root};
    location /bytes/ { }
    location = /upload {
      client_body_buffer_size 16m;
      if ($request_method != POST) { return 405; }
      proxy_pass http://unix:${join(o.dir, 'upload.sock')}:;
    }
  }
  server {
    listen unix:${join(o.dir, 'upload.sock')};
    location / { return 201 "stored\\n"; }
  }
}
`,
  );
  return conf;
}

/** Resolves once `child` prints `text` (on stdout or stderr), rejects when it exits first or after 15 s. */
export function waitForText(child: ChildProcess, text: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out.trim()}`)), 15_000);
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${out.trim()}`));
    });
  });
}

/** nginx in `ns` with the configuration of writeNginxConfig (killed with the namespace). */
export function startNginx(ns: Netns, conf: string): ChildProcess {
  return ns.spawn('nginx', ['-c', conf]);
}

/** The python3 `ssl` server in `ns`, resolved once it listens. */
export async function startPythonHttps(ns: Netns, host: string, port: number, certificate: Certificate, tls: TlsVersion): Promise<ChildProcess> {
  const child = ns.spawn(DEBIAN_PYTHON, [HTTPS_SERVER_SCRIPT, host, String(port), certificate.cert, certificate.key, tls]);
  await waitForText(child, 'listening', 'the python3 ssl server');
  return child;
}

export interface CurlTransfer {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly status: number;
  /** Response body bytes (after any decoding: none is asked for). */
  readonly downloaded: number;
  readonly uploaded: number;
  /** "1.1" or "2". */
  readonly httpVersion: string;
  /** New connections this transfer made (0 when it reused one: keep-alive). */
  readonly connects: number;
}

export interface CurlRun {
  /** Paths to GET, or to POST when `uploadBytes` is given. */
  readonly paths: readonly string[];
  readonly base: string;
  readonly http2: boolean;
  readonly tls: TlsVersion;
  /** A request body of this many bytes for every path (POST). */
  readonly uploadBytes?: number;
  /** Where to keep the upload file. */
  readonly dir: string;
}

/**
 * One curl process for all paths, in order, over one kept-alive connection (curl reuses it for the
 * same host); one line of -w per transfer. Fails when curl does.
 */
export async function curlTransfers(ns: Netns, run: CurlRun): Promise<CurlTransfer[]> {
  const args = ['-sS', '--insecure', '--max-time', '30', '-w', '%{http_code} %{size_download} %{size_upload} %{http_version} %{num_connects} %{url_effective}\\n'];
  args.push(run.http2 ? '--http2' : '--http1.1');
  if (run.tls === '1.2') args.push('--tlsv1.2', '--tls-max', '1.2');
  if (run.tls === '1.3') args.push('--tlsv1.3');
  let method = 'GET';
  if (run.uploadBytes !== undefined) {
    const file = join(run.dir, `upload-${run.uploadBytes}`);
    writeFileSync(file, bodyOf(run.uploadBytes));
    args.push('--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:');
    method = 'POST';
  }
  for (const path of run.paths) args.push(`${run.base}${path}`, '-o', '/dev/null');
  const r = await ns.execOk('curl', args);
  return r.stdout
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [status, down, up, version, connects, url] = line.split(' ');
      return {
        method,
        url: url!,
        path: new URL(url!).pathname + new URL(url!).search,
        status: Number(status),
        downloaded: Number(down),
        uploaded: Number(up),
        httpVersion: version!,
        connects: Number(connects),
      };
    });
}

/** Starts a process in `ns` and returns it once `text` shows, e.g. a Go server's "listening". */
export async function spawnUntil(ns: Netns, cmd: string, args: readonly string[], text: string, what: string): Promise<ChildProcess> {
  const child = ns.spawn(cmd, args);
  await waitForText(child, text, what);
  return child;
}

/** `tls: true` marks an entry made from hooked plaintext (docs/agent-protocol.md). */
export function isTlsEntry(e: Entry): boolean {
  return (e as Entry & { tls?: unknown }).tls === true;
}
