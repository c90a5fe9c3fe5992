/**
 * The capture container: one ephemeral container `shark-<5 chars>` per tapped pod, in the pod's
 * network namespace, targeting the app container, with only the capabilities the profile needs,
 * running the keeper (keeper.ts) so it ends by itself when no agent uses it. Ephemeral containers
 * can never be removed from a pod, so a still-running one from an earlier tap is reused.
 */
import { randomInt } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { apiFailure, forbiddenError, isPodSecurityMessage, kubeError, podSecurityError, type Permission } from './api-errors.ts';
import type { KubeClient } from './client.ts';
import { keeperCommand } from './keeper.ts';
import { profileAdds, type Profile } from './profile.ts';

export const DEFAULT_IMAGE = 'node:24-slim';
export const CONTAINER_PREFIX = 'shark-';
export const DEFAULT_START_TIMEOUT_MS = 60_000;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomContainerName(): string {
  let id = '';
  for (let i = 0; i < 5; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return `${CONTAINER_PREFIX}${id}`;
}

/** Where the agent bundle is unpacked in the container (and what the keeper looks for). */
export function agentDir(container: string): string {
  return `/tmp/kubectl-shark-${container}`;
}

export function securityContextFor(profile: Profile, podSecurity?: string | null): k8s.V1SecurityContext {
  const adds = profileAdds(profile, podSecurity);
  if (adds.privileged) return { privileged: true };
  return adds.capabilities.length === 0 ? {} : { capabilities: { add: adds.capabilities } };
}

export interface CaptureContainerOptions {
  readonly name: string;
  readonly image: string;
  readonly target: string;
  readonly profile: Profile;
  /** The namespace's PodSecurity enforce level, when known (see profileAdds). */
  readonly podSecurity?: string | null;
}

export function captureContainerSpec(o: CaptureContainerOptions): k8s.V1EphemeralContainer {
  return {
    name: o.name,
    image: o.image,
    command: keeperCommand(agentDir(o.name)),
    targetContainerName: o.target,
    securityContext: securityContextFor(o.profile, o.podSecurity),
    terminationMessagePolicy: 'File',
  };
}

/** The app container to target: -c, or the first container of the pod. */
export function targetContainerOf(pod: k8s.V1Pod, requested: string | undefined): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (requested !== undefined && requested !== '') {
    if (!names.includes(requested)) {
      throw new SharkError(
        'USAGE',
        `pod ${pod.metadata?.namespace}/${pod.metadata?.name} has no container "${requested}" (its containers: ${names.join(', ')}); fix -c`,
      );
    }
    return requested;
  }
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && names.includes(annotated)) return annotated;
  return names[0] ?? '';
}

export type ContainerState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'waiting'; readonly reason: string; readonly message: string }
  | { readonly kind: 'running' }
  | { readonly kind: 'terminated'; readonly reason: string; readonly exitCode: number; readonly message: string };

export function ephemeralState(pod: k8s.V1Pod, name: string): ContainerState {
  const status = pod.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
  const state = status?.state;
  if (!state) return { kind: 'missing' };
  if (state.running) return { kind: 'running' };
  if (state.terminated) {
    return { kind: 'terminated', reason: state.terminated.reason ?? '', exitCode: state.terminated.exitCode ?? 0, message: state.terminated.message ?? '' };
  }
  if (state.waiting) return { kind: 'waiting', reason: state.waiting.reason ?? '', message: state.waiting.message ?? '' };
  return { kind: 'missing' };
}

/** A running shark container made like the one we would add (same image, target and privileges). */
export function reusableContainer(pod: k8s.V1Pod, wanted: Omit<CaptureContainerOptions, 'name'>): string | null {
  const security = JSON.stringify(securityContextFor(wanted.profile, wanted.podSecurity));
  for (const spec of pod.spec?.ephemeralContainers ?? []) {
    if (!spec.name.startsWith(CONTAINER_PREFIX)) continue;
    if (spec.image !== wanted.image || spec.targetContainerName !== wanted.target) continue;
    if (JSON.stringify(spec.securityContext ?? {}) !== security) continue;
    if (ephemeralState(pod, spec.name).kind === 'running') return spec.name;
  }
  return null;
}

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const START_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'StartError']);

