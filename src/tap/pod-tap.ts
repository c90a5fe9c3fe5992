/**
 * One tapped pod: its capture container, the agent upload and the agent exec, kept alive until
 * asked to stop. Before anything is added to the pod, the agent's --max-memory is sized from the
 * pod's memory limit and usage (memory-headroom.ts); a pod without room is refused. A broken exec
 * stream (connection lost, not the agent's own end) is retried with backoff after checking the pod
 * still exists and is still a target; a deleted pod ends with a notice. While the API server is
 * unreachable (every exec stream dies with it) the pod waits for it in the ApiHealth without
 * spending its retries, and is tapped again once it answers. A tap stopped while the pod's capture
 * is broken ends it as failed, not as stopped. An agent killed by SIGKILL (the pod ran out of
 * memory, most likely) is restarted once, sized again from the pod's memory at that moment; killed
 * again, the pod ends as "killed". An app container killed for memory while tapped (the kernel
 * picks its OOM victim by size and score, and a Burstable app larger than the agent goes first)
 * stops the pod's capture at once, for good: the pod ends as "killed" (app-container-ends.ts).
 */
import type * as k8s from '@kubernetes/client-node';
import { uploadAgent, type AgentArgs } from '../kube/agent-runner.ts';
import type { ApiHealth } from '../kube/api-health.ts';
import type { KubeClient } from '../kube/client.ts';
import { ensureCaptureContainer, ephemeralState, type CaptureContainer, type EnsureOptions } from '../kube/ephemeral.ts';
import { podMemoryLimit, type MemoryDecision } from '../kube/memory-headroom.ts';
import { decidePodMemory, type MemoryPolicy } from '../kube/pod-memory.ts';
import { formatMemory } from '../kube/quantity.ts';
import { SharkError } from '../model/errors.ts';
import type { TapMerger, TapSource } from '../pipeline/tap-merge.ts';
import { utcClock } from '../pipeline/utc-clock.ts';
import type { AgentFrame } from '../remote-agent/wire/protocol.ts';
import { AgentRun, type RunEnd } from './agent-run.ts';
import { AppContainerEnds, appEndedMessage, appKilledMessage } from './app-container-ends.ts';

/** The capture container as ensureCaptureContainer takes it (image, target, profile, timeout), plus the agent's flags. */
export interface PodTapOptions extends Omit<EnsureOptions, 'signal' | 'noReuse'> {
  readonly agent: AgentArgs;
  readonly memory: MemoryPolicy;
  /** The decision shown by the plan (--dry-run): the first launch uses it instead of asking again. */
  readonly plannedMemory?: MemoryDecision | undefined;
  /** Delays between retries of a broken stream (ms); its length is the number of retries. */
  readonly retryDelaysMs?: readonly number[];
}

/** Codes of the warnings a pod's tap gives besides its agent's own (-o json writes them as warning frames). */
/** EXCHANGES_LOST: the pod's agent could not read some exchanges (src/pipeline/lost-exchanges.ts), said once per pod and protocol. */
/** APP_KILLED: an app container of the pod was killed for memory while tapped; its capture stopped. */
export type PodTapWarningCode = 'AGENT_KILLED' | 'MEMORY_FORCED' | 'EXCHANGES_LOST' | 'APP_KILLED';

export interface PodTapDeps {
  readonly client: KubeClient;
  readonly merger: TapMerger;
  readonly archive: () => Buffer;
  readonly notice: (message: string) => void;
  /** Every agent frame, after the merger saw it (e.g. stats for --stats). */
  readonly onFrame?: (source: TapSource, frame: AgentFrame) => void;
  /** Where an API server outage is told and waited out. */
  readonly health: ApiHealth;
  /** Why a re-read pod is no longer to be tapped ("is Succeeded"), or null while it is. */
  readonly whyNotTarget?: (pod: k8s.V1Pod) => string | null;
  /** A warning about this pod (also given as a notice). */
  readonly warning?: (source: TapSource, code: PodTapWarningCode, message: string) => void;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000];
