/**
 * The agent's per-process TLS hook reports (`--tls`: which process's libssl or Go crypto/tls got
 * probes, and why another did not) as tap prints them on stderr: one line per report, named by
 * pod. The report comes from the pod, so its text (a process name, a library path) is the pod's:
 * control characters are shown escaped and a line break cannot start a second line.
 */
import { sanitizeLine } from '../model/terminal-text.ts';
import type { AgentFrame } from '../remote-agent/wire/protocol.ts';

/** The notice codes of the agent's hook reports (docs/agent-protocol.md). */
export const TLS_HOOK_CODES: ReadonlySet<string> = new Set(['TLS_HOOKED', 'TLS_NOT_HOOKED']);

/** Longest report text shown (a hostile process name or path cannot flood the terminal). */
const MAX_REPORT_CHARS = 400;

/** The line for a hook report, or null when the frame is not one. */
export function tlsHookLine(source: { readonly namespace: string; readonly pod: string }, frame: AgentFrame): string | null {
  const { code, message } = frame as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !TLS_HOOK_CODES.has(code) || typeof message !== 'string') return null;
  const text = message.length > MAX_REPORT_CHARS ? `${message.slice(0, MAX_REPORT_CHARS)}...` : message;
  const what = code === 'TLS_HOOKED' ? 'TLS hooked' : 'TLS not hooked';
  return sanitizeLine(`pod ${source.namespace}/${source.pod}: ${what}: ${text}`);
}