/** What a state means for a starting container: go on waiting (null), started ('running'), or an error. */
export function startOutcome(pod: k8s.V1Pod, name: string, image: string): 'running' | SharkError | null {
  const where = `pod ${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const state = ephemeralState(pod, name);
  switch (state.kind) {
    case 'running':
      return 'running';
    case 'missing':
      return null;
    case 'waiting':
      if (PULL_REASONS.has(state.reason)) {
        return new SharkError(
          'KUBE_IMAGE_PULL',
          `the capture image ${image} cannot be pulled in ${where} (${state.reason}${state.message ? `: ${state.message}` : ''}); ` +
            'check the name, or pass --image with an image holding Node.js 22+ that the cluster can pull (default node:24-slim)',
          { image },
        );
      }
      if (START_REASONS.has(state.reason)) {
        return new SharkError('KUBE_START_FAILED', `the capture container ${name} in ${where} cannot start (${state.reason}${state.message ? `: ${state.message}` : ''})`);
      }
      return null;
    case 'terminated':
      return new SharkError(
        'KUBE_START_FAILED',
        `the capture container ${name} in ${where} ended at once (${state.reason || 'terminated'}, exit code ${state.exitCode}${state.message ? `: ${state.message}` : ''}); ` +
          `the image ${image} must provide \`node\` (Node.js 22+) on its PATH`,
      );
  }
}

export interface EnsureOptions {
  readonly image: string;
  readonly container?: string | undefined;
  readonly profile: Profile;
  readonly podSecurity?: string | null;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Add a new container even when a running one could be reused (the reused one just failed us). */
  readonly noReuse?: boolean;
}

export interface CaptureContainer {
  readonly name: string;
  readonly reused: boolean;
  readonly target: string;
}

/** Reuses or adds the capture container of a pod and waits until it runs. */
export async function ensureCaptureContainer(client: KubeClient, pod: k8s.V1Pod, o: EnsureOptions): Promise<CaptureContainer> {
  const namespace = pod.metadata?.namespace ?? '';
  const podName = pod.metadata?.name ?? '';
  const target = targetContainerOf(pod, o.container);
  const reuse = o.noReuse ? null : reusableContainer(pod, { image: o.image, target, profile: o.profile, podSecurity: o.podSecurity ?? null });
  if (reuse !== null) return { name: reuse, reused: true, target };

  let patched: k8s.V1Pod | undefined;
  let name = '';
  for (let attempt = 0; attempt < 3 && patched === undefined; attempt++) {
    name = randomContainerName();
    try {
      patched = await client.patchEphemeralContainers(namespace, podName, captureContainerSpec({ name, image: o.image, target, profile: o.profile, podSecurity: o.podSecurity ?? null }));
    } catch (err) {
      const failure = apiFailure(err);
      // A random name already taken in this pod: draw another.
      if (failure?.httpStatus === 422 && /Duplicate value/.test(failure.status?.message ?? '')) continue;
      throw patchError(err, client, namespace, podName);
    }
  }
  if (patched === undefined) throw new SharkError('KUBE_API', `could not find a free container name in pod ${namespace}/${podName}`);
  const now = startOutcome(patched, name, o.image);
  if (now === 'running') return { name, reused: false, target };
  if (now !== null) throw now;
  await waitForStart(client, namespace, podName, name, o.image, patched.metadata?.resourceVersion ?? '', o.timeoutMs, o.signal);
  return { name, reused: false, target };
}

