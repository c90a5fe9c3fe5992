/**
 * The agent shares the tapped pod's memory and CPU with the app it watches, and can have no limits
 * of its own (an ephemeral container cannot). So it yields to the app:
 * - it asks to be the kernel's first victim when the pod runs out of memory: oom_score_adj 1000
 *   (raising it needs no capability; only lowering does), so the OOM killer takes the agent before
 *   an app that is larger than it;
 * - it runs at the lowest CPU priority, nice 19, on every thread: Linux keeps a nice value per
 *   thread, and setpriority(PRIO_PROCESS, 0) changes only the calling one.
 * Both are inherited across execve, and by threads created later, so doing this before the agent
 * re-executes itself with its heap flags (heap-flags.ts) covers the new process's threads too; the
 * re-executed agent does it again (a no-op by then) to read back and report what holds.
 * Failing is not fatal: the agent goes on and says so in a warning frame.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The highest oom_score_adj: killed first whatever its size. */
export const OOM_SCORE_ADJ = 1000;
/** The lowest CPU priority. */
export const NICE = 19;

export interface YieldWarning {
  readonly code: 'OOM_SCORE' | 'CPU_PRIORITY';
  readonly message: string;
}

export interface YieldOutcome {
  /** /proc/self/oom_score_adj read back (null when it cannot be read). */
  readonly oomScoreAdj: number | null;
  /** The nice value of the main thread read back (null when it cannot be read). */
  readonly nice: number | null;
  readonly warnings: readonly YieldWarning[];
}

/** What yieldToApp touches: the real /proc and setpriority, or a test's stand-ins. */
export interface YieldSystem {
  readText(path: string): string;
  writeText(path: string, text: string): void;
  /** Thread ids of this process. */
  threads(): number[];
  setPriority(tid: number, nice: number): void;
  getPriority(tid: number): number;
}

export const REAL_SYSTEM: YieldSystem = {
  readText: (path) => readFileSync(path, 'utf8'),
  writeText: (path, text) => writeFileSync(path, text),
  threads: () => readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n > 0),
  setPriority: (tid, nice) => setPriority(tid, nice),
  getPriority: (tid) => getPriority(tid),
};

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function yieldToApp(system: YieldSystem = REAL_SYSTEM): YieldOutcome {
  const warnings: YieldWarning[] = [];
  let oomScoreAdj: number | null = null;
  try {
    system.writeText('/proc/self/oom_score_adj', String(OOM_SCORE_ADJ));
  } catch (err) {
    warnings.push({
      code: 'OOM_SCORE',
      message: `could not raise /proc/self/oom_score_adj to ${OOM_SCORE_ADJ} (${reason(err)}): if the pod runs out of memory, the kernel may kill the app instead of the agent`,
    });
  }
  try {
    oomScoreAdj = Number(system.readText('/proc/self/oom_score_adj').trim());
  } catch {
    oomScoreAdj = null;
  }

  let nice: number | null = null;
  const failed: string[] = [];
  let threads: number[] = [];
  try {
    threads = system.threads();
  } catch (err) {
    failed.push(`listing threads: ${reason(err)}`);
  }
  // The main thread first (its tid is the pid): threads it starts from now on inherit its value.
  for (const tid of [process.pid, ...threads.filter((t) => t !== process.pid)]) {
    try {
      system.setPriority(tid, NICE);
    } catch (err) {
      // A thread that ended meanwhile is no failure.
      if ((err as { code?: unknown }).code !== 'ESRCH') failed.push(`thread ${tid}: ${reason(err)}`);
    }
  }
  try {
    nice = system.getPriority(process.pid);
  } catch {
    nice = null;
  }
  if (failed.length > 0 || nice !== NICE) {
    warnings.push({
      code: 'CPU_PRIORITY',
      message: `could not lower the agent's CPU priority to nice ${NICE} on every thread (${failed.length > 0 ? failed.slice(0, 3).join('; ') : `nice is ${nice ?? 'unknown'}`}): it competes with the app for CPU as an equal`,
    });
  }
  if (oomScoreAdj !== OOM_SCORE_ADJ && !warnings.some((w) => w.code === 'OOM_SCORE')) {
    warnings.push({ code: 'OOM_SCORE', message: `oom_score_adj is ${oomScoreAdj ?? 'unknown'}, not ${OOM_SCORE_ADJ}: if the pod runs out of memory, the kernel may kill the app instead of the agent` });
  }
  return { oomScoreAdj, nice, warnings };
}
