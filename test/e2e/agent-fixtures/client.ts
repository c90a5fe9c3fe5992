/**
 * The "client pod" of the agent tests, run inside the client namespace:
 *   node client.ts '<ClientConfig as JSON>'
 * Requests go over keep-alive connections (http.Agent keepAlive, maxSockets 8). At the end one
 * JSON line is printed on stdout: a ListReport (mode "list") or a LoadReport (mode "load").
 *
 * - list: runs the requests of a JSON file (RequestSpec[]) with `concurrency` in flight and reports
 *   every request: what was sent and what came back.
 * - load: GET /<prefix>/<n>/fixed/<size> at `rate` requests per second (prefixes take turns, sizes
 *   drawn from [minSize, maxSize] by a seeded generator) until `durationMs` passes or SIGTERM.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { textBody } from './bodies.ts';

export interface RequestBodySpec {
  /** Exact body text; else `size` bytes of textBody(size, seed). */
  readonly text?: string;
  readonly size?: number;
  readonly seed?: number;
  readonly contentType?: string;
  /** Send without Content-Length, in `pieces` writes (Transfer-Encoding: chunked). */
  readonly chunked?: boolean;
  readonly pieces?: number;
}

export interface RequestSpec {
  readonly method: string;
  /** Request target: path and optional query. */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBodySpec;
}

export interface RequestReport {
  readonly method: string;
  readonly target: string;
  /** The target without its query. */
  readonly path: string;
  readonly completed: boolean;
  readonly status: number;
  readonly requestBodySize: number;
  readonly responseBodySize: number;
  readonly responseSha256: string;
  readonly error?: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface ListReport {
  readonly mode: 'list';
  readonly requests: RequestReport[];
  readonly elapsedMs: number;
  /** Distinct local ports used: how many connections carried the requests. */
  readonly connections: number;
}

export interface LoadReport {
  readonly mode: 'load';
  readonly issued: number;
  readonly completed: number;
  readonly failed: number;
  /** Ticks at which the in-flight limit held requests back. */
  readonly throttled: number;
  readonly byPrefix: Record<string, number>;
  readonly elapsedMs: number;
  readonly errors: string[];
}

export type ClientConfig =
  | { readonly mode: 'list'; readonly host: string; readonly port: number; readonly file: string; readonly concurrency?: number }
  | {
      readonly mode: 'load';
      readonly host: string;
      readonly port: number;
      readonly rate: number;
      readonly durationMs: number;
      readonly prefixes: readonly string[];
      readonly minSize: number;
      readonly maxSize: number;
      readonly maxInFlight?: number;
    };

const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });
const ports = new Set<number>();

interface Outcome {
  status: number;
  size: number;
  sha256: string;
}

function bodyOf(spec: RequestBodySpec | undefined): Buffer | null {
  if (spec === undefined) return null;
  return spec.text !== undefined ? Buffer.from(spec.text, 'utf8') : textBody(spec.size ?? 0, spec.seed ?? 0);
}

function send(host: string, port: number, spec: RequestSpec, body: Buffer | null): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...spec.headers };
    if (body !== null && spec.body?.contentType !== undefined) headers['Content-Type'] = spec.body.contentType;
    if (body !== null && !spec.body?.chunked) headers['Content-Length'] = String(body.length);
    const req = request({ host, port, method: spec.method, path: spec.target, headers, agent: keepAlive, timeout: 30_000 }, (res: IncomingMessage) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('socket', (socket) => {
      const note = (): void => {
        if (socket.localPort !== undefined) ports.add(socket.localPort);
      };
      if (socket.localPort !== undefined) note();
      else socket.once('connect', note);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (body === null) {
      req.end();
    } else if (spec.body?.chunked) {
      const pieces = Math.max(1, spec.body.pieces ?? 3);
      const step = Math.max(1, Math.ceil(body.length / pieces));
      for (let off = 0; off < body.length; off += step) req.write(body.subarray(off, off + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

async function one(host: string, port: number, spec: RequestSpec): Promise<RequestReport> {
  const body = bodyOf(spec.body);
  const startMs = Date.now();
  const base = { method: spec.method, target: spec.target, path: spec.target.split('?')[0]!, requestBodySize: body?.length ?? 0, startMs };
  try {
    const out = await send(host, port, spec, body);
    return { ...base, completed: true, status: out.status, responseBodySize: out.size, responseSha256: out.sha256, endMs: Date.now() };
  } catch (err) {
    return { ...base, completed: false, status: 0, responseBodySize: 0, responseSha256: '', error: String(err), endMs: Date.now() };
  }
}

async function runList(config: Extract<ClientConfig, { mode: 'list' }>): Promise<ListReport> {
  const specs = JSON.parse(readFileSync(config.file, 'utf8')) as RequestSpec[];
  const started = Date.now();
  const reports: RequestReport[] = new Array<RequestReport>(specs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const i = next++;
      reports[i] = await one(config.host, config.port, specs[i]!);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency ?? 8 }, worker));
  return { mode: 'list', requests: reports, elapsedMs: Date.now() - started, connections: ports.size };
}

function runLoad(config: Extract<ClientConfig, { mode: 'load' }>): Promise<LoadReport> {
  const started = Date.now();
  const maxInFlight = config.maxInFlight ?? 32;
  let issued = 0;
  let completed = 0;
  let failed = 0;
  let throttled = 0;
  let inFlight = 0;
  let forgiven = 0;
  let seed = 0x9e3779b9;
  const byPrefix: Record<string, number> = {};
  const errors: string[] = [];
  const nextSize = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const span = config.maxSize - config.minSize + 1;
    return config.minSize + ((seed >>> 0) % span);
  };
  return new Promise((resolve) => {
    let stopping = false;
    const finish = (): void => {
      clearInterval(timer);
      resolve({ mode: 'load', issued, completed, failed, throttled, byPrefix, elapsedMs: Date.now() - started, errors });
    };
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      const deadline = Date.now() + 3000;
      const settle = setInterval(() => {
        if (inFlight === 0 || Date.now() > deadline) {
          clearInterval(settle);
          finish();
        }
      }, 10);
    };
    const issue = (): void => {
      const prefix = config.prefixes[issued % config.prefixes.length]!;
      const target = `/${prefix}/${issued}/fixed/${nextSize()}`;
      issued++;
      inFlight++;
      void one(config.host, config.port, { method: 'GET', target }).then((r) => {
        inFlight--;
        if (r.completed && r.status === 200) {
          completed++;
          byPrefix[prefix] = (byPrefix[prefix] ?? 0) + 1;
        } else {
          failed++;
          if (errors.length < 5) errors.push(`${target}: ${r.error ?? r.status}`);
        }
      });
    };
    const timer = setInterval(() => {
      if (stopping) return;
      const elapsed = Date.now() - started;
      if (elapsed >= config.durationMs) {
        stop();
        return;
      }
      // A client that fell more than a second behind forgives the backlog instead of bursting.
      let due = Math.floor((elapsed * config.rate) / 1000) - forgiven;
      if (due - issued > config.rate) {
        forgiven += due - issued - config.rate;
        due = issued + config.rate;
      }
      while (issued < due) {
        if (inFlight >= maxInFlight) {
          throttled++;
          break;
        }
        issue();
      }
    }, 5);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

const config = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;
const report = config.mode === 'list' ? await runList(config) : await runLoad(config);
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
