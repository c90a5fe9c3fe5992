/**
 * exec and attach over WebSocket with the Kubernetes channel protocols v5.channel.k8s.io and
 * v4.channel.k8s.io: binary messages whose first byte is the channel (0 stdin, 1 stdout,
 * 2 stderr, 3 status, 4 resize, 255 v5 close), a Status on channel 3, then close 1000.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContainerRuntime, PodRuntime } from './cluster.ts';
import { exitCodeOf, terminate, type ExitInfo } from './runtime.ts';
import type { Faults } from './types.ts';

const V5 = 'v5.channel.k8s.io';
const V4 = 'v4.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;
/** Pause the process's output while this much is queued on the socket. */
const HIGH_WATER = 4 * 1024 * 1024;

export interface StreamRequest {
  kind: 'exec' | 'attach';
  pod: PodRuntime;
  container: ContainerRuntime;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

interface ChannelStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

const SUCCESS: ChannelStatus = { metadata: {}, status: 'Success' };

function internalError(err: string): ChannelStatus {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${err}`, reason: 'InternalError', details: { causes: [{ message: err }] }, code: 500 };
}

function exitStatus(exit: ExitInfo): ChannelStatus {
  const code = exitCodeOf(exit);
  if (code === 0) return SUCCESS;
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command terminated with exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The subprotocol the sandbox speaks, or undefined (the client then gets no protocol: a failed upgrade). */
export function pickProtocol(offered: Iterable<string>, v4Only = false): string | undefined {
  const set = new Set(offered);
  if (set.has(V5) && !v4Only) return V5;
  if (set.has(V4)) return V4;
  return undefined;
}

export class StreamServer {
  readonly #faults: Pick<Faults, 'websocketV4Only' | 'tamperExecStdin'>;
  readonly #wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => pickProtocol(protocols, this.#faults.websocketV4Only) ?? false,
  });

  /** The fault switches are read at each upgrade and on each stdin message (they may change at run time). */
  constructor(faults: Pick<Faults, 'websocketV4Only' | 'tamperExecStdin'> = { websocketV4Only: false }) {
    this.#faults = faults;
  }
  readonly #sockets = new Set<WebSocket>();

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, request: StreamRequest): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.binaryType = 'nodebuffer';
      new Session(ws, request, this.#faults).start();
    });
  }

  /** Drops every stream at once (API server stopped); new ones are served again if it restarts. */
  closeAll(): void {
    for (const ws of this.#sockets) ws.terminate();
    this.#sockets.clear();
  }
}

class Session {
  readonly #ws: WebSocket;
  readonly #req: StreamRequest;
  readonly #v5: boolean;
  readonly #faults: Pick<Faults, 'tamperExecStdin'>;
  /** Bytes of stdin received so far (where the next chunk starts, for the tamper fault). */
  #stdinOffset = 0;
  #done = false;
  #onClientStdin: (data: Buffer) => void = () => undefined;
  #onClientStdinEnd: () => void = () => undefined;
  #onClientGone: () => void = () => undefined;

  constructor(ws: WebSocket, req: StreamRequest, faults: Pick<Faults, 'tamperExecStdin'>) {
    this.#ws = ws;
    this.#req = req;
    this.#faults = faults;
    this.#v5 = ws.protocol === V5;
  }

  start(): void {
    const r = this.#req;
    // The connection-established marker: an empty message on the lowest writable channel.
    this.#send(r.stdout ? STDOUT : r.stderr && !r.tty ? STDERR : STATUS, Buffer.alloc(0));
    this.#ws.on('message', (data: Buffer) => this.#message(data));
    this.#ws.on('close', () => {
      if (!this.#done) this.#onClientGone();
      this.#done = true;
    });
    this.#ws.on('error', () => undefined);
    if (r.kind === 'exec') this.#exec();
    else this.#attach();
  }

  #message(data: Buffer): void {
    if (data.length === 0) return;
    const channel = data[0];
    if (channel === STDIN) {
      if (!this.#req.stdin) return;
      let chunk = data.subarray(1);
      const tamper = this.#faults.tamperExecStdin;
      if (tamper && this.#req.kind === 'exec') chunk = tamper(this.#req.command, chunk, this.#stdinOffset);
      this.#stdinOffset += data.length - 1;
      this.#onClientStdin(chunk);
    } else if (channel === CLOSE && this.#v5) {
      if (data[1] === STDIN) this.#onClientStdinEnd();
    }
    // Resize (4) needs a pty, which the sandbox does not give: ignored.
  }

  #send(channel: number, payload: Buffer, cb?: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true }, () => cb?.());
  }

  /** Status on channel 3, then close 1000 once it is written. */
  #finish(status: ChannelStatus): void {
    if (this.#done) return;
    this.#done = true;
    this.#send(STATUS, Buffer.from(JSON.stringify(status)), () => this.#ws.close(1000));
    if (this.#ws.readyState !== this.#ws.OPEN) this.#ws.terminate();
  }

  /** Forwards a readable to a channel, pausing it while the socket is backed up. */
  #pipe(stream: NodeJS.ReadableStream | null | undefined, channel: number): void {
    if (!stream) return;
    stream.on('data', (b: Buffer) => {
      this.#send(channel, b, () => {
        if (this.#ws.bufferedAmount < HIGH_WATER / 2 && stream.isPaused()) stream.resume();
      });
      if (this.#ws.bufferedAmount > HIGH_WATER) stream.pause();
    });
  }

  #exec(): void {
    const { pod, container, command, tty } = this.#req;
    const proc = container.proc;
    if (!proc?.running || !pod.netns || !container.config) {
      this.#finish(internalError('error executing command in container: container is not created or running'));
      return;
    }
    const cwd = container.config.cwd;
    const path = container.config.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    if (command.length === 0 || proc.container.resolve(command[0]!, path, cwd) === undefined) {
      const id = container.containerID?.replace(/^.*:\/\//, '').slice(0, 12) ?? '';
      this.#finish(
        internalError(
          `error executing command in container: failed to exec in container: failed to start exec "${id}": OCI runtime exec failed: exec failed: unable to start container process: exec: ${JSON.stringify(command[0] ?? '')}: executable file not found in $PATH: unknown`,
        ),
      );
      return;
    }
    // runc exec: the container's namespaces, cgroup, identity, capabilities and seccomp, as a CRI
    // exec gets them; a TTY session gets a terminal from runc (under a host pty).
    const child = proc.container.exec({
      args: command,
      env: { ...(tty ? { TERM: 'xterm' } : {}), ...container.config.env },
      cwd,
      tty,
      stdin: this.#req.stdin,
      stdout: this.#req.stdout,
      stderr: this.#req.stderr || (tty && this.#req.stdout),
    });
    pod.execs.add(child);
    child.stdin?.on('error', () => undefined);
    this.#pipe(child.stdout, STDOUT);
    this.#pipe(child.stderr, tty ? STDOUT : STDERR);
    this.#onClientStdin = (b) => child.stdin?.write(b);
    // A terminal has no end of input but the ^D a user types: a closed stdin is not passed on
    // (runc under `script` would turn it into a stray byte on the container's terminal).
    this.#onClientStdinEnd = () => {
      if (!tty) child.stdin?.end();
    };
    this.#onClientGone = () => {
      // stdin first, so a process that ends on EOF can do so cleanly before the signals.
      child.stdin?.end();
      void terminate(child, 1000);
    };
    child.on('error', (err) => {
      pod.execs.delete(child);
      this.#finish(internalError(`error executing command in container: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      pod.execs.delete(child);
      this.#finish(exitStatus({ code, signal }));
    });
  }

  #attach(): void {
    const { container, tty } = this.#req;
    const proc = container.proc;
    if (!proc?.running) {
      this.#finish(internalError(`container ${container.name} is not running`));
      return;
    }
    const out = (b: Buffer): void => {
      if (this.#req.stdout) this.#send(STDOUT, b);
    };
    const err = (b: Buffer): void => {
      if (tty) out(b);
      else if (this.#req.stderr) this.#send(STDERR, b);
    };
    const closed = (): void => {
      detach();
      // Attach never reports exit codes: the kubelet writes Success when the process ends.
      this.#finish(SUCCESS);
    };
    const detach = (): void => {
      proc.off('stdout', out);
      proc.off('stderr', err);
      proc.off('closed', closed);
    };
    proc.on('stdout', out);
    proc.on('stderr', err);
    proc.on('closed', closed);
    const stdin = container.spec.stdin === true ? proc.child.stdin : null;
    this.#onClientStdin = (b) => stdin?.write(b);
    this.#onClientStdinEnd = () => {
      if (container.spec.stdinOnce === true) stdin?.end();
    };
    this.#onClientGone = () => {
      detach();
      if (container.spec.stdinOnce === true) stdin?.end();
    };
  }
}
