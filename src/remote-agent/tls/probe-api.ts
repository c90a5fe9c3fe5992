/**
 * The loaded BPF programs, as the rest of the agent uses them (contract: implemented in
 * `probes/`, used by `tls-capture.ts`). Opening loads bpf/tls.bpf.o through our own loader (bpf()
 * and perf_event_open() through koffi), attaches the socket programs (raw tracepoints
 * sock_send_length, sock_recv_length, inet_sock_set_state: this kernel refuses fentry) and starts
 * polling the ring buffer from the event loop; `attach` adds the uprobes of one library file. Every kernel object is an fd of this process, so exiting (even
 * by SIGKILL) removes every probe.
 */
import type { LibraryHookPlan } from './hooks.ts';
import type { TlsEvent, TlsProbeCounters } from './events.ts';

export interface TlsProbeOptions {
  /** Ring buffer size in bytes (a power of two, at least one page): kernel memory charged to the pod. */
  readonly ringBytes: number;
  /** Batches of events, in ring order, from the event loop (never re-entrant). */
  readonly onEvents: (events: readonly TlsEvent[]) => void;
  /** A record the decoder could not read (a bug, not bad input): reported and counted apart. */
  readonly onInternalError: (err: unknown) => void;
}

export type AttachResult = { readonly ok: true; readonly probes: number } | { readonly ok: false; readonly reason: string };

export interface TlsProbes {
  /** Places the plan's uprobes (all or none); a plan already attached (same key) is a no-op. */
  attach(plan: LibraryHookPlan): AttachResult;
  counters(): TlsProbeCounters;
  /**
   * Stops events at once and closes every fd off the event loop (the kernel takes its time removing
   * uprobes); resolves when all are closed. Idempotent (the same promise). Nobody needs to wait for
   * it before exiting: the kernel closes what is left.
   */
  close(): Promise<void>;
}

/**
 * Why TLS capture cannot run here, in one sentence with what to do (EPERM on bpf(): "BPF is refused
 * (needs CAP_BPF and CAP_PERFMON, or a privileged container: tap --tls does that)"; no BTF; ...).
 */
export class TlsUnavailableError extends Error {
  readonly code = 'TLS_UNAVAILABLE';
}
