/**
 * A local Kubernetes "cluster" for tests: a real HTTPS API (kubectl 1.32 and client-node 1.4 wire
 * formats) over pods that are real network namespaces with runc containers from a local image
 * store. See README.md.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireNetns } from '../helpers/netns.ts';
import { Cluster, type ContainerRuntime } from './cluster.ts';
import { Bridge, sweepStaleSandboxes } from './net.ts';
import { kubeconfigYaml, makeClientCert, makePki, type Pki } from './pki.ts';
import { sandboxImages } from './images/store.ts';
import { runcRoot, runtimeLeftovers, runtimeReason, sweepStaleContainers } from './oci/runc.ts';
import { ApiServer, type Identity } from './server.ts';
import { cgroupFoldersNamed, memoryCgroupsReason } from './pod-cgroups.ts';
import type { Faults, FixturePod, PodMemory, Sandbox, SandboxFixture, SandboxLeftovers } from './types.ts';
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
  SandboxLeftovers,
} from './types.ts';
export { demoShopFixture } from './demo-app.ts';

/** This repo's Node 24 (the system node must never run in a pod). */
export function repoNode(): string {
  return realpathSync(fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url)));
}

/** null when a sandbox can run here (root, `ip netns`, openssl, runc), else the reason to skip. */
export function requireSandbox(): string | null {
  const netns = requireNetns([]);
  if (netns !== null) return netns;
  if (!hasCommand('openssl')) return '`openssl` is not installed (the sandbox makes its CA with it)';
  const runtime = runtimeReason();
  if (runtime !== null) return runtime;
  try {
    repoNode();
  } catch {
    return "this repo's node_modules/.bin/node is missing (run npm ci): the node:24-slim image is built from it";
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

  #running(namespace: string, pod: string, container: string): ContainerRuntime {
    const c = this.cluster.runtime(namespace, pod)?.containers.get(container);
    if (!c?.proc?.running) throw new Error(`no running container ${container} in pod ${namespace}/${pod} of the sandbox`);
    return c;
  }

  containerRootfs(namespace: string, pod: string, container: string): string {
    return this.#running(namespace, pod, container).proc!.container.rootfs;
  }

  containerPid(namespace: string, pod: string, container: string): number {
    return this.#running(namespace, pod, container).proc!.container.pid;
  }

  get runcRoot(): string {
    return runcRoot();
  }

  leftovers(): SandboxLeftovers {
    const runtime = runtimeLeftovers(this.cluster.containerIdPrefix, this.#dir);
    const names = new Set(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean));
    return {
      containers: runtime.containers,
      cgroups: [...this.cluster.podCgroupNames].flatMap((n) => cgroupFoldersNamed(n)),
      mounts: runtime.mounts,
      netns: [...this.cluster.podNetnsNames].filter((n) => names.has(n)),
    };
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
    const group = rt.cgroup;
    if (!group) return null;
    return {
      dir: group.dir,
      limitBytes: () => group.limitBytes(),
      usageBytes: () => group.usageBytes(),
      workingSetBytes: () => group.workingSetBytes(),
      // runc removes a container's cgroup when it ends: its OOM kills were counted before.
      oomKills: () => group.oomKills() + rt.oomKillsOfRemoved,
    };
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
    // A real node's pods leave nothing behind; neither may the sandbox's.
    const left = this.leftovers();
    const what = Object.entries(left).filter(([, list]) => (list as readonly string[]).length > 0);
    if (what.length > 0) throw new Error(`the sandbox left things on this machine: ${what.map(([k, list]) => `${k}: ${(list as readonly string[]).join(', ')}`).join('; ')}`);
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
    // Containers first: a dead run's sandbox folder holds their mounted root filesystems.
    sweepStaleContainers();
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
    const images = sandboxImages();
    await images.ensure((line) => {
      if (!line.startsWith('reusing')) process.stderr.write(`sandbox: ${line}\n`);
    });

    const bridge = await Bridge.create();
    cleanups.push(() => bridge.destroy());
    const faults: Faults = { ephemeralContainersDisabled: false, deny: [], unknownImages: [], websocketV4Only: false, apiUnavailable: false, metricsUnavailable: false };
    const cluster = new Cluster({ dir, images, bridge, faults });
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
