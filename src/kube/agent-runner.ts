/**
 * Running the capture agent in a pod over exec: upload the bundle into a fresh `mktemp -d` folder,
 * check its sha256 there and unpack it only if it is the archive we sent, then
 * `node <dir>/agent.js capture ...` (under a shell that removes the folder when the agent ends)
 * with stdin kept open (closing it is how the agent is told to stop: a process in a container gets
 * no signal when the exec connection drops). The agent's stdout goes, as bytes, to the caller's
 * Writable: reading frames out of it is src/tap's (agent-run.ts), not Kubernetes plumbing's.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { agentFlagArgv } from '../model/agent-flags.ts';
import { SharkError } from '../model/errors.ts';
import { LineSplitter, type LineEvents } from '../model/line-splitter.ts';
import { kubeError } from './api-errors.ts';
import type { ExecSocket, ExecStatus, KubeClient } from './client.ts';
import { agentFolderPrefix } from './keeper.ts';
import { podShellCommand } from './pod-shell.ts';
import type { ExtraFile } from './agent-bundle.ts';

export interface AgentArgs {
  readonly filter?: string | undefined;
  readonly redact: boolean;
  /** Added to the agent's default sensitive names (`--redact-keys`). */
  readonly redactKeys?: readonly string[] | undefined;
  /** Body bytes kept per message (`--max-body`); the agent's default when absent. */
  readonly maxBody?: number | undefined;
  /** The agent's --max-memory, MiB (sized per pod by tap; the agent's default when absent). */
  readonly maxMemoryMb?: number | undefined;
  /**
   * The `--proto-descriptor` file's bytes (checked by the CLI): uploaded inside the agent's archive
   * as AGENT_PROTO_DESCRIPTOR_FILE, under the same sha256 check, and named to the agent.
   */
  readonly protoDescriptor?: Uint8Array | undefined;
  /** `--tls`: also capture TLS plaintext through eBPF probes (the container must be privileged). */
  readonly tls?: boolean | undefined;
}

/** The name of the uploaded `--proto-descriptor` file in the agent's folder. */
export const AGENT_PROTO_DESCRIPTOR_FILE = 'proto-descriptor.pb';

/** The files uploaded next to the agent bundle for these arguments. */
export function agentExtraFiles(a: AgentArgs): ExtraFile[] {
  return a.protoDescriptor === undefined ? [] : [{ name: AGENT_PROTO_DESCRIPTOR_FILE, bytes: a.protoDescriptor }];
}

