/**
 * The agent's per-process TLS hook reports (`--tls`: which process's libssl or Go crypto/tls got
 * probes, and why another did not) as tap prints them on stderr: one line per report, named by
 * pod, each once (an agent started again after a broken exec stream reports the same processes
 * again). The report comes from the pod, so its text (a process name, a library path) is the
 * pod's: control characters are shown escaped and a line break cannot start a second line.
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

/** Reports remembered to print each once; past this many, older ones may be printed again. */
const MAX_REMEMBERED = 4096;

/** tlsHookLine, each line once per tap. */
export class TlsHookReports {
  readonly #seen = new Set<string>();

  /** The line to print for `frame`, or null: not a hook report, or already printed. */
  line(source: { readonly namespace: string; readonly pod: string }, frame: AgentFrame): string | null {
    const line = tlsHookLine(source, frame);
    if (line === null || this.#seen.has(line)) return null;
    // Bounded: a pod that churns processes for hours must not grow tap's memory.
    if (this.#seen.size >= MAX_REMEMBERED) this.#seen.delete(this.#seen.values().next().value!);
    this.#seen.add(line);
    return line;
  }

  /** Whether `frame` is a hook report (printed or not): other handling should leave it alone. */
  static isReport(frame: AgentFrame): boolean {
    return tlsHookLine({ namespace: '', pod: '' }, frame) !== null;
  }
}
