/**
 * The few API calls `tap` makes, on client-node 1.4, each with a timeout (client-node sets none) and
 * its errors mapped to SharkErrors that name the permission involved.
 */
import * as k8s from '@kubernetes/client-node';
import type { Writable, Readable } from 'node:stream';
import { apiFailure, kubeError, withTimeout, type Permission } from './api-errors.ts';
import type { LoadedKubeConfig } from './kubeconfig.ts';
import type { PodMemoryUsage } from './memory-headroom.ts';
import { parseMemoryQuantity } from './quantity.ts';
import type { NamespaceScope } from './targets.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** A probe of an API server that may be down waits no longer than this (it is tried again soon). */
export const PROBE_TIMEOUT_MS = 10_000;
/** The metrics API only informs a decision: a slow metrics-server must not hold the tap up. */
export const METRICS_TIMEOUT_MS = 5_000;

export interface AccessQuestion {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  /** "" = cluster scope (all namespaces). */
  readonly namespace: string;
}

export interface AccessAnswer {
  readonly allowed: boolean;
  readonly denied?: boolean;
  readonly reason?: string;
}

export type ExecStatus = k8s.V1Status;

/** What we use of the exec WebSocket (ws's WebSocket, typed loosely to keep ws out of our types). */
export interface ExecSocket {
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(code?: number): void;
  terminate(): void;
  readonly readyState: number;
}

export class KubeClient {
  readonly config: LoadedKubeConfig;
  readonly #core: k8s.CoreV1Api;
  readonly #authz: k8s.AuthorizationV1Api;
  readonly #custom: k8s.CustomObjectsApi;
  readonly #timeoutMs: number;