/** A run that lasted this long resets the retry budget. */
const STABLE_RUN_MS = 30_000;
/** How long stop() waits for the agent's bye before dropping the connection. */
export const STOP_GRACE_MS = 3000;
/**
 * A killed agent is restarted this many times per tap, no more: the pod's memory may have been
 * short for a moment, but an agent killed again would only be killed again, each time taking the
 * pod to its limit.
 */
export const RESTARTS_AFTER_KILL = 1;
/**
 * Before that restart, and before the kill is told: the dead agent's memory is given back, the pod
 * settles, and the kubelet reports whether an app container died too (the OOM killer may have
 * taken the app, and the agent with it when the app was the init of the PID namespace it joined).
 */
const KILL_RESTART_DELAY_MS = 2000;
const MiB = 1024 * 1024;

export type PodTapPhase = 'starting' | 'capturing' | 'retrying' | 'ended' | 'failed' | 'killed';

/** Over for good: nothing more will be tried in this pod. */
export function isOver(phase: PodTapPhase): boolean {
  return phase === 'ended' || phase === 'failed' || phase === 'killed';
}


export class PodTap {
  readonly source: TapSource;
  readonly uid: string;
  #pod: k8s.V1Pod;
  readonly #deps: PodTapDeps;
  readonly #o: PodTapOptions;
  #run: AgentRun | undefined;
  #phase: PodTapPhase = 'starting';
  #stopping = false;
  #gone: string | null = null;
  #containerName = '';
  /** Foreign `shark-*` containers already told about (once each, not at every restart). */
  readonly #foreignNoticed = new Set<string>();
  #launching: Promise<void> | undefined;
  #plannedMemory: MemoryDecision | undefined;
  /** The running agent's --max-memory, MiB. */
  #maxMemoryMb: number | undefined;
  #kills = 0;
  readonly #abort = new AbortController();
  /** Settles when the tap is over for good. */
  readonly done: Promise<void>;
  #resolveDone!: () => void;
  #wake: (() => void) | undefined;
  /** Why the capture is broken while it is being restarted (phase 'retrying'). */
  #broken = '';
  /** The app's containers as they were when the tap began, and their ends since. */
  readonly #appEnds: AppContainerEnds;
  /** Set once an app container was killed for memory: the summary's note; the capture is over. */
  #appKilled: string | null = null;
  /** The running agent was sized with --force in a pod without room. */
  #forced = false;

