/**
 * A local Kubernetes "cluster" for tests: a real HTTPS API (kubectl 1.32 and client-node 1.4 wire
 * formats) over pods that are real network namespaces with real processes. See README.md.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireNetns } from '../helpers/netns.ts';
import { Cluster } from './cluster.ts';
import { Bridge, sweepStaleSandboxes } from './net.ts';
import { kubeconfigYaml, makeClientCert, makePki, type Pki } from './pki.ts';
import { requireSetpriv } from './security.ts';
import { ApiServer, type Identity } from './server.ts';
import { memoryCgroupsReason } from './pod-cgroups.ts';
import type { Faults, FixturePod, PodMemory, Sandbox, SandboxFixture } from './types.ts';
import { hasCommand } from '../helpers/requirements.ts';

export type {
  DenyRule,
  Faults,
  FixtureContainer,
  FixtureNamespace,
  FixturePod,
  FixtureService,
  PodMemory,
  Sandbox,
  SandboxFixture,
} from './types.ts';
export { demoShopFixture } from './demo-app.ts';

/** This repo's Node 24 (the system node must never run in a pod). */
export function repoNode(): string {
  return realpathSync(fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url)));
}

/** null when a sandbox can run here (root, `ip netns`, openssl), else the reason to skip. */
export function requireSandbox(): string | null {
  const netns = requireNetns([]);
  if (netns !== null) return netns;
  if (!hasCommand('openssl')) return '`openssl` is not installed (the sandbox makes its CA with it)';
  const setpriv = requireSetpriv();
  if (setpriv !== null) return setpriv;
  try {
    repoNode();
  } catch {
    return "this repo's node_modules/.bin/node is missing (run npm ci)";
  }
  return null;
}

let swept = false;

class RunningSandbox implements Sandbox {
  readonly server: string;
  readonly kubeconfig: string;
  readonly faults: Faults;
  readonly cluster: Cluster;
  readonly #api: ApiServer;
  readonly #bridge: Bridge;
  readonly #pki: Pki;
  readonly #dir: string;
  readonly #tokens: Map<string, Identity>;
  #files = 0;
  #stopping: Promise<void> | undefined;

  constructor(o: { server: string; kubeconfig: string; cluster: Cluster; api: ApiServer; bridge: Bridge; pki: Pki; dir: string; tokens: Map<string, Identity> }) {
    this.server = o.server;
    this.kubeconfig = o.kubeconfig;
    this.cluster = o.cluster;
    this.faults = o.cluster.faults;
    this.#api = o.api;
    this.#bridge = o.bridge;
    this.#pki = o.pki;
    this.#dir = o.dir;
    this.#tokens = o.tokens;
  }

