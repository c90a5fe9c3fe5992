/**
 * V8 heap limits cannot be changed once the process runs, and the agent is started as a plain
 * `node agent.js` (the stock image's node, no flags). So on start the agent replaces itself, in
 * place (same pid, same stdio, no child left behind), with `node <heap flags> agent.js ...` via
 * process.execve (Node >= 22.15). Without execve it runs with Node's defaults and says so.
 */
import type { MemoryBudget } from './memory-budget.ts';

/** Set in the re-executed process so it does not try again. */
export const REEXEC_MARK = 'KUBECTL_SHARK_AGENT_HEAP';

export function heapFlags(budget: MemoryBudget): string[] {
  return [`--max-old-space-size=${budget.oldSpaceMb}`, `--max-semi-space-size=${budget.semiSpaceMb}`];
}

export type ReexecResult = 'already' | 'unsupported';

/** Returns only when no re-exec happened; otherwise the process image is replaced. */
export function reexecWithHeapFlags(budget: MemoryBudget): ReexecResult {
  if (process.env[REEXEC_MARK] !== undefined || process.execArgv.some((a) => a.startsWith('--max-old-space-size'))) return 'already';
  const execve = (process as { execve?: (file: string, args?: readonly string[], env?: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return 'unsupported';
  const args = [process.execPath, ...process.execArgv, ...heapFlags(budget), ...process.argv.slice(1)];
  execve.call(process, process.execPath, args, { ...process.env, [REEXEC_MARK]: '1' });
  return 'unsupported'; // not reached: execve replaces the process or throws
}
