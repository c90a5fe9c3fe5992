/**
 * The capture container: one ephemeral container `shark-<5 chars>` per tapped pod, in the pod's
 * network namespace, targeting the app container, with only the capabilities the profile needs
 * (profile.ts), running the keeper (keeper.ts) so it ends by itself when no agent uses it, and
 * marked as ours by an environment variable. Ephemeral containers can never be removed from a pod,
 * so a still-running one from an earlier tap is reused, but only if it is exactly what we would
 * add: someone else's `shark-*` container is never entered.
 */
import { randomInt } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { apiFailure, forbiddenError, isPodSecurityMessage, kubeError, podSecurityError, type Permission } from './api-errors.ts';
import type { KubeClient } from './client.ts';
import { keeperCommand } from './keeper.ts';
import { captureSecurityContext, type Profile } from './profile.ts';

export const DEFAULT_IMAGE = 'node:24-slim';
export const CONTAINER_PREFIX = 'shark-';
export const DEFAULT_START_TIMEOUT_MS = 60_000;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomContainerName(): string {
  let id = '';
  for (let i = 0; i < 5; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return `${CONTAINER_PREFIX}${id}`;
}

/**
 * Marks a capture container as made by kubectl shark; the value names the layout (keeper, folders,
 * securityContext), so a container of an incompatible version is not reused.
 */
export const CAPTURE_MARKER: k8s.V1EnvVar = { name: 'KUBECTL_SHARK_CAPTURE', value: 'v2' };

export interface CaptureContainerOptions {
  readonly name: string;
  readonly image: string;
  readonly target: string;
  readonly profile: Profile;
  /** The namespace's PodSecurity enforce level, when known (see captureSecurityContext). */
  readonly podSecurity?: string | null;
}

export function captureContainerSpec(o: CaptureContainerOptions): k8s.V1EphemeralContainer {
  return {
    name: o.name,
    image: o.image,
    command: keeperCommand(o.name),
    env: [CAPTURE_MARKER],
    targetContainerName: o.target,
    securityContext: captureSecurityContext(o.profile, o.podSecurity),
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

/**
 * The fields of an ephemeral container that decide what runs in it and with which rights (the
 * rest is defaulting and bookkeeping: imagePullPolicy, terminationMessage*).
 */
const DEFINING_FIELDS = [
  'image',
  'command',
  'args',
  'workingDir',
  'env',
  'envFrom',
  'volumeMounts',
  'volumeDevices',
  'securityContext',
  'targetContainerName',
  'stdin',
  'stdinOnce',
  'tty',
] as const;

/** Plain booleans the API server leaves out when false (unlike securityContext's, which are pointers: false there is a setting). */
const OMITTED_WHEN_FALSE: ReadonlySet<string> = new Set(['stdin', 'stdinOnce', 'tty']);

/** A value with keys sorted and empty strings, arrays and objects dropped, for comparing specs as stored and as sent. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(canonical);
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = canonical((v as Record<string, unknown>)[k]);
    if (x !== undefined) out[k] = x;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The defining fields in which `spec` differs from the capture container we would add under its name (none: it is ours). */
export function differencesFromOurs(spec: k8s.V1EphemeralContainer, wanted: Omit<CaptureContainerOptions, 'name'>): string[] {
  const ours = captureContainerSpec({ ...wanted, name: spec.name });
  const value = (c: k8s.V1EphemeralContainer, f: (typeof DEFINING_FIELDS)[number]): string =>
    JSON.stringify(OMITTED_WHEN_FALSE.has(f) ? c[f] === true : canonical(c[f])) ?? '';
  return DEFINING_FIELDS.filter((f) => value(spec, f) !== value(ours, f));
}

/** Fields a tap's own flags choose (--image, -c, --profile and the namespace's level): a capture container of another tap may differ in them. */
const SETTINGS_FIELDS: ReadonlySet<string> = new Set(['image', 'targetContainerName', 'securityContext']);

export interface ReuseChoice {
  /** A running capture container of ours to reuse, or null. */
  readonly reuse: string | null;
  /**
   * Running `shark-*` containers that are not capture containers of kubectl shark (their command,
   * marker or anything but a tap's settings differs), with the fields that differ: left alone.
   * Ours made with other settings are neither reused nor listed.
   */
  readonly foreign: ReadonlyArray<{ readonly name: string; readonly differs: readonly string[] }>;
}

/** Which running `shark-*` container may take our agent: only one exactly like ours (marker included). */
export function chooseReusable(pod: k8s.V1Pod, wanted: Omit<CaptureContainerOptions, 'name'>): ReuseChoice {
  let reuse: string | null = null;
  const foreign: { name: string; differs: string[] }[] = [];
  for (const spec of pod.spec?.ephemeralContainers ?? []) {
    if (!spec.name.startsWith(CONTAINER_PREFIX) || ephemeralState(pod, spec.name).kind !== 'running') continue;
    const differs = differencesFromOurs(spec, wanted);
    if (differs.length === 0) reuse ??= spec.name;
    else if (differs.some((f) => !SETTINGS_FIELDS.has(f))) foreign.push({ name: spec.name, differs });
  }
  return { reuse, foreign };
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
  /** Running `shark-*` containers of the pod that are not ours (left alone). */
  readonly foreign: ReuseChoice['foreign'];
}

/** Reuses or adds the capture container of a pod and waits until it runs. */
export async function ensureCaptureContainer(client: KubeClient, pod: k8s.V1Pod, o: EnsureOptions): Promise<CaptureContainer> {
  const namespace = pod.metadata?.namespace ?? '';
  const podName = pod.metadata?.name ?? '';
  const target = targetContainerOf(pod, o.container);
  const { reuse, foreign } = chooseReusable(pod, { image: o.image, target, profile: o.profile, podSecurity: o.podSecurity ?? null });
  if (reuse !== null && !o.noReuse) return { name: reuse, reused: true, target, foreign };

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
      throw patchError(err, client, namespace, podName, o.profile);
    }
  }
  if (patched === undefined) throw new SharkError('KUBE_API', `could not find a free container name in pod ${namespace}/${podName}`);
  const now = startOutcome(patched, name, o.image);
  if (now === 'running') return { name, reused: false, target, foreign };
  if (now !== null) throw now;
  await waitForStart(client, namespace, podName, name, o.image, patched.metadata?.resourceVersion ?? '', o.timeoutMs, o.signal);
  return { name, reused: false, target, foreign };
}

function patchError(err: unknown, client: KubeClient, namespace: string, pod: string, profile: Profile): SharkError {
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
    return podSecurityError(namespace, level, message!, profile);
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