  constructor(pod: k8s.V1Pod, deps: PodTapDeps, options: PodTapOptions) {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.source = { key: `${namespace}/${name}`, namespace, pod: name };
    this.uid = pod.metadata?.uid ?? '';
    this.#pod = pod;
    this.#deps = deps;
    this.#o = options;
    this.#plannedMemory = options.plannedMemory;
    this.#appEnds = new AppContainerEnds(pod);
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  get phase(): PodTapPhase {
    return this.#phase;
  }

  get container(): string {
    return this.#containerName;
  }

  /** Ensures the container, uploads and starts the agent; rejects (and ends as failed) when it cannot. */
  async start(): Promise<void> {
    this.#deps.merger.started(this.source, 'adding the capture container');
    try {
      await this.#launch();
    } catch (err) {
      if (this.#cancelled) {
        // Stopped, deleted or the app killed while starting: not a failure to start (the notice, if any, was given).
        this.#finishCancelled();
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.#finish('failed', message);
      throw err;
    }
    void this.#supervise();
  }

  get #cancelled(): boolean {
    return this.#stopping || this.#gone !== null || this.#appKilled !== null;
  }

  /** Ends a tap that was cancelled: killed when the app was, else ended (deleted, or stopped). */
  #finishCancelled(): void {
    if (this.#appKilled !== null) this.#finish('killed', this.#appKilled);
    else this.#finish('ended', this.#gone ?? 'stopped');
  }

  async #launch(): Promise<void> {
    const launching = this.#doLaunch();
    this.#launching = launching;
    try {
      await launching;
    } finally {
      if (this.#launching === launching) this.#launching = undefined;
    }
  }

  /** Sizes the agent for this pod now (or takes the planned decision once); throws when refused. */
  async #sizeAgent(): Promise<number> {
    const planned = this.#plannedMemory;
    this.#plannedMemory = undefined;
    const decision =
      planned ??
      (await decidePodMemory(this.#deps.client, this.#pod, this.#o.memory, {
        image: this.#o.image,
        container: this.#o.container,
        profile: this.#o.profile,
        podSecurity: this.#o.podSecurity ?? null,
      }));
    if (decision.verdict === 'refused') throw new SharkError('KUBE_MEMORY_HEADROOM', decision.problem ?? decision.summary, { pod: this.source.key });
    this.#forced = decision.verdict === 'forced';
    if (decision.verdict === 'forced') {
      this.#warn(
        'MEMORY_FORCED',
        `pod ${this.source.key}: ${decision.summary} (--force; if the pod runs out of memory, the kernel's OOM killer picks its victim by size and score, ` +
          `so a Burstable app larger than the agent can be killed, not the agent: tap watches the pod and stops its capture if an app container is)`,
      );
    }
    return Math.floor(decision.maxMemoryBytes / MiB);
  }

  #warn(code: PodTapWarningCode, message: string): void {
    this.#deps.notice(message);
    this.#deps.warning?.(this.source, code, message);
  }

  async #doLaunch(): Promise<void> {
    const { client } = this.#deps;
    // Before the pod is changed: a refused pod gets no container (it could never be removed).
    const maxMemoryMb = await this.#sizeAgent();
    if (this.#cancelled) throw new SharkError('KUBE_START_FAILED', 'stopped while starting');
    const ensure = (noReuse: boolean) =>
      ensureCaptureContainer(client, this.#pod, {
        image: this.#o.image,
        container: this.#o.container,
        profile: this.#o.profile,
        podSecurity: this.#o.podSecurity ?? null,
        timeoutMs: this.#o.timeoutMs,
        signal: this.#abort.signal,
        noReuse,
      });
    let c = await ensure(false);
    this.#noticeForeign(c);
    if (this.#cancelled) throw new SharkError('KUBE_START_FAILED', 'stopped while starting');
    const ref = { namespace: this.source.namespace, pod: this.source.pod };
    this.#deps.merger.started(this.source, c.reused ? `reusing ${c.name}` : `added ${c.name}`);
    let dir: string;
    try {
      dir = await uploadAgent(client, { ...ref, container: c.name }, this.#deps.archive(), this.#o.timeoutMs);
    } catch (err) {
      // A reused container may have just ended (its keeper gave up): add a fresh one instead. Not
      // when the bytes were altered on the way: a new container would get the same.
      const code = (err as SharkError).code;
      if (!c.reused || this.#cancelled || code === 'KUBE_FORBIDDEN' || code === 'KUBE_UNAUTHORIZED' || code === 'KUBE_UNREACHABLE' || code === 'KUBE_AGENT_INTEGRITY') throw err;
      c = await ensure(true);
      if (this.#cancelled) throw new SharkError('KUBE_START_FAILED', 'stopped while starting');
      this.#deps.merger.started(this.source, `added ${c.name}`);
      dir = await uploadAgent(client, { ...ref, container: c.name }, this.#deps.archive(), this.#o.timeoutMs);
    }
    const target = { ...ref, container: c.name, dir };
    this.#containerName = c.name;
    if (this.#cancelled) throw new SharkError('KUBE_START_FAILED', 'stopped while starting');
    this.#maxMemoryMb = maxMemoryMb;
    this.#run = await AgentRun.start(
      client,
      target,
      { ...this.#o.agent, maxMemoryMb },
      (frame) => {
        this.#deps.merger.frame(this.source, frame);
        this.#deps.onFrame?.(this.source, frame);
      },
      (line) => this.#deps.notice(`pod ${this.source.key}: agent wrote a line that is not a frame: ${line.slice(0, 120)}`),
    );
    this.#phase = 'capturing';
    // The app killed meanwhile: no bye, its memory back now (podChanged found no run to kill).
    if (this.#appKilled !== null) this.#run.kill();
    else if (this.#cancelled) this.#run.stop();
  }

  /** Someone else's running `shark-*` container is never entered: say so, and why, once. */
  #noticeForeign(c: CaptureContainer): void {
    for (const f of c.foreign) {
      if (this.#foreignNoticed.has(f.name)) continue;
      this.#foreignNoticed.add(f.name);
      this.#deps.notice(
        `pod ${this.source.key}: ${f.name} is not a capture container of kubectl shark (its ${f.differs.join(', ')} differ): left alone; ` +
          `${c.reused ? `using ${c.name}` : `adding a new one (${c.name})`}`,
      );
    }
  }

  async #supervise(): Promise<void> {
    const delays = this.#o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    let attempt = 0;
    for (;;) {
      const run = this.#run!;
      const end: RunEnd = await run.ended;
      // The app was killed (the agent was stopped for it, or died with it): over, whatever the run says.
      if (this.#appKilled !== null) {
        this.#finishCancelled();
        return;
      }
      if (this.#stopping || end.kind === 'stopped') {
        this.#finishStopped();
        return;
      }
      if (this.#gone !== null) {
        this.#finish('ended', this.#gone);
        return;
      }
      if (end.kind === 'failed') {
        this.#deps.notice(`pod ${this.source.key}: the agent failed: ${end.message}`);
        this.#finish('failed', end.message);
        return;
      }
      if (end.kind === 'killed' || (end.kind === 'broken' && (await this.#containerOomKilled()))) {
        if (await this.#restartAfterKill(end.kind === 'killed' ? `exit code ${end.exitCode}, SIGKILL` : 'its container was OOMKilled')) {
          attempt = 0;
          continue;
        }
        return;
      }
      const why = end.kind === 'broken' ? end.detail : `the agent ended (${end.reason})`;
      if (Date.now() - run.startedAt >= STABLE_RUN_MS) attempt = 0;
      this.#phase = 'retrying';
      this.#broken = why;
      // Retries until one starts, or the budget is spent.
      let told = 0;
      for (;;) {
        if (attempt >= delays.length) {
          const message = `${why}; gave up after ${delays.length} retries`;
          this.#deps.notice(`pod ${this.source.key}: ${message}`);
          this.#finish('failed', message);
          return;
        }
        const delay = delays[attempt]!;
        attempt++;
        // An attempt given back after an outage is not told twice.
        if (attempt > told) this.#deps.notice(`pod ${this.source.key}: ${why}; retrying in ${delay / 1000} s (${attempt}/${delays.length})`);
        told = Math.max(told, attempt);
        await this.#waitFor(this.#sleep(delay));
        // An outage is not this pod's failure: waited out without spending a retry.
        if (!this.#cancelled && this.#deps.health.isDown) await this.#waitFor(this.#deps.health.whenUp());
        if (this.#cancelled) {
          this.#finishStopped();
          return;
        }
        let fresh: k8s.V1Pod | null;
        try {
          fresh = await this.#deps.client.readPod(this.source.namespace, this.source.pod);
        } catch (err) {
          if (this.#deps.health.failed(err)) attempt--;
          continue;
        }
        if (fresh === null || fresh.metadata?.deletionTimestamp || fresh.metadata?.uid !== this.uid) {
          this.podGone('was deleted');
          this.#finish('ended', this.#gone!);
          return;
        }
        const notTarget = this.#deps.whyNotTarget?.(fresh) ?? null;
        if (notTarget !== null) {
          this.podGone(notTarget);
          this.#finish('ended', this.#gone!);
          return;
        }
        if (this.podChanged(fresh)) {
          this.#finishCancelled();
          return;
        }
        this.#pod = fresh;
        try {
          await this.#launch();
          break;
        } catch (err) {
          if (this.#cancelled) {
            this.#finishStopped();
            return;
          }
          if (this.#deps.health.failed(err)) {
            attempt--;
            continue;
          }
          const message = err instanceof Error ? err.message : String(err);
          this.#deps.notice(`pod ${this.source.key}: restarting the agent failed: ${message}`);
        }
      }
    }
  }

  /** With cgroup v2's memory.oom.group the whole capture container goes: its status says OOMKilled. */
  async #containerOomKilled(): Promise<boolean> {
    const fresh = await this.#deps.client.readPod(this.source.namespace, this.source.pod).catch(() => undefined);
    if (!fresh) return false;
    const state = ephemeralState(fresh, this.#containerName);
    return state.kind === 'terminated' && state.reason === 'OOMKilled';
  }

  /**
   * The agent was killed (out of memory, most likely). Waits for the pod to settle first: if an app
   * container died too, that is what is told, and the capture stops. Else says so, and restarts the
   * agent once, sized again from the pod's memory now; returns false when the pod's tap is over
   * (killed again, no room left, the app killed, the pod gone, or stopped).
   */
  async #restartAfterKill(how: string): Promise<boolean> {
    this.#phase = 'retrying';
    this.#broken = `the agent was killed (${how})`;
    // Woken early by stop(), the pod's deletion, or the app's kill seen by the watch.
    await this.#waitFor(this.#sleep(KILL_RESTART_DELAY_MS));
    const fresh = this.#appKilled === null && this.#gone === null ? await this.#deps.client.readPod(this.source.namespace, this.source.pod).catch(() => undefined) : undefined;
    if (fresh) this.podChanged(fresh);
    if (this.#appKilled !== null) {
      this.#finishCancelled();
      return false;
    }
    this.#kills++;
    const limit = podMemoryLimit(this.#pod);
    const agentMax = `--max-memory ${this.#maxMemoryMb ?? '?'} MiB`;
    const what = `the agent was killed (out of memory?): ${how}, with ${agentMax}, ${limit === null ? 'no pod memory limit' : `pod memory limit ${formatMemory(limit)}`}`;
    if (this.#stopping || this.#gone !== null || isOver(this.#phase)) {
      this.#warn('AGENT_KILLED', `pod ${this.source.key}: ${what}`);
      this.#finishCancelled();
      return false;
    }
    if (this.#kills > RESTARTS_AFTER_KILL) {
      this.#warn('AGENT_KILLED', `pod ${this.source.key}: ${what}; it was killed before, so it is not restarted again`);
      // The summary's note is one short line: the verdict first.
      this.#finish('killed', `agent killed (out of memory?) ${this.#kills} times, not restarted again (${agentMax}, limit ${limit === null ? 'none' : formatMemory(limit)})`);
      return false;
    }
    this.#warn('AGENT_KILLED', `pod ${this.source.key}: ${what}; restarting it once, sized from the pod's memory now`);
    if (fresh === null || (fresh && (fresh.metadata?.deletionTimestamp || fresh.metadata?.uid !== this.uid))) {
      this.podGone('was deleted');
      this.#finish('ended', this.#gone!);
      return false;
    }
    if (fresh) this.#pod = fresh;
    try {
      await this.#launch();
      return true;
    } catch (err) {
      if (this.#cancelled) {
        this.#finishCancelled();
        return false;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.#deps.notice(`pod ${this.source.key}: the killed agent is not restarted: ${message}`);
      this.#finish('killed', `agent killed (out of memory?), not restarted: ${message}`);
      return false;
    }
  }

  /**
   * The pod as the watch (or a re-read) reports it while tapped: an app container's new end is
   * told; one killed for memory stops the capture at once (the agent is killed, not asked to say
   * bye: its memory goes back to the pod now) and for good. True when the app was killed.
   */
  podChanged(pod: k8s.V1Pod): boolean {
    if (this.#appKilled !== null) return true;
    if (isOver(this.#phase) || pod.metadata?.uid !== this.uid) return false;
    for (const end of this.#appEnds.next(pod)) {
      if (!end.memoryKill) {
        this.#deps.notice(appEndedMessage(end, this.source.key));
        continue;
      }
      const limit = podMemoryLimit(pod);
      this.#warn('APP_KILLED', appKilledMessage(end, { pod: this.source.key, limitBytes: limit, forced: this.#forced }));
      this.#appKilled = `container ${end.container} ${end.reason === 'OOMKilled' ? 'OOM-killed' : 'killed (137)'} while tapped, capture stopped (limit ${limit === null ? 'none' : formatMemory(limit)}${this.#forced ? ', --force' : ''})`;
      this.#abort.abort();
      this.#run?.kill();
      this.#wake?.();
      // Nothing running or starting: over now; else when the run ends, or the launch gives up.
      if (this.#run === undefined && this.#launching === undefined) this.#finishCancelled();
      return true;
    }
    return false;
  }

  /** Waits for `promise`, or less when the tap stops or the pod goes (both wake it). */
  #waitFor(promise: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      void promise.then(done);
    });
  }

  #sleep(ms: number): Promise<void> {
    // Unref'd: a wait cut short by stop() must not hold the process.
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }

  /**
   * The tap stops (or the pod went): a capture that was running ends; one that was broken and not
   * yet back failed (the tap's exit code says so).
   */
  #finishStopped(): void {
    if (this.#appKilled !== null) {
      this.#finish('killed', this.#appKilled);
    } else if (this.#gone !== null) {
      this.#finish('ended', this.#gone);
    } else if (this.#phase === 'retrying') {
      const outage = this.#deps.health.outage;
      const why = outage === null ? this.#broken : `API server unreachable since ${utcClock(outage.sinceMs)} (${outage.reason})`;
      this.#finish('failed', `${why}; not back before the tap stopped`);
    } else {
      this.#finish('ended', 'stopped');
    }
  }

  #finish(state: 'ended' | 'failed' | 'killed', message: string): void {
    if (isOver(this.#phase)) return;
    this.#phase = state;
    this.#deps.merger.ended(this.source, state, message);
    this.#resolveDone();
  }

  /** The pod is being deleted or is gone: its capture ends (once) with a notice. */
  podGone(how: string): void {
    if (this.#gone !== null || isOver(this.#phase)) return;
    this.#gone = `pod ${how}`;
    this.#deps.notice(`pod ${this.source.key} ${how}: its capture ended`);
    this.#abort.abort();
    this.#run?.stop();
    this.#wake?.();
    // The stream of a deleted pod may hang rather than close: do not wait for it forever.
    const run = this.#run;
    setTimeout(() => run?.kill(), STOP_GRACE_MS).unref();
    if (this.#run === undefined) this.#finish('ended', this.#gone);
  }

  /** Closes the agent's stdin and waits (at most STOP_GRACE_MS) for its bye. */
  async stop(): Promise<void> {
    // Decided now: a relaunch in flight may still succeed, but too late to count.
    const wasBroken = this.#phase === 'retrying';
    this.#stopping = true;
    this.#abort.abort();
    this.#wake?.();
    if (wasBroken) this.#finishStopped();
    // A launch in flight may still start an agent (it stops it at once): wait for it, briefly.
    if (this.#launching) await Promise.race([this.#launching.catch(() => undefined), new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
    const run = this.#run;
    if (run === undefined) {
      this.#finishCancelled();
      return;
    }
    run.stop();
    const timer = setTimeout(() => run.kill(), STOP_GRACE_MS);
    await run.ended;
    clearTimeout(timer);
    this.#finishCancelled();
  }

  /** A new filter for the running agent (filter pushdown). */
  setFilter(query: string): void {
    this.#run?.send({ type: 'filter', query });
  }
}
