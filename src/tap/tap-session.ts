/**
 * A whole `tap`: resolve targets, pre-flight, tap every target pod (capture container, agent upload,
 * agent exec), merge their streams with names, follow new and deleted pods, and stop everything.
 * Output is the caller's: entries, agent frames and notices come out through callbacks.
 */
import type * as k8s from '@kubernetes/client-node';
import { agentArchive } from '../kube/agent-bundle.ts';
import { agentExtraFiles, type AgentArgs } from '../kube/agent-runner.ts';
import { ApiHealth, type ApiHealthOptions, type ApiOutage } from '../kube/api-health.ts';
import type { KubeClient } from '../kube/client.ts';
import { ClusterWatch } from '../kube/cluster-watch.ts';
import type { MemoryDecision } from '../kube/memory-headroom.ts';
import { explainMissingNamespaces } from '../kube/missing-namespaces.ts';
import { decidePodMemory, type MemoryPolicy, type WantedContainer } from '../kube/pod-memory.ts';
import { clusterWideNames, decide, runPreflight, type PreflightDecision, type PreflightReport } from '../kube/preflight.ts';
import type { Profile } from '../kube/profile.ts';
import { candidacy, podKey, podMatcher, selectTargets, type NamespaceScope, type PodMatcher } from '../kube/targets.ts';
import type { Entry } from '../model/entry.ts';
import { SharkError } from '../model/errors.ts';
import { ClusterNames } from '../pipeline/cluster-names.ts';
import { lostExchangesLine } from '../pipeline/lost-exchanges.ts';
import { TapMerger, type PodTapStats, type TapSource } from '../pipeline/tap-merge.ts';
import { utcClock } from '../pipeline/utc-clock.ts';
import type { AgentFrame } from '../remote-agent/wire/protocol.ts';
import { feedClusterNames } from './cluster-names-feed.ts';
import { isOver, PodTap, type PodTapWarningCode } from './pod-tap.ts';
import { compilePodRegex } from './pod-regex.ts';

export interface TapConfig {
  readonly scope: NamespaceScope;
  readonly selector?: string | undefined;
  readonly podRegex?: string | undefined;
  readonly container?: string | undefined;
  readonly image: string;
  readonly profile: Profile;
  /** How long a capture container may take to start. */
  readonly timeoutMs: number;
  readonly agent: AgentArgs;
  /** --max-memory and --force: how each pod's agent is sized. */
  readonly memory: MemoryPolicy;
  /** At most this many pods are started at once. */
  readonly parallelStarts?: number;
  readonly retryDelaysMs?: readonly number[];
  /** Backoff of the probe while the API server is unreachable. */
  readonly apiRetry?: ApiHealthOptions;
}

export interface TapEvents {
  /** `json`: the entry's JSON line when the merger had it cheaply (see MergedEntryHandler). */
  entry(entry: Entry, json?: string): void;
  /** Every agent frame of every pod (after merging), e.g. stats for --stats. */
  frame?(source: TapSource, frame: AgentFrame): void;
  /** Something the user should know while the tap goes on (a pod deleted, a retry, a warning). */
  notice(message: string): void;
  /** The set of pods being tapped changed (count for the header). */
  podsChanged?(count: number): void;
  /** Drops reported by agents, for the TUI header. */
  drops?(delta: number): void;
  /** A warning about one pod (it came as a notice too): -o json writes it as a warning frame. */
  warning?(source: TapSource, code: PodTapWarningCode, message: string): void;
  redactionOff?(): void;
  /** The API server stopped answering (once per outage; `message` is also a notice). */
  apiUnreachable?(outage: ApiOutage, message: string): void;
  /** While it is down, about once a second: the time to the next try (for a countdown). */
  apiWaiting?(outage: ApiOutage, retryInMs: number): void;
  /** It answers lists again and pods are tapped again (`message` is also a notice). */
  apiResumed?(outage: ApiOutage, downMs: number, message: string): void;
}

export interface TapPlan {
  readonly targets: readonly k8s.V1Pod[];
  readonly report: PreflightReport;
  readonly decision: PreflightDecision;
  /** How each target's agent is sized, by pod uid (shown by --dry-run; used by the first start). */
  readonly memory: ReadonlyMap<string, MemoryDecision>;
}

const DEFAULT_PARALLEL_STARTS = 8;

export class TapSession {
  readonly client: KubeClient;
  readonly config: TapConfig;
  readonly names = new ClusterNames();
  readonly merger: TapMerger;
  readonly #events: TapEvents;
  readonly #matcher: PodMatcher;
  readonly #taps = new Map<string, PodTap>();
  #watch: ClusterWatch | undefined;
  #plan: TapPlan | undefined;
  /** The plan's memory decisions not yet used by a first start. */
  #plannedMemory = new Map<string, MemoryDecision>();
  #stopping = false;
  readonly #startedAt = Date.now();
  readonly #health: ApiHealth;