export interface ContainerRef {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

export interface ExecTarget extends ContainerRef {
  /** The agent's folder in the container (what the upload made). */
  readonly dir: string;
}

/** The upload's exit code when what arrived is not the archive sent (EX_DATAERR). */
export const UPLOAD_MISMATCH_EXIT = 65;

/** sha256 of a file in hex, for images without coreutils' sha256sum (node is there: it runs the agent). */
const NODE_SHA256 = "process.stdout.write(require('crypto').createHash('sha256').update(require('fs').readFileSync(process.argv[1])).digest('hex'))";

/*
 * $1 folder name prefix, $2 archive size, $3 its sha256, $4 the node fallback for sha256sum.
 * Reads exactly $2 bytes of stdin and ends without waiting for stdin EOF, because under the v4 exec
 * protocol (API servers before 1.30) a client's stdin EOF closes the whole session, result
 * included. mktemp -d makes a fresh folder only we can enter (0700) under the container's TMPDIR;
 * the archive is unpacked only once its hash is the one sent, without restoring owners (no
 * CAP_CHOWN, and the pod's runAsGroup may not be 0), and the archive itself is removed.
 */
const UPLOAD_SCRIPT = `d=$(mktemp -d "\${TMPDIR:-/tmp}/$1XXXXXXXXXX") || exit 1
f="$d/agent.tar.gz"
if ! head -c "$2" > "$f"; then rm -rf "$d"; exit 1; fi
if command -v sha256sum >/dev/null 2>&1; then h=$(sha256sum < "$f"); else h=$(node -e "$4" "$f"); fi
h=\${h%% *}
if [ "$h" != "$3" ]; then
  n=$(wc -c < "$f")
  rm -rf "$d"
  echo "sha256 $h $n"
  exit ${UPLOAD_MISMATCH_EXIT}
fi
if ! tar -xzf "$f" -C "$d" --no-same-owner; then rm -rf "$d"; exit 1; fi
rm -f "$f"
echo "$d"`;

/** The upload of an archive of `bytes` bytes whose sha256 is `sha256` into a fresh folder of `container`. */
export function uploadCommand(container: string, bytes: number, sha256: string): string[] {
  return podShellCommand(UPLOAD_SCRIPT, [agentFolderPrefix(container), String(bytes), sha256, NODE_SHA256]);
}

/** The folder the upload printed, if it is one of this container's agent folders. */
export function uploadedFolder(stdout: string, container: string): string | null {
  const line = stdout.trim();
  const prefix = agentFolderPrefix(container).replace(/[.]/g, '\\.');
  return new RegExp(`^[^\\n]*/${prefix}[A-Za-z0-9]+$`).test(line) ? line : null;
}

/*
 * $1 the agent's folder, then the agent's command. First the shell raises its oom_score_adj to 1000,
 * which the agent inherits: the agent is the kernel's first OOM victim from its first allocation,
 * not only once Node has started and run its code (which does the same, see yield-to-app.ts); a
 * failed write is silent here, the agent tries again and reports it. (The shell is a victim too,
 * but the kernel picks the larger agent first.) The folder goes as soon as the agent ends, however
 * it ends (stdin closed, an error, killed by the OOM killer: the shell outlives it); a signal to the
 * whole group (a runtime stopping the exec) still removes it, after the agent. The agent's exit
 * code is passed on.
 */
const RUN_SCRIPT = `{ echo 1000 > /proc/self/oom_score_adj; } 2>/dev/null
d=$1
shift
trap 'rm -rf -- "$d"; exit 129' HUP
trap 'rm -rf -- "$d"; exit 130' INT
trap 'rm -rf -- "$d"; exit 143' TERM
"$@"
s=$?
rm -rf -- "$d"
exit $s`;

/** Runs `command` (the agent's) as the pod's first OOM victim, removing the agent's folder `dir` once it ends. */
export function runAgentCommand(dir: string, command: readonly string[]): string[] {
  return podShellCommand(RUN_SCRIPT, [dir, ...command]);
}

/** The agent's command line, built from the one agent-flag schema the agent parses it with. */
export function agentCommand(dir: string, a: AgentArgs): string[] {
  return [
    'node',
    `${dir}/agent.js`,
    'capture',
    ...agentFlagArgv({
      iface: 'any',
      filter: a.filter === '' ? undefined : a.filter,
      'no-redact': !a.redact,
      'redact-keys': a.redactKeys,
      'max-body': a.maxBody,
      'max-memory': a.maxMemoryMb,
      'proto-descriptor': a.protoDescriptor === undefined ? undefined : `${dir}/${AGENT_PROTO_DESCRIPTOR_FILE}`,
      tls: a.tls === true,
    }),
  ];
}

/** Exit code of an exec from its channel-3 Status (0 on Success, -1 when it carries none). */
export function exitCodeOf(status: ExecStatus): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const n = Number(cause?.message);
  return Number.isInteger(n) ? n : -1;
}

/** The bounded line splitter (model/line-splitter.ts) as a Writable, for an exec's stdout and stderr. */
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

/** Longest stderr (or upload stdout) line kept whole; a longer one is told by its size. */
const TAIL_LINE_BYTES = 64 * 1024;

