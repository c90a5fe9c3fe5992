/**
 * Running the capture agent in a pod over exec: upload the bundle (`tar -xzf -` fed on stdin), then
 * `node <dir>/agent.js capture ...` with stdin kept open (closing it is how the agent is told to
 * stop: a process in a container gets no signal when the exec connection drops) and stdout parsed
 * into protocol frames (docs/agent-protocol.md).
 */
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { SharkError } from '../model/errors.ts';
import { LineSplitter, type LineEvents } from '../remote-agent/wire/line-splitter.ts';
import { MAX_CONTROL_LINE_BYTES, maxFrameLineBytes, parseAgentLine, type AgentFrame } from '../remote-agent/wire/protocol.ts';
import { kubeError } from './api-errors.ts';
import type { ExecSocket, ExecStatus, KubeClient } from './client.ts';


/** The container runs but may not open a packet socket: what the user can change. */
const NET_RAW_HINT =
  ' — the capture container lacks CAP_NET_RAW (this runtime does not grant it by default, or the namespace forbids adding it): ' +
  'run with --profile netadmin (or privileged) in a namespace whose PodSecurity allows it ' +
  '(kubectl label namespace NS pod-security.kubernetes.io/enforce=privileged --overwrite)';

export interface AgentArgs {
  readonly filter?: string | undefined;
  readonly redact: boolean;
  /** Bytes, as a decimal string; the agent's default when absent. */
  readonly maxBody?: string | undefined;
}

export interface ExecTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly dir: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Unpacks exactly `bytes` bytes of stdin: the command ends without waiting for stdin EOF, because
 * under the v4 exec protocol (API servers before 1.30) a client's stdin EOF closes the whole
 * session, result included.
 */
export function uploadCommand(dir: string, bytes: number): string[] {
  return ['sh', '-c', `mkdir -p ${shellQuote(dir)} && head -c ${bytes} | tar -xzf - -C ${shellQuote(dir)}`];
}

/**
 * One option with its value as a single argument. A value in its own argument is taken for a flag
 * when it starts with "-" (a KFL filter such as `-1 < response.status`): the agent would refuse it.
 */
export function optionArg(name: string, value: string): string {
  return `--${name}=${value}`;
}

export function agentCommand(dir: string, a: AgentArgs): string[] {
  const cmd = ['node', `${dir}/agent.js`, 'capture', optionArg('iface', 'any')];
  if (a.filter !== undefined && a.filter !== '') cmd.push(optionArg('filter', a.filter));
  if (!a.redact) cmd.push('--no-redact');
  if (a.maxBody !== undefined) cmd.push(optionArg('max-body', a.maxBody));
  return cmd;
}

/** Exit code of an exec from its channel-3 Status (0 on Success, -1 when it carries none). */
export function exitCodeOf(status: ExecStatus): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const n = Number(cause?.message);
  return Number.isInteger(n) ? n : -1;
}

/** The bounded line splitter of the wire protocol as a Writable, for an exec's stdout and stderr. */
export class LineStream extends Writable {
  readonly #lines: LineSplitter;

  constructor(maxLineBytes: number, events: LineEvents) {
    super();
    this.#lines = new LineSplitter(maxLineBytes, events);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#lines.push(chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#lines.end();
    done();
  }
}

/** Keeps the last few lines written to it (an exec's stderr, for error messages). */
class TailCollector extends Writable {
  lines: string[] = [];
  readonly #splitter = new LineStream(MAX_CONTROL_LINE_BYTES, {
    line: (line) => this.#keep(line),
    overlong: (bytes) => this.#keep(`(a line of ${bytes} bytes)`),
  });
  #keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 20) this.lines.shift();
  }
  override _write(chunk: Buffer, enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#splitter.write(chunk, enc, () => done());
  }
  override _final(done: (err?: Error | null) => void): void {
    this.#splitter.end(() => done());
  }
  text(): string {
    return this.lines.join('\n');
  }
}

function execError(err: unknown, client: KubeClient, t: ExecTarget, what: string): SharkError {
  return kubeError(err, {
    action: `${what} in pod ${t.namespace}/${t.pod} (container ${t.container})`,
    server: client.config.server,
    context: client.config.context,
    user: client.config.user,
    permission: { verb: 'create', resource: 'pods', subresource: 'exec', namespace: t.namespace },
  });
}