function patchError(err: unknown, client: KubeClient, namespace: string, pod: string): SharkError {
  const failure = apiFailure(err);
  const permission: Permission = { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace };
  const message = failure?.status?.message;
  if (failure?.httpStatus === 404) {
    if (failure.status?.details?.name) return new SharkError('KUBE_API', `pod ${namespace}/${pod} no longer exists`);
    return new SharkError(
      'KUBE_EPHEMERAL_DISABLED',
      `ephemeral containers are disabled on the cluster at ${client.config.server} (PATCH pods/${pod}/ephemeralcontainers answered 404): ` +
        'kubectl shark needs Kubernetes 1.25+ (or 1.23+ with the EphemeralContainers feature gate on) to add its capture container',
    );
  }
  if (failure?.httpStatus === 403 && isPodSecurityMessage(message)) {
    const level = /PodSecurity "([a-z]+)/.exec(message!)?.[1] ?? 'baseline';
    return podSecurityError(namespace, level, message!);
  }
  if (failure?.httpStatus === 403) return forbiddenError([permission], message, { context: client.config.context, user: client.config.user });
  if (failure?.httpStatus === 422) return new SharkError('KUBE_API', `the API server refused the capture container for pod ${namespace}/${pod}: ${message ?? '422 Invalid'}`);
  return kubeError(err, {
    action: `adding the capture container to pod ${namespace}/${pod}`,
    server: client.config.server,
    context: client.config.context,
    user: client.config.user,
    permission,
  });
}

/** Watches the one pod until the container runs, fails, or the timeout passes. */
export function waitForStart(
  client: KubeClient,
  namespace: string,
  pod: string,
  name: string,
  image: string,
  resourceVersion: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const watch = client.watcher();
    let controller: AbortController | undefined;
    let settled = false;
    let rv = resourceVersion;
    let last: string = 'no status yet';
    const finish = (err?: SharkError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      controller?.abort();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => finish(new SharkError('KUBE_START_FAILED', `stopped while waiting for ${name} in pod ${namespace}/${pod}`));
    signal?.addEventListener('abort', onAbort);
    const timer = setTimeout(
      () =>
        finish(
          new SharkError(
            'KUBE_START_FAILED',
            `the capture container ${name} in pod ${namespace}/${pod} did not start within ${Math.round(timeoutMs / 1000)} s (last state: ${last}); ` +
              'raise --timeout, or check kubectl describe pod',
          ),
        ),
      timeoutMs,
    );
    const onEvent = (type: string, obj: k8s.V1Pod): void => {
      if (settled) return;
      if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
      if (type === 'DELETED') {
        finish(new SharkError('KUBE_API', `pod ${namespace}/${pod} was deleted while its capture container was starting`));
        return;
      }
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      const state = ephemeralState(obj, name);
      if (state.kind === 'waiting') last = `waiting: ${state.reason}${state.message ? ` (${state.message})` : ''}`;
      const outcome = startOutcome(obj, name, image);
      if (outcome === 'running') finish();
      else if (outcome !== null) finish(outcome);
    };
    const start = (): void => {
      if (settled) return;
      const params: Record<string, string> = { fieldSelector: `metadata.name=${pod}` };
      if (rv) params.resourceVersion = rv;
      watch
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
          params,
          (type, obj: k8s.V1Pod & { code?: number }) => {
            if (type === 'ERROR') {
              if (obj?.code === 410) rv = '';
              return;
            }
            onEvent(type, obj);
          },
          (err: unknown) => {
            if (settled) return;
            if (err === null || err === undefined) {
              setTimeout(start, 200);
              return;
            }
            if (apiFailure(err)?.httpStatus === 410) {
              rv = '';
              setTimeout(start, 200);
              return;
            }
            finish(
              kubeError(err, {
                action: `watching pod ${namespace}/${pod}`,
                server: client.config.server,
                context: client.config.context,
                user: client.config.user,
                permission: { verb: 'watch', resource: 'pods', namespace },
              }),
            );
          },
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          (err: unknown) => finish(kubeError(err, { action: `watching pod ${namespace}/${pod}`, server: client.config.server, context: client.config.context })),
        );
    };
    start();
  });
}
