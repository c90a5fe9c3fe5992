/**
 * One run of the capture agent in a pod, as the tap sees it: kube's AgentExec hands back the
 * agent's stdout as bytes; here they are split into bounded lines and read as protocol frames
 * (docs/agent-protocol.md), and the exec's end is told apart into what the tap does next
 * (stopped, the agent's own bye, failed, broken stream, killed).
 */
import { AgentExec, EXIT_SIGKILL, exitCodeOf, LineStream, type AgentArgs, type ExecEnd, type ExecTarget } from '../kube/agent-runner.ts';
import type { KubeClient } from '../kube/client.ts';
import { maxFrameLineBytes, parseAgentLine, wireVersionMismatch, type AgentFrame, type ControlFrame } from '../remote-agent/wire/protocol.ts';

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
  /** Set when its hello was refused (another wire protocol version): the run was stopped for it. */
  readonly refusal?: string | null;
}

/** What to do about an agent of another wire protocol version: it came with this kubectl-shark, so they are out of step. */
const VERSION_HINT =
  ': its frames were not read. The agent bundle (dist/agent, uploaded with every tap) and this kubectl-shark come from different builds: ' +
  'reinstall kubectl-shark, or from a checkout run npm run build (it builds both)';

/**
 * Reads one agent run's stdout lines as frames (docs/agent-protocol.md) and keeps what decides how
 * the run ends. The hello is checked first: an agent of another wire protocol version is refused
 * (`refusal` says why, in words for the user) and none of its frames reach `onFrame`, since they
 * may mean other things than ours do.
 */
export class AgentFrameReader {
  bye: string | null = null;
  errorMessage: string | null = null;
  refusal: string | null = null;
  readonly #pod: string;
  readonly #onFrame: (frame: AgentFrame) => void;
  readonly #onBadLine: ((line: string) => void) | undefined;
  readonly #onRefused: () => void;

  /** `pod` ("namespace/name") names it in the refusal; `onRefused` is called once, to stop the run. */
  constructor(pod: string, onFrame: (frame: AgentFrame) => void, onRefused: () => void, onBadLine?: (line: string) => void) {
    this.#pod = pod;
    this.#onFrame = onFrame;
    this.#onRefused = onRefused;
    this.#onBadLine = onBadLine;
  }

  line(line: string): void {
    if (this.refusal !== null) return;
    const frame = parseAgentLine(line);
    if (frame === null) {
      this.#onBadLine?.(line);
      return;
    }
    if (frame.type === 'hello') {
      const mismatch = wireVersionMismatch(frame);
      if (mismatch !== null) {
        this.refusal = `pod ${this.#pod}: ${mismatch}${VERSION_HINT}`;
        this.#onRefused();
        return;
      }
    }
    if (frame.type === 'bye') this.bye = frame.reason;
    if (frame.type === 'error') this.errorMessage = `${frame.code}: ${frame.message}${frame.code === 'CAPTURE_PERMISSION' ? NET_RAW_HINT : ''}`;
    this.#onFrame(frame);
  }
}

/**
 * How a run ended, from the exec's end and the agent's last frames. 1 and 2 are the agent's own
 * verdicts (capture failed, bad usage): retrying cannot help. SIGKILL (the OOM killer, most likely)
 * is told apart: pod-tap restarts it at most once. Anything else (another signal, an exec error)
 * may pass: retry.
 */
export function classifyRunEnd(end: ExecEnd, words: LastWords): RunEnd {
  const { status, stopping } = end;
  // Stopped by us for it, so before "stopped": the agent ran but nothing of it could be read.
  if (words.refusal != null) return { kind: 'failed', message: words.refusal, exitCode: status === undefined ? -1 : exitCodeOf(status) };
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
    let exec: AgentExec | undefined;
    // A refused agent is stopped (stdin closed: it exits and removes its folder); its frames are ignored meanwhile.
    const reader = new AgentFrameReader(`${t.namespace}/${t.pod}`, onFrame, () => exec?.stop(), onBadLine);
    // Bounded: a line that never ends (a broken or hostile container) costs at most one frame's
    // worth. The agent's default --max-body is far below the bound's 16 MiB floor.
    const stdout = new LineStream(maxFrameLineBytes(args.maxBody ?? 0), {
      line: (line) => reader.line(line),
      overlong: (bytes) => onBadLine?.(`(${bytes} bytes without a newline, longer than any frame: skipped)`),
    });
    exec = await AgentExec.start(client, t, args, stdout);
    if (reader.refusal !== null) exec.stop();
    return new AgentRun(
      exec,
      exec.ended.then((end) => classifyRunEnd(end, reader)),
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
