/**
 * Two "pods" for the agent tests: a client namespace and a server namespace joined by a veth pair
 * (offloads left as veth has them: TSO and checksum offload on, as on a pod's interface), the test
 * server running in the server namespace, and ways to drive the client.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { addAddress, addVeth, type Netns, type Scope } from '../../helpers/netns.ts';
import { NODE, REPO_ROOT } from '../../helpers/capture.ts';
import type { ClientConfig, ListReport, LoadReport, RequestSpec } from './client.ts';

export const SERVER_IP = '10.77.0.2';
export const CLIENT_IP = '10.77.0.1';
export const PORT = 8080;
const FIXTURES = join(REPO_ROOT, 'test/e2e/agent-fixtures');

export interface AgentTopology {
  readonly client: Netns;
  readonly server: Netns;
  /** The test server's pid (root namespace view; `ip netns exec` execs node). */
  readonly serverPid: number;
  readonly workDir: string;
}

export async function agentTopology(scope: Scope): Promise<AgentTopology> {
  const workDir = mkdtempSync(join(tmpdir(), `ks-agent-e2e-${process.pid}-`));
  scope.defer(() => rmSync(workDir, { recursive: true, force: true }));
  const client = await scope.netns('acli');
  const server = await scope.netns('asrv');
  await addVeth(client, 'eth0', server, 'eth0');
  await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
  await addAddress(server, 'eth0', `${SERVER_IP}/24`);
  const child = server.spawn(NODE, [join(FIXTURES, 'server.ts'), String(PORT)]);
  await waitForOutput(child, 'listening', 'agent test server');
  return { client, server, serverPid: child.pid!, workDir };
}

function waitForOutput(child: ChildProcess, text: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err.trim()}`)), 15_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${err.trim()}`));
    });
  });
}

let specFiles = 0;

/** Runs the requests from the client namespace to completion and returns what the client saw. */
export async function runClientList(topo: AgentTopology, specs: readonly RequestSpec[], concurrency = 8): Promise<ListReport> {
  specFiles += 1;
  const file = join(topo.workDir, `requests-${specFiles}.json`);
  writeFileSync(file, JSON.stringify(specs));
  const config: ClientConfig = { mode: 'list', host: SERVER_IP, port: PORT, file, concurrency };
  const r = await topo.client.exec(NODE, [join(FIXTURES, 'client.ts'), JSON.stringify(config)]);
  if (r.code !== 0) throw new Error(`client failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.toString('utf8')) as ListReport;
}

/** What the load client takes, but where it connects (the topology knows that). */
export type LoadOptions = Omit<Extract<ClientConfig, { mode: 'load' }>, 'mode' | 'host' | 'port'>;

export interface LoadRun {
  /** Asks the client to stop (SIGTERM) and returns its report. */
  stop(): Promise<LoadReport>;
  /** Resolves when the client ends by itself (duration over) or after stop(). */
  readonly done: Promise<LoadReport>;
}

/** Starts continuous GET load from the client namespace (see client.ts, mode "load"). */
export function startLoad(topo: AgentTopology, options: LoadOptions): LoadRun {
  const config: ClientConfig = { mode: 'load', host: SERVER_IP, port: PORT, ...options };
  const child = topo.client.spawn(NODE, [join(FIXTURES, 'client.ts'), JSON.stringify(config)]);
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const done = new Promise<LoadReport>((resolve, reject) => {
    child.once('close', (code, signal) => {
      if (code !== 0) reject(new Error(`load client failed (${code ?? signal}): ${err.trim()}`));
      else resolve(JSON.parse(out) as LoadReport);
    });
  });
  // A rejection nobody awaits (the test failed earlier and the scope killed the client) is not news.
  done.catch(() => {});
  return {
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return done;
    },
  };
}