/** Unpacks the agent bundle into the container; resolves on exit code 0. */
export async function uploadAgent(client: KubeClient, t: ExecTarget, archive: Buffer, timeoutMs: number): Promise<void> {
  const stdin = new PassThrough();
  const stdout = new TailCollector();
  const stderr = new TailCollector();
  let status: ExecStatus | undefined;
  let socket: ExecSocket;
  try {
    // stdin stays open until the result is in (see uploadCommand), then is closed.
    stdin.write(archive);
    socket = await client.exec(t.namespace, t.pod, t.container, uploadCommand(t.dir, archive.length), stdout, stderr, stdin, (s) => {
      status = s;
    });
  } catch (err) {
    throw execError(err, client, t, 'uploading the agent');
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new SharkError('KUBE_START_FAILED', `uploading the agent to pod ${t.namespace}/${t.pod} took over ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      stdin.end();
      if (status === undefined) {
        reject(new SharkError('KUBE_START_FAILED', `uploading the agent to pod ${t.namespace}/${t.pod}: the exec stream closed without a result`));
      } else if (exitCodeOf(status) !== 0) {
        const why = stderr.text() || status.message || `exit code ${exitCodeOf(status)}`;
        reject(
          new SharkError(
            'KUBE_START_FAILED',
            `uploading the agent to pod ${t.namespace}/${t.pod} failed: ${why} (the image must provide sh, tar and gzip, like node:24-slim)`,
          ),
        );
      } else {
        resolve();
      }
    });
  });
}

export type RunEnd =
  /** We closed stdin and the agent exited. */
  | { readonly kind: 'stopped' }
  /** The agent stopped on its own terms (bye) without being asked. */
  | { readonly kind: 'bye'; readonly reason: string; readonly exitCode: number }
  /** The agent could not go on (error frame or a non-zero exit). */
  | { readonly kind: 'failed'; readonly message: string; readonly exitCode: number }
  /** The exec stream ended without the agent's result: connection lost, container gone. */
  | { readonly kind: 'broken'; readonly detail: string };

/** One exec of the agent. */
export class AgentRun {
  readonly ended: Promise<RunEnd>;
  readonly startedAt = Date.now();
  readonly #stdin: PassThrough;
  readonly #socket: ExecSocket;
  #stopping = false;

  private constructor(stdin: PassThrough, socket: ExecSocket, ended: Promise<RunEnd>) {
    this.#stdin = stdin;
    this.#socket = socket;
    this.ended = ended;
  }

  static async start(client: KubeClient, t: ExecTarget, args: AgentArgs, onFrame: (frame: AgentFrame) => void, onBadLine?: (line: string) => void): Promise<AgentRun> {
    const stdin = new PassThrough();
    const stderr = new TailCollector();
    let bye: string | null = null;
    let errorMessage: string | null = null;
    // Bounded: a line that never ends (a broken or hostile container) costs at most one frame's
    // worth. The agent's default --max-body (64 KiB) is far below the bound's 16 MiB floor.
    const maxLine = maxFrameLineBytes(Number(args.maxBody ?? 0));
    const stdout = new LineStream(maxLine, {
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
    let status: ExecStatus | undefined;
    let socket: ExecSocket;
    try {
      socket = await client.exec(t.namespace, t.pod, t.container, agentCommand(t.dir, args), stdout, stderr, stdin, (s) => {
        status = s;
      });
    } catch (err) {
      throw execError(err, client, t, 'starting the agent');
    }
    let run: AgentRun | undefined;
    const ended = new Promise<RunEnd>((resolve) => {
      socket.on('error', () => {
        // 'close' follows and classifies the end.
      });
      socket.on('close', (code, reason) => {
        // Frames already written to the splitter are delivered synchronously; flush a last partial line.
        if (!stdout.writableEnded) stdout.end();
        const stopping = run?.stopping ?? false;
        if (status === undefined) {
          resolve(stopping ? { kind: 'stopped' } : { kind: 'broken', detail: `exec stream closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}) without the agent's exit status` });
          return;
        }
        const exitCode = exitCodeOf(status);
        // 1 and 2 are the agent's own verdicts (capture failed, bad usage): retrying cannot help.
        // Anything else (killed by a signal or the OOM killer, an exec error) may pass: retry.
        if (errorMessage !== null || (!stopping && (exitCode === 1 || exitCode === 2))) {
          const why = errorMessage ?? (stderr.text() || status.message || `exit code ${exitCode}`);
          resolve({ kind: 'failed', message: why, exitCode });
          return;
        }
        if (exitCode !== 0 && !stopping) {
          const why = stderr.text() || status.message || `exit code ${exitCode}`;
          resolve({ kind: 'broken', detail: `the agent exited with code ${exitCode} (${why.split('\n').pop()})` });
          return;
        }
        if (stopping) resolve({ kind: 'stopped' });
        else resolve({ kind: 'bye', reason: bye ?? 'none', exitCode });
      });
    });
    run = new AgentRun(stdin, socket, ended);
    return run;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Closes the agent's stdin: it writes its final stats and bye and exits (within about 1 s). */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stdin.end();
  }

  /** Drops the connection (after stop() went unanswered). */
  kill(): void {
    this.#stopping = true;
    try {
      this.#socket.terminate();
    } catch {
      // already closed
    }
  }

  /** Sends a control frame (docs/agent-protocol.md), e.g. a new filter. */
  send(frame: object): void {
    if (!this.#stopping) this.#stdin.write(`${JSON.stringify(frame)}\n`);
  }
}