  kubeconfigFor(user: string, opts: { token?: boolean; namespace?: string } = {}): string {
    this.#files += 1;
    const safe = user.replace(/[^A-Za-z0-9_.-]/g, '_');
    const file = join(this.#dir, `kubeconfig-${safe}-${this.#files}`);
    const base = { server: this.server, ca: this.#pki.caCert, user, namespace: opts.namespace ?? 'default' };
    if (opts.token === false) {
      const { cert, key } = makeClientCert(this.#pki, `client-${safe}-${this.#files}`, user, []);
      writeFileSync(file, kubeconfigYaml({ ...base, clientCert: cert, clientKey: key }), { mode: 0o600 });
    } else {
      const token = `sandbox-${safe}-${randomBytes(12).toString('hex')}`;
      this.#tokens.set(token, { user, groups: ['system:authenticated'] });
      writeFileSync(file, kubeconfigYaml({ ...base, token }), { mode: 0o600 });
    }
    return file;
  }

  createPod(pod: FixturePod): Promise<void> {
    return this.cluster.createPod(pod);
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    await this.cluster.deletePod(namespace, name).done;
  }

  podNetns(namespace: string, name: string): string {
    const ns = this.cluster.runtime(namespace, name)?.netns;
    if (!ns) throw new Error(`no pod ${namespace}/${name} in the sandbox`);
    return ns.name;
  }

  containerDir(namespace: string, pod: string, container: string): string {
    const c = this.cluster.runtime(namespace, pod)?.containers.get(container);
    if (!c) throw new Error(`no container ${container} in pod ${namespace}/${pod} of the sandbox`);
    return c.dir;
  }

  podIP(namespace: string, name: string): string {
    const rt = this.cluster.runtime(namespace, name);
    if (!rt) throw new Error(`no pod ${namespace}/${name} in the sandbox`);
    return rt.ip;
  }

  processesIn(namespace: string, name: string): number[] {
    return this.cluster.processesIn(namespace, name);
  }

  get memoryCgroupsReason(): string | null {
    return memoryCgroupsReason();
  }

  podMemory(namespace: string, name: string): PodMemory | null {
    const rt = this.cluster.runtime(namespace, name);
    if (!rt) throw new Error(`no pod ${namespace}/${name} in the sandbox`);
    return rt.cgroup ?? null;
  }

  stopApi(): Promise<void> {
    return this.#api.close();
  }

  startApi(): Promise<void> {
    return this.#api.reopen();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const steps: [string, () => Promise<void> | void][] = [
      ['api server', () => this.#api.close()],
      ['pods', () => this.cluster.stop()],
      ['bridge', () => this.#bridge.destroy()],
      ['files', () => rmSync(this.#dir, { recursive: true, force: true })],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`sandbox: stopping the ${what} failed: ${String(err)}\n`);
      }
    }
  }
}

/** Forgets the watch history, so watches from any earlier resourceVersion get 410 Expired. */
export function compactWatchHistory(sandbox: Sandbox): void {
  (sandbox as RunningSandbox).cluster.store.compact();
}

export async function startSandbox(fixture: SandboxFixture, options: { dir?: string } = {}): Promise<Sandbox> {
  const reason = requireSandbox();
  if (reason !== null) throw new Error(`the sandbox cannot run here: ${reason}`);
  if (!swept) {
    swept = true;
    const removed = await sweepStaleSandboxes();
    if (removed.length > 0) process.stderr.write(`sandbox: removed leftovers of killed runs: ${removed.join(' ')}\n`);
  }
  const parent = options.dir ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `ks-${process.pid}-sandbox-`));
  // Containers that run as another user must reach their own directories below it (not list it).
  chmodSync(dir, 0o711);
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const pkiDir = join(dir, 'pki');
    mkdirSync(pkiDir, { mode: 0o700 });
    const pki = makePki(pkiDir);
    const admin = makeClientCert(pki, 'admin', 'admin', ['system:masters']);
    const binDir = join(dir, 'bin');
    mkdirSync(binDir);
    symlinkSync(repoNode(), join(binDir, 'node'));

    const bridge = await Bridge.create();
    cleanups.push(() => bridge.destroy());
    const faults: Faults = { ephemeralContainersDisabled: false, deny: [], unknownImages: [], websocketV4Only: false, apiUnavailable: false, metricsUnavailable: false };
    const cluster = new Cluster({ dir, binDir, bridge, faults });
    cleanups.push(() => cluster.stop());
    const tokens = new Map<string, Identity>();
    const api = new ApiServer(
      cluster,
      { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.caCert) },
      tokens,
    );
    const port = await api.listen();
    cleanups.push(() => api.close());
    const server = `https://127.0.0.1:${port}`;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml({ server, ca: pki.caCert, user: 'admin', namespace: 'default', clientCert: admin.cert, clientKey: admin.key }), { mode: 0o600 });

    for (const ns of fixture.namespaces ?? []) cluster.ensureNamespace(ns);
    for (const svc of fixture.services ?? []) cluster.createService(svc);
    await Promise.all((fixture.pods ?? []).map((pod) => cluster.createPod(pod)));
    if (!existsSync(kubeconfig)) throw new Error('kubeconfig vanished');
    return new RunningSandbox({ server, kubeconfig, cluster, api, bridge, pki, dir, tokens });
  } catch (err) {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        /* keep cleaning */
      }
    }
    throw err;
  }
}