  constructor(config: LoadedKubeConfig, options: { requestTimeoutMs?: number } = {}) {
    this.config = config;
    this.#core = config.kc.makeApiClient(k8s.CoreV1Api);
    this.#authz = config.kc.makeApiClient(k8s.AuthorizationV1Api);
    this.#custom = config.kc.makeApiClient(k8s.CustomObjectsApi);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async #call<T>(action: string, permission: Permission | undefined, run: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    try {
      return await withTimeout(run(), timeoutMs);
    } catch (err) {
      throw kubeError(err, {
        action,
        server: this.config.server,
        context: this.config.context,
        user: this.config.user,
        ...(permission ? { permission } : {}),
      });
    }
  }

  /** Every pod of the scope the selector returns (pages of 500). */
  async listPods(scope: NamespaceScope, selector?: string): Promise<k8s.V1Pod[]> {
    const namespaces = scope === 'all' ? [''] : scope;
    const out: k8s.V1Pod[] = [];
    for (const namespace of namespaces) {
      let cont: string | undefined;
      do {
        const where = namespace === '' ? 'all namespaces' : `namespace ${namespace}`;
        const params = { limit: 500, ...(selector ? { labelSelector: selector } : {}), ...(cont ? { _continue: cont } : {}) };
        const list = await this.#call(`listing pods in ${where}`, { verb: 'list', resource: 'pods', namespace }, () =>
          namespace === '' ? this.#core.listPodForAllNamespaces(params) : this.#core.listNamespacedPod({ namespace, ...params }),
        );
        out.push(...list.items);
        cont = list.metadata?._continue || undefined;
      } while (cont);
    }
    return out;
  }

  async listServices(namespace: string): Promise<k8s.V1ServiceList> {
    return this.#call(`listing services in ${namespace || 'all namespaces'}`, { verb: 'list', resource: 'services', namespace }, () =>
      namespace === '' ? this.#core.listServiceForAllNamespaces() : this.#core.listNamespacedService({ namespace }),
    );
  }

  async listPodList(namespace: string, selector?: string): Promise<k8s.V1PodList> {
    const params = selector ? { labelSelector: selector } : {};
    return this.#call(`listing pods in ${namespace || 'all namespaces'}`, { verb: 'list', resource: 'pods', namespace }, () =>
      namespace === '' ? this.#core.listPodForAllNamespaces(params) : this.#core.listNamespacedPod({ namespace, ...params }),
    );
  }

  /** One list of at most one pod: whether the API server answers lists again after an outage. */
  async probePods(namespace: string): Promise<void> {
    await this.#call(
      `listing pods in ${namespace || 'all namespaces'}`,
      { verb: 'list', resource: 'pods', namespace },
      () => (namespace === '' ? this.#core.listPodForAllNamespaces({ limit: 1 }) : this.#core.listNamespacedPod({ namespace, limit: 1 })),
      Math.min(PROBE_TIMEOUT_MS, this.#timeoutMs),
    );
  }

  /** The pod, or null when it no longer exists. */
  async readPod(namespace: string, name: string): Promise<k8s.V1Pod | null> {
    try {
      return await this.#call(`reading pod ${namespace}/${name}`, { verb: 'get', resource: 'pods', namespace }, () =>
        this.#core.readNamespacedPod({ namespace, name }),
      );
    } catch (err) {
      const cause = (err as Error).cause;
      if (apiFailure(cause)?.httpStatus === 404) return null;
      throw err;
    }
  }

  /**
   * The pod's memory in use as `kubectl top pod` shows it: the sum of its containers' working sets
   * from the metrics API (metrics.k8s.io/v1beta1 PodMetrics). Never throws: when there is no
   * number, the answer says why (no metrics-server, not allowed, no sample yet, no answer).
   */
  async podMemoryUsage(namespace: string, name: string): Promise<PodMemoryUsage> {
    let metrics: unknown;
    try {
      metrics = await withTimeout(
        this.#custom.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace, plural: 'pods', name }),
        Math.min(METRICS_TIMEOUT_MS, this.#timeoutMs),
      );
    } catch (err) {
      const status = apiFailure(err)?.httpStatus;
      const why =
        status === 404
          ? 'the metrics API (metrics.k8s.io) is not served, or has no sample of this pod yet'
          : status === 403
            ? 'not allowed to get pods.metrics.k8s.io'
            : status === 503
              ? 'the metrics API is unavailable (503)'
              : status !== undefined
                ? `the metrics API answered ${status}`
                : `the metrics API did not answer (${err instanceof Error ? err.message : String(err)})`;
      return { bytes: null, source: 'none', why };
    }
    const containers = (metrics as { containers?: { usage?: { memory?: string } }[] } | null)?.containers;
    if (!Array.isArray(containers) || containers.length === 0) return { bytes: null, source: 'none', why: 'the metrics API has no container sample of this pod' };
    let bytes = 0;
    for (const c of containers) {
      const used = parseMemoryQuantity(c.usage?.memory);
      if (used === null) return { bytes: null, source: 'none', why: `the metrics API reported memory ${JSON.stringify(c.usage?.memory)}` };
      bytes += used;
    }
    return { bytes, source: 'metrics' };
  }

  /** The namespace's labels; null when we may not read it (or it does not exist). */
  async namespaceLabels(namespace: string): Promise<Record<string, string> | null> {
    try {
      const ns = await this.#call(`reading namespace ${namespace}`, undefined, () => this.#core.readNamespace({ name: namespace }));
      return ns.metadata?.labels ?? {};
    } catch (err) {
      const status = apiFailure((err as Error).cause)?.httpStatus;
      if (status === 403 || status === 404) return null;
      throw err;
    }
  }

  /**
   * Whether the namespace exists: false only on the server's 404; null when it may not be asked
   * (403: get namespaces is often not granted) or did not answer. Never throws.
   */
  async namespaceExists(name: string): Promise<boolean | null> {
    try {
      await this.#call(`reading namespace ${name}`, undefined, () => this.#core.readNamespace({ name }));
      return true;
    } catch (err) {
      return apiFailure((err as Error).cause)?.httpStatus === 404 ? false : null;
    }
  }

  async accessReview(q: AccessQuestion): Promise<AccessAnswer> {
    const review = await this.#call('asking the API server what we may do (SelfSubjectAccessReview)', undefined, () =>
      this.#authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: q.verb,
              resource: q.resource,
              ...(q.subresource ? { subresource: q.subresource } : {}),
              ...(q.namespace ? { namespace: q.namespace } : {}),
            },
          },
        },
      }),
    );
    const status = review.status;
    return {
      allowed: status?.allowed === true,
      ...(status?.denied !== undefined ? { denied: status.denied } : {}),
      ...(status?.reason ? { reason: status.reason } : {}),
    };
  }

  /**
   * Adds an ephemeral container with a strategic-merge patch (client-node's default content type,
   * JSON Patch, would make the server reject an object body). Rejects with the raw client-node
   * error: the caller tells "disabled" (404) from RBAC and PodSecurity (403).
   */
  async patchEphemeralContainers(namespace: string, name: string, container: k8s.V1EphemeralContainer): Promise<k8s.V1Pod> {
    return withTimeout(
      this.#core.patchNamespacedPodEphemeralcontainers(
        { namespace, name, body: { spec: { ephemeralContainers: [container] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      ),
      this.#timeoutMs,
    );
  }

  /** Opens an exec WebSocket; resolves once it is open (completion: statusCallback / 'close'). */
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: readonly string[],
    stdout: Writable,
    stderr: Writable,
    stdin: Readable | null,
    onStatus: (status: ExecStatus) => void,
  ): Promise<ExecSocket> {
    const exec = new k8s.Exec(this.config.kc);
    return exec.exec(namespace, pod, container, [...command], stdout, stderr, stdin, false, onStatus) as unknown as Promise<ExecSocket>;
  }

  watcher(): k8s.Watch {
    return new k8s.Watch(this.config.kc);
  }
}
