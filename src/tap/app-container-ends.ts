/**
 * The tapped pod's own containers (the app's, not the capture container), watched while it is
 * tapped. The agent's memory counts against the pod's limit, and when the pod reaches it the
 * kernel's OOM killer picks its victim by size and score (RSS + oom_score_adj x limit / 1000), not
 * by who came last: a Burstable app larger than the agent goes first despite the agent's score of
 * 1000. So tap follows the pod's container statuses and stops the capture when an app container
 * is killed for memory. An end is a termination the kubelet reports that was not there when the
 * tap began: the container's `state.terminated` (not restarted, or not yet), or its
 * `lastState.terminated` after a restart (`restartCount` rising); each is found once.
 * Pure: pods in, ends out.
 */
import type * as k8s from '@kubernetes/client-node';
import { formatMemory } from '../kube/quantity.ts';

/** The exit code of a process killed by SIGKILL (128 + 9): the OOM killer's signal. */
const SIGKILL_EXIT = 137;

export interface AppContainerEnd {
  readonly container: string;
  /** The kubelet's reason (OOMKilled, Error, Completed, ...); '' when it gave none. */
  readonly reason: string;
  /** null when the kubelet reported a restart without the run's end. */
  readonly exitCode: number | null;
  /**
   * Killed for memory, as far as the kubelet can tell: OOMKilled, or SIGKILLed (137) with no other
   * reason known to be true (a runtime does not always see the OOM event of a pod-level kill).
   */
  readonly memoryKill: boolean;
}

/** The app's containers: regular ones and sidecars (init containers that keep running). */
function appStatuses(pod: k8s.V1Pod): k8s.V1ContainerStatus[] {
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  return [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []).filter((s) => sidecars.has(s.name))];
}

/** What tells one run's end from another: the container instance and when it ended. */
function endKey(t: k8s.V1ContainerStateTerminated): string {
  const finished = t.finishedAt instanceof Date ? t.finishedAt.toISOString() : String(t.finishedAt ?? '');
  return `${t.containerID ?? ''}|${finished}|${t.exitCode}`;
}

function endOf(container: string, t: k8s.V1ContainerStateTerminated | null): AppContainerEnd {
  const reason = t?.reason ?? '';
  const exitCode = t === null ? null : t.exitCode;
  return { container, reason, exitCode, memoryKill: reason === 'OOMKilled' || (exitCode === SIGKILL_EXIT && (reason === '' || reason === 'Error')) };
}

export class AppContainerEnds {
  readonly #restarts = new Map<string, number>();
  readonly #ends = new Set<string>();

  /** `pod` as it was when the tap began: the ends it already shows are not the tap's to report. */
  constructor(pod: k8s.V1Pod) {
    this.next(pod);
  }

  /** The ends `pod` shows that were not seen before, in container order. */
  next(pod: k8s.V1Pod): AppContainerEnd[] {
    const found: AppContainerEnd[] = [];
    for (const status of appStatuses(pod)) {
      const before = this.#restarts.get(status.name);
      this.#restarts.set(status.name, Math.max(before ?? 0, status.restartCount));
      let fresh = false;
      for (const t of [status.lastState?.terminated, status.state?.terminated]) {
        if (t === undefined) continue;
        const key = `${status.name}|${endKey(t)}`;
        if (this.#ends.has(key)) continue;
        this.#ends.add(key);
        fresh = true;
        // A container first seen already ended ended before the tap: known, not reported.
        if (before !== undefined) found.push(endOf(status.name, t));
      }
      // Restarted, but with no lastState to say how (a kubelet keeps one; an end already told was
      // its state.terminated, now its lastState).
      if (!fresh && before !== undefined && status.restartCount > before && status.lastState?.terminated === undefined) found.push(endOf(status.name, null));
    }
    return found;
  }
}

/** "OOM-killed", "killed (exit code 137, SIGKILL)", "ended (Error, exit code 1)": how the container ended. */
export function describeEnd(end: AppContainerEnd): string {
  if (end.reason === 'OOMKilled') return 'OOM-killed';
  if (end.exitCode === null) return 'restarted';
  if (end.exitCode === SIGKILL_EXIT && end.memoryKill) return 'killed (exit code 137, SIGKILL: out of memory?)';
  return `ended (${end.reason === '' ? '' : `${end.reason}, `}exit code ${end.exitCode})`;
}

export interface AppKillContext {
  /** "namespace/name". */
  readonly pod: string;
  /** podMemoryLimit(): null when the pod has none. */
  readonly limitBytes: number | null;
  /** The agent runs in a pod refused for room (--force). */
  readonly forced: boolean;
}

/**
 * The one line said when an app container was killed for memory while tapped: what happened, why
 * the tap may be the cause, that the capture stopped, and what to do.
 */
export function appKilledMessage(end: AppContainerEnd, ctx: AppKillContext): string {
  const limit = ctx.limitBytes === null ? 'no pod memory limit: the node ran out' : `pod memory limit ${formatMemory(ctx.limitBytes)}`;
  const todo = ctx.forced
    ? "tap it without --force (a pod without room is refused), or raise the pod's memory limit"
    : ctx.limitBytes === null
      ? 'tap it again when the node has memory to spare'
      : "raise the pod's memory limit, or tap it with a lower --max-memory";
  return (
    `pod ${ctx.pod}: container ${end.container} was ${describeEnd(end)} while tapped (${limit}, the capture agent's memory counts against it): ` +
    `capture stopped for this pod; ${todo}`
  );
}

/** The line said for any other end (a crash, a probe's restart): not the tap's doing, the capture goes on. */
export function appEndedMessage(end: AppContainerEnd, pod: string): string {
  return `pod ${pod}: container ${end.container} ${describeEnd(end)} while tapped; not a memory kill, so the capture goes on`;
}