/** Keeps the last few lines written to it (an exec's stderr, for error messages). */
class TailCollector extends Writable {
  lines: string[] = [];
  readonly #splitter = new LineStream(TAIL_LINE_BYTES, {
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

function execError(err: unknown, client: KubeClient, t: ContainerRef, what: string): SharkError {
  return kubeError(err, {
    action: `${what} in pod ${t.namespace}/${t.pod} (container ${t.container})`,
    server: client.config.server,
    context: client.config.context,
    user: client.config.user,
    permission: { verb: 'create', resource: 'pods', subresource: 'exec', namespace: t.namespace },
  });
}

/**
 * Uploads the agent bundle into a fresh folder of the container, checked against the archive's
 * sha256 in the pod before anything is unpacked; resolves to the folder.
 */
export async function uploadAgent(client: KubeClient, t: ContainerRef, archive: Buffer, timeoutMs: number): Promise<string> {
  const sha256 = createHash('sha256').update(archive).digest('hex');
  const stdin = new PassThrough();
  const stdout = new TailCollector();
  const stderr = new TailCollector();
  const where = `pod ${t.namespace}/${t.pod}`;
  let status: ExecStatus | undefined;
  let socket: ExecSocket;
  try {
    // stdin stays open until the result is in (see UPLOAD_SCRIPT), then is closed.
    stdin.write(archive);
    socket = await client.exec(t.namespace, t.pod, t.container, uploadCommand(t.container, archive.length, sha256), stdout, stderr, stdin, (s) => {
      status = s;
    });
  } catch (err) {
    throw execError(err, client, t, 'uploading the agent');
  }
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new SharkError('KUBE_START_FAILED', `uploading the agent to ${where} took over ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      stdin.end();
      const code = status === undefined ? undefined : exitCodeOf(status);
      if (status === undefined) {
        reject(new SharkError('KUBE_START_FAILED', `uploading the agent to ${where}: the exec stream closed without a result`));
      } else if (code === UPLOAD_MISMATCH_EXIT) {
        reject(integrityError(t, sha256, archive.length, stdout.text()));
      } else if (code !== 0) {
        const why = stderr.text() || status.message || `exit code ${code}`;
        reject(
          new SharkError(
            'KUBE_START_FAILED',
            `uploading the agent to ${where} failed: ${why} (the image must provide sh, mktemp, head, tar and gzip, like node:24-slim)`,
          ),
        );
      } else {
        const dir = uploadedFolder(stdout.text(), t.container);
        if (dir === null) reject(new SharkError('KUBE_START_FAILED', `uploading the agent to ${where}: the upload did not name its folder (it printed ${JSON.stringify(stdout.text().slice(0, 200))})`));
        else resolve(dir);
      }
    });
  });
}

/** The bundle that arrived is not the one sent: what, where, and what to do. */
function integrityError(t: ContainerRef, expected: string, size: number, report: string): SharkError {
  const m = /sha256 ([0-9a-f]*) +(\d+)/.exec(report);
  const actual = m?.[1] || '(no hash)';
  const received = m ? `${m[2]} of ${size} bytes` : `${size} bytes sent`;
  return new SharkError(
    'KUBE_AGENT_INTEGRITY',
    `the agent bundle uploaded to pod ${t.namespace}/${t.pod} (container ${t.container}) arrived altered: sha256 expected ${expected}, got ${actual} (${received}); ` +
      'nothing was run, and the upload was removed. Something between here and the pod changed or cut the exec stream (a proxy or gateway ' +
      'rewriting traffic?): try again, and if it happens again, check what sits between this machine and the API server',
    { namespace: t.namespace, pod: t.pod, container: t.container, expected, actual },
  );
}

/** How an agent exec ended, as Kubernetes tells it; what that means for the tap is src/tap's. */
export interface ExecEnd {
  /** The exec's channel-3 Status; undefined when the stream closed without one. */
  readonly status: ExecStatus | undefined;
  /** The websocket's close code and reason (for a stream that closed without a Status). */
  readonly closeCode: number;
  readonly closeReason: string;
  /** The last lines of the agent's stderr. */
  readonly stderr: string;
  /** stop() or kill() was called before it ended. */
  readonly stopping: boolean;
}

/** 128 + SIGKILL: how a runtime reports a process the kernel's OOM killer (or anyone) SIGKILLed. */
export const EXIT_SIGKILL = 137;

/** One exec of the agent: its stdout goes to the caller's Writable as bytes, ended once the stream closes. */
export class AgentExec {
  readonly ended: Promise<ExecEnd>;
  readonly startedAt = Date.now();
  readonly #stdin: PassThrough;
  readonly #socket: ExecSocket;
  #stopping = false;

  private constructor(stdin: PassThrough, socket: ExecSocket, ended: Promise<ExecEnd>) {
    this.#stdin = stdin;
    this.#socket = socket;
    this.ended = ended;
  }

  /** Starts the agent in `t` with `args`; `stdout` gets its output and is ended when the stream closes. */
  static async start(client: KubeClient, t: ExecTarget, args: AgentArgs, stdout: Writable): Promise<AgentExec> {
    const stdin = new PassThrough();
    const stderr = new TailCollector();
    let status: ExecStatus | undefined;
    let socket: ExecSocket;
    try {
      socket = await client.exec(t.namespace, t.pod, t.container, runAgentCommand(t.dir, agentCommand(t.dir, args)), stdout, stderr, stdin, (s) => {
        status = s;
      });
    } catch (err) {
      throw execError(err, client, t, 'starting the agent');
    }
    let exec: AgentExec | undefined;
    const ended = new Promise<ExecEnd>((resolve) => {
      socket.on('error', () => {
        // 'close' follows and tells the end.
      });
      socket.on('close', (code, reason) => {
        // What was already written to stdout was delivered synchronously; flush a last partial line.
        if (!stdout.writableEnded) stdout.end();
        resolve({ status, closeCode: code, closeReason: reason.toString(), stderr: stderr.text(), stopping: exec?.stopping ?? false });
      });
    });
    exec = new AgentExec(stdin, socket, ended);
    return exec;
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

  /** Writes one line to the agent's stdin (a control frame, docs/agent-protocol.md); nothing once stopping. */
  writeLine(line: string): void {
    if (!this.#stopping) this.#stdin.write(`${line}\n`);
  }
}
