/**
 * TLS plaintext capture as the agent runs it (`--tls`): opens the probes (probes/, through
 * probe-api.ts), looks for what to hook (targets/) at once and then every second, attaches each new
 * library file's plan, and hands the probes' record batches on. Per process it reports what was
 * hooked and why not; a plan the kernel refused turns the reports of its processes into "not
 * hooked" with the kernel's reason. Everything it opened is closed by close() (and by the kernel
 * when the process dies: every probe is an fd).
 */
import type { TlsEvent, TlsProbeCounters } from './events.ts';
import type { LibraryHookPlan, ProcessHookReport } from './hooks.ts';
import type { TlsProbeOptions, TlsProbes } from './probe-api.ts';

/** One look at the processes in scope (targets/ TargetScanner.scanTargets). */
export interface TargetScanResult {
  /** Plans of library files not planned before: each is attached once. */
  readonly plans: readonly LibraryHookPlan[];
  /** Processes seen for the first time, or whose outcome changed. */
  readonly reports: readonly ProcessHookReport[];
}

export interface TlsCaptureParts {
  /** probes/ openTlsProbes: throws TlsUnavailableError when this kernel or process cannot run them. */
  readonly openProbes: (options: TlsProbeOptions) => TlsProbes;
  /** targets/ TargetScanner.scanTargets of one scanner kept for the whole capture. */
  readonly scanTargets: () => Promise<TargetScanResult>;
  /**
   * targets/ TargetScanner.forgetPlan: plan `key` again at the next scan, through a process still
   * running (the attach failed, e.g. because the process whose /proc/PID/root path the plan named
   * exited first). Tried at most MAX_PLAN_RETRIES times per key.
   */
  readonly forgetPlan?: (key: string) => void;
}

/** A plan whose attach keeps failing is not planned again past this many tries. */
export const MAX_PLAN_RETRIES = 3;

export interface TlsCaptureOptions {
  /** The probes' ring buffer (kernel memory charged to the pod). */
  readonly ringBytes: number;
  /** How often processes are looked at again (new processes, libraries loaded late). */
  readonly rescanMs: number;
  readonly onEvents: (events: readonly TlsEvent[]) => void;
  /** What was hooked in one process, and why not. */
  readonly onReport: (report: ProcessHookReport) => void;
  /** A bug (a record the decoder could not read, a scan that threw): reported, the capture goes on. */
  readonly onInternalError: (err: unknown, where: string) => void;
}

export const DEFAULT_TLS_RESCAN_MS = 1000;

export interface TlsCapture {
  counters(): TlsProbeCounters;
  /**
   * Stops rescanning and events at once; the probes are removed off the event loop (probe-api.ts
   * close()), and the promise resolves when they are. Idempotent. Exiting need not wait for it.
   */
  close(): Promise<void>;
}

/**
 * Opens the probes and attaches what the first scan finds before it resolves, so traffic that starts
 * once the caller says "ready" is seen. Rejects with TlsUnavailableError (from openProbes) when TLS
 * capture cannot run here.
 */
export async function openTlsCapture(options: TlsCaptureOptions, parts: TlsCaptureParts): Promise<TlsCapture> {
  const probes = parts.openProbes({
    ringBytes: options.ringBytes,
    onEvents: options.onEvents,
    onInternalError: (err) => options.onInternalError(err, 'tls probe record'),
  });
  const capture = new RunningTlsCapture(probes, parts, options);
  try {
    await capture.scan();
  } catch (err) {
    void capture.close();
    throw err;
  }
  capture.startRescans();
  return capture;
}

class RunningTlsCapture implements TlsCapture {
  readonly #probes: TlsProbes;
  readonly #parts: TlsCaptureParts;
  readonly #options: TlsCaptureOptions;
  /** Plans planned again after a failed attach, by key: how many times. */
  readonly #retries = new Map<string, number>();
  /** Plans the kernel refused, by key: processes mapping that file are not hooked, for this reason. */
  readonly #refused = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  #scanning = false;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(probes: TlsProbes, parts: TlsCaptureParts, options: TlsCaptureOptions) {
    this.#probes = probes;
    this.#parts = parts;
    this.#options = options;
  }

  startRescans(): void {
    if (this.#closed) return;
    this.#timer = setInterval(() => {
      // A slow scan (many new processes) is not stacked with the next one.
      if (this.#scanning) return;
      this.scan().catch((err: unknown) => this.#options.onInternalError(err, 'tls target scan'));
    }, this.#options.rescanMs);
    this.#timer.unref();
  }

  async scan(): Promise<void> {
    this.#scanning = true;
    try {
      const found = await this.#parts.scanTargets();
      if (this.#closed) return;
      for (const plan of found.plans) {
        const result = this.#probes.attach(plan);
        if (result.ok) {
          this.#refused.delete(plan.key);
          continue;
        }
        this.#refused.set(plan.key, result.reason);
        const tries = this.#retries.get(plan.key) ?? 0;
        if (this.#parts.forgetPlan !== undefined && tries < MAX_PLAN_RETRIES) {
          this.#retries.set(plan.key, tries + 1);
          this.#parts.forgetPlan(plan.key);
        }
      }
      for (const report of found.reports) this.#options.onReport(this.#withAttachOutcome(report));
    } finally {
      this.#scanning = false;
    }
  }

  /** A report of a process whose library file the kernel refused to probe says so. */
  #withAttachOutcome(report: ProcessHookReport): ProcessHookReport {
    const refused = report.planKey === null ? undefined : this.#refused.get(report.planKey);
    if (!report.hooked || refused === undefined) return report;
    return { ...report, hooked: false, planKey: null, reason: `${report.reason}: the probes could not be attached (${refused})` };
  }

  counters(): TlsProbeCounters {
    return this.#probes.counters();
  }

  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#closing = this.#probes.close();
    return this.#closing;
  }
}
