/**
 * One run of the capture agent in a pod, as the tap sees it: kube's AgentExec hands back the
 * agent's stdout as bytes; here they are split into bounded lines and read as protocol frames
 * (docs/agent-protocol.md), and the exec's end is told apart into what the tap does next
 * (stopped, the agent's own bye, failed, broken stream, killed).
 */
import { AgentExec, EXIT_SIGKILL, exitCodeOf, LineStream, type AgentArgs, type ExecEnd, type ExecTarget } from '../kube/agent-runner.ts';
import type { KubeClient } from '../kube/client.ts';
import { maxFrameLineBytes, parseAgentLine, type AgentFrame, type ControlFrame } from '../remote-agent/wire/protocol.ts';

/** The container runs but may not open a packet socket: what the user can change. */
const NET_RAW_HINT =
  ' — the capture container lacks CAP_NET_RAW (in a "baseline" namespace tap relies on the runtime\'s default NET_RAW, which this runtime, ' +
  'CRI-O for one, does not give; elsewhere the runtime withheld it): run with --profile privileged in a namespace whose PodSecurity allows it ' +
  '(kubectl label namespace NS pod-security.kubernetes.io/enforce=privileged --overwrite)';

export type RunEnd =
  /** We closed stdin and the agent exited. */
  | { readonly kind: 'stopped' }
  /** The agent stopped on its own terms (bye) without being asked. */
  | { readonly kind: 'bye'; readonly reason: string; readonly exitCode: number }
  /** The agent could not go on (error frame or a non-zero exit). */
  | { readonly kind: 'failed'; readonly message: string; readonly exitCode: number }
  /** The exec stream ended without the agent's result: connection lost, container gone. */
  | { readonly kind: 'broken'; readonly detail: string }
  /** The agent died of SIGKILL (exit code 137), as the kernel's OOM killer kills. */
  | { readonly kind: 'killed'; readonly exitCode: number };

/** What the agent said that decides how its run ended. */
interface LastWords {
  readonly bye: string | null;
  /** From an error frame, with a hint when the user can do something about it. */
  readonly errorMessage: string | null;
}

/**
 * How a run ended, from the exec's end and the agent's last frames. 1 and 2 are the agent's own
 * verdicts (capture failed, bad usage): retrying cannot help. SIGKILL (the OOM killer, most likely)
 * is told apart: pod-tap restarts it at most once. Anything else (another signal, an exec error)
 * may pass: retry.
 */
export function classifyRunEnd(end: ExecEnd, words: LastWords): RunEnd {
  const { status, stopping } = end;
  if (status === undefined) {
    if (stopping) return { kind: 'stopped' };
    return { kind: 'broken', detail: `exec stream closed (${end.closeCode}${end.closeReason.length > 0 ? ` ${end.closeReason}` : ''}) without the agent's exit status` };
  }
  const exitCode = exitCodeOf(status);
  if (words.errorMessage !== null || (!stopping && (exitCode === 1 || exitCode === 2))) {
    const why = words.errorMessage ?? (end.stderr || status.message || `exit code ${exitCode}`);
    return { kind: 'failed', message: why, exitCode };
  }
  if (exitCode === EXIT_SIGKILL && !stopping) return { kind: 'killed', exitCode };
  if (exitCode !== 0 && !stopping) {
    const why = end.stderr || status.message || `exit code ${exitCode}`;
    return { kind: 'broken', detail: `the agent exited with code ${exitCode} (${why.split('\n').pop()})` };
  }
  if (stopping) return { kind: 'stopped' };
  return { kind: 'bye', reason: words.bye ?? 'none', exitCode };
}

/** One exec of the agent, its stdout read as frames. */
export class AgentRun {
  readonly ended: Promise<RunEnd>;
  readonly #exec: AgentExec;

  private constructor(exec: AgentExec, ended: Promise<RunEnd>) {
    this.#exec = exec;
    this.ended = ended;
  }

  static async start(client: KubeClient, t: ExecTarget, args: AgentArgs, onFrame: (frame: AgentFrame) => void, onBadLine?: (line: string) => void): Promise<AgentRun> {
    let bye: string | null = null;
    let errorMessage: string | null = null;
    // Bounded: a line that never ends (a broken or hostile container) costs at most one frame's
    // worth. The agent's default --max-body is far below the bound's 16 MiB floor.
    const stdout = new LineStream(maxFrameLineBytes(args.maxBody ?? 0), {
      line: (line) => {
        const frame = parseAgentLine(line);
        if (frame === null) {
          onBadLine?.(line);
          return;
        }
        if (frame.type === 'bye') bye = frame.reason;
        if (frame.type === 'error') errorMessage = `${frame.code}: ${frame.message}${frame.code === 'CAPTURE_PERMISSION' ? NET_RAW_HINT : ''}`;
        onFrame(frame);
      },
      overlong: (bytes) => onBadLine?.(`(${bytes} bytes without a newline, longer than any frame: skipped)`),
    });
    const exec = await AgentExec.start(client, t, args, stdout);
    return new AgentRun(
      exec,
      exec.ended.then((end) => classifyRunEnd(end, { bye, errorMessage })),
    );
  }

  get startedAt(): number {
    return this.#exec.startedAt;
  }

  get stopping(): boolean {
    return this.#exec.stopping;
  }

  /** Closes the agent's stdin: it writes its final stats and bye and exits (within about 1 s). */
  stop(): void {
    this.#exec.stop();
  }

  /** Drops the connection (after stop() went unanswered). */
  kill(): void {
    this.#exec.kill();
  }

  /** Sends a control frame (docs/agent-protocol.md), e.g. a new filter. */
  send(frame: ControlFrame): void {
    this.#exec.writeLine(JSON.stringify(frame));
  }
}