  constructor(client: KubeClient, config: TapConfig, events: TapEvents) {
    this.client = client;
    this.config = config;
    this.#events = events;
    const query = { namespaces: config.scope, selector: config.selector, podRegex: config.podRegex };
    this.#matcher = podMatcher(query, compilePodRegex(config.podRegex));
    // The probe lists where the targets are (a permission the tap already needs).
    const probeNamespace = config.scope === 'all' ? '' : (config.scope[0] ?? '');
    this.#health = new ApiHealth(
      () => client.probePods(probeNamespace),
      {
        unreachable: (outage) => {
          const message = `API server ${client.config.server} unreachable since ${utcClock(outage.sinceMs)} (${outage.reason}); retrying, the pods wait for it`;
          events.notice(message);
          events.apiUnreachable?.(outage, message);
        },
        waiting: (outage, retryInMs) => events.apiWaiting?.(outage, retryInMs),
        resumed: (outage, downMs) => {
          const message = `API server ${client.config.server} answers again after ${Math.round(downMs / 1000)} s (unreachable since ${utcClock(outage.sinceMs)}): tapping the pods again`;
          events.notice(message);
          events.apiResumed?.(outage, downMs, message);
        },
      },
      config.apiRetry,
    );
    this.merger = new TapMerger(this.names, (e, json) => events.entry(e, json), {
      onDrops: (delta) => events.drops?.(delta),
      onRedactionOff: () => events.redactionOff?.(),
      onLost: (source, protocol, lost) => {
        const message = lostExchangesLine(source.key, protocol, lost);
        events.notice(message);
        events.warning?.(source, 'EXCHANGES_LOST', message);
      },
    });
  }

  /** Lists the targets and runs the pre-flight; changes nothing in the cluster. */
  async plan(): Promise<TapPlan> {
    const pods = await this.client.listPods(this.config.scope, this.config.selector);
    let targets: k8s.V1Pod[];
    try {
      targets = selectTargets(pods, this.#matcher);
    } catch (err) {
      throw await explainMissingNamespaces(this.client, this.config.scope, pods, err);
    }
    const namespaces = [...new Set(targets.map((p) => p.metadata?.namespace ?? ''))].sort();
    const report = await runPreflight(this.client, this.config.scope, namespaces, this.config.profile, { tls: this.config.agent.tls === true });
    const decision = decide(report, namespaces, { context: this.client.config.context, user: this.client.config.user });
    const memory = new Map<string, MemoryDecision>();
    await runLimited(targets, this.config.parallelStarts ?? DEFAULT_PARALLEL_STARTS, async (pod) => {
      memory.set(pod.metadata?.uid ?? '', await decidePodMemory(this.client, pod, this.config.memory, this.#containerWanted(pod, report)));
    });
    this.#plannedMemory = new Map(memory);
    this.#plan = { targets, report, decision, memory };
    return this.#plan;
  }

  /** The capture container this tap wants in the pod (what decides whether one is reused). */
  #containerWanted(pod: k8s.V1Pod, report: PreflightReport | undefined): WantedContainer {
    return {
      image: this.config.image,
      container: this.config.container,
      profile: this.config.profile,
      podSecurity: report?.podSecurity.find((p) => p.namespace === pod.metadata?.namespace)?.enforce ?? null,
    };
  }

  /**
   * Taps the planned targets and starts following the cluster. Rejects when no target could be
   * tapped (with the first target's error); targets that fail while others work become notices.
   */
  async start(plan: TapPlan = this.#plan!): Promise<void> {
    const { decision } = plan;
    if (decision.fatal) throw decision.fatal;
    for (const warning of decision.warnings) this.#events.notice(`warning: ${warning}`);
    const usable = plan.targets.filter((p) => decision.usable.has(p.metadata?.namespace ?? ''));
    if (usable.length === 0) throw decision.blocked.values().next().value ?? new SharkError('KUBE_NO_TARGETS', 'no pod can be tapped');
    for (const [ns, err] of decision.blocked) this.#events.notice(`skipping namespace ${ns}: ${err.message}`);

    // Names first, so the first entries are named; cluster-wide when allowed (far ends in other namespaces).
    const namesScope: NamespaceScope = this.config.scope === 'all' || clusterWideNames(plan.report) ? 'all' : this.config.scope;
    this.#watch = new ClusterWatch(this.client, {
      names: feedClusterNames(this.names),
      namesScope,
      targetScope: this.config.scope,
      selector: this.config.selector,
      notice: (m) => this.#events.notice(m),
      health: this.#health,
      targets: {
        podChanged: (pod) => this.#podChanged(pod),
        podDeleted: (pod) => this.#taps.get(podKey(pod))?.podGone('was deleted'),
      },
    });
    // The target watch reports the planned pods too: they must be registered before it starts.
    const started = usable.map((pod) => this.#register(pod));
    await this.#watch.start();

    const failures: [PodTap, unknown][] = [];
    await runLimited(started, this.config.parallelStarts ?? DEFAULT_PARALLEL_STARTS, async (tap) => {
      try {
        await tap.start();
      } catch (err) {
        failures.push([tap, err]);
      }
    });
    if (this.#stopping) return;
    if (failures.length === started.length) {
      await this.stop();
      // In target order, so the same run gives the same message.
      throw failures.sort((a, b) => started.indexOf(a[0]) - started.indexOf(b[0]))[0]![1];
    }
    // Some pods work: the others are told about, and the tap goes on.
    for (const [tap, err] of failures) this.#events.notice(`pod ${tap.source.key}: ${err instanceof Error ? err.message : String(err)}`);
  }

  #register(pod: k8s.V1Pod): PodTap {
    const tap = new PodTap(
      pod,
      {
        client: this.client,
        merger: this.merger,
        archive: () => agentArchive(agentExtraFiles(this.config.agent)),
        notice: (m) => this.#events.notice(m),
        onFrame: (source, frame) => this.#events.frame?.(source, frame),
        health: this.#health,
        whyNotTarget: (p) => this.#whyNotTarget(p),
        warning: (source, code, message) => this.#events.warning?.(source, code, message),
      },
      {
        ...this.#containerWanted(pod, this.#plan?.report),
        timeoutMs: this.config.timeoutMs,
        agent: this.config.agent,
        memory: this.config.memory,
        plannedMemory: this.#takePlannedMemory(pod),
        ...(this.config.retryDelaysMs ? { retryDelaysMs: this.config.retryDelaysMs } : {}),
      },
    );
    this.#taps.set(tap.source.key, tap);
    this.#events.podsChanged?.(this.activePods());
    void tap.done.then(() => this.#events.podsChanged?.(this.activePods()));
    return tap;
  }

  /** The planned decision for this very pod (its uid), once: later launches size it afresh. */
  #takePlannedMemory(pod: k8s.V1Pod): MemoryDecision | undefined {
    const uid = pod.metadata?.uid ?? '';
    const planned = this.#plannedMemory.get(uid);
    this.#plannedMemory.delete(uid);
    return planned;
  }

  #podChanged(pod: k8s.V1Pod): void {
    if (this.#stopping) return;
    const key = podKey(pod);
    const existing = this.#taps.get(key);
    const c = candidacy(pod, this.#matcher);
    if (existing && isOver(existing.phase)) {
      // A pod recreated under the same name (StatefulSet) is a new target.
      if (existing.uid === pod.metadata?.uid || c !== 'target') return;
    } else if (existing) {
      // An app container killed for memory while tapped stops the capture (and says why) before anything else.
      if (existing.podChanged(pod)) return;
      if (c === 'deleting') existing.podGone('is being deleted');
      else if (c === 'not-running') existing.podGone(`is ${pod.status?.phase ?? 'not running'}`);
      return;
    }
    if (c !== 'target') return;
    const blocked = this.#plan?.decision.blocked.get(pod.metadata?.namespace ?? '');
    if (blocked) return;
    const tap = this.#register(pod);
    this.#events.notice(`new pod ${key}: tapping it`);
    tap.start().catch((err: unknown) => {
      if (!this.#stopping) this.#events.notice(`pod ${key}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Why a pod re-read for a restart is no longer a target, or null while it is. */
  #whyNotTarget(pod: k8s.V1Pod): string | null {
    switch (candidacy(pod, this.#matcher)) {
      case 'target':
        return null;
      case 'deleting':
        return 'is being deleted';
      case 'not-running':
        return `is ${pod.status?.phase ?? 'not running'}`;
      default:
        return 'no longer matches';
    }
  }

  /** Pods whose capture is starting or running. */
  activePods(): number {
    let n = 0;
    for (const tap of this.#taps.values()) if (!isOver(tap.phase)) n++;
    return n;
  }

  /** Sends a new filter to every running agent (filter pushdown). */
  setFilter(query: string): void {
    for (const tap of this.#taps.values()) tap.setFilter(query);
  }

  /** Stops every agent (stdin closed), waits briefly for their byes, and stops the watches. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#health.stop();
    this.#watch?.stop();
    await Promise.all([...this.#taps.values()].map((t) => t.stop()));
  }

  stats(): readonly PodTapStats[] {
    return this.merger.stats();
  }

  /** Pods whose capture failed and did not come back (after stop(): the tap ended with them failed). */
  failedPods(): readonly PodTapStats[] {
    // A pod whose agent was killed again after its one restart has no capture either.
    return this.merger.stats().filter((s) => s.state === 'failed' || s.state === 'killed');
  }

  get elapsedMs(): number {
    return Date.now() - this.#startedAt;
  }
}

async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}
