/**
 * `exec` credential plugins, run the way client-go runs them (plugin/pkg/client/auth/exec) rather
 * than the way client-node does (stdin a pipe nobody writes, so a plugin that prompts waits until
 * the request times out; no KUBERNETES_EXEC_INFO; the plugin run again for every request when its
 * credential has no expiry):
 *
 * - interactiveMode decides stdin: `Never` gets none, `IfAvailable` gets the terminal when standard
 *   input is one, `Always` gets it or fails at once ("standard input is not a terminal");
 * - KUBERNETES_EXEC_INFO carries an ExecCredential with `spec.interactive`;
 * - the plugin's stderr is ours (its prompts and messages reach the user); stdout is the credential;
 * - one run at a time per user (an interactive plugin must not prompt twice for parallel requests),
 *   and the credential is kept until its expirationTimestamp (for good without one).
 *
 * A relative command with a path separator was already resolved against the kubeconfig's folder
 * (kubeconfig.ts); a bare name is looked up on PATH by spawn.
 */
import { spawn } from 'node:child_process';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import type { SecretScrubber } from './secret-scrub.ts';

/** The auth-provider name kubeconfig.ts gives `exec` users, so client-node's own ExecAuth stays out. */
export const EXEC_PROVIDER = 'kubectl-shark-exec';

export type InteractiveMode = 'Never' | 'IfAvailable' | 'Always';

/** The kubeconfig's `user.exec` stanza (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  readonly apiVersion?: string;
  readonly command: string;
  readonly args?: readonly string[] | null;
  readonly env?: ReadonlyArray<{ readonly name: string; readonly value: string }> | null;
  readonly interactiveMode?: string;
  readonly installHint?: string;
}

export interface ExecPluginRef {
  readonly plugin: ExecConfig;
  readonly user: string;
  /** The kubeconfig that named it, for messages. */
  readonly kubeconfig: string;
}

export interface ExecCredentialStatus {
  readonly token?: string;
  readonly clientCertificateData?: string;
  readonly clientKeyData?: string;
  readonly expirationTimestamp?: string;
}

type Authenticator = Parameters<k8s.KubeConfig['addAuthenticator']>[0];
type RequestOptions = Parameters<Authenticator['applyAuthentication']>[1];

/** Plugin output beyond this is not a credential. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

export function execPluginRef(user: k8s.User): ExecPluginRef | null {
  const provider = user.authProvider as { name?: unknown; config?: ExecPluginRef } | undefined;
  return provider?.name === EXEC_PROVIDER && provider.config ? provider.config : null;
}

function describe(ref: ExecPluginRef): string {
  return `the credential plugin ${ref.plugin.command} of user "${ref.user}" (kubeconfig ${ref.kubeconfig})`;
}

/**
 * Whether the plugin gets the terminal, as client-go's isInteractive decides; an error when it must
 * have one and there is none. A missing mode reads as IfAvailable (the v1beta1 default).
 */
export function isInteractive(ref: ExecPluginRef, stdinIsTerminal: boolean): boolean {
  const mode = ref.plugin.interactiveMode ?? 'IfAvailable';
  switch (mode) {
    case 'Never':
      return false;
    case 'IfAvailable':
      return stdinIsTerminal;
    case 'Always':
      if (!stdinIsTerminal) {
        throw new SharkError(
          'KUBE_CONFIG',
          `${describe(ref)} needs a terminal (interactiveMode: Always), but standard input is not a terminal: ` +
            'run tap from a terminal (kubectl says "exec plugin cannot support interactive mode: standard input is not a terminal" too), ' +
            'or use a user whose plugin runs without one',
        );
      }
      return true;
    default:
      throw new SharkError('KUBE_CONFIG', `${describe(ref)} has interactiveMode "${mode}": use Never, IfAvailable or Always`);
  }
}

/** Checks the plugin's ExecCredential as client-go does; returns its status. */
export function parseExecCredential(ref: ExecPluginRef, stdout: string): ExecCredentialStatus {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} did not print an ExecCredential (its output is not JSON)`);
  }
  const cred = parsed as { apiVersion?: unknown; kind?: unknown; status?: ExecCredentialStatus | null };
  const wanted = ref.plugin.apiVersion;
  if (wanted !== undefined && cred.apiVersion !== wanted) {
    throw new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} is configured for ${wanted} but printed ${String(cred.apiVersion)}`);
  }
  const status = cred.status;
  if (typeof status !== 'object' || status === null) throw new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} printed no status`);
  if (!status.token && !status.clientCertificateData && !status.clientKeyData) {
    throw new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} printed neither a token nor a client certificate and key`);
  }
  if (!status.clientCertificateData !== !status.clientKeyData) {
    throw new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} printed only one of the client certificate and key`);
  }
  return status;
}

/** Runs the plugin once; resolves with its credential. */
export function runExecPlugin(ref: ExecPluginRef, interactive: boolean): Promise<ExecCredentialStatus> {
  const { plugin } = ref;
  const info = { apiVersion: plugin.apiVersion ?? 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive } };
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const e of plugin.env ?? []) env[e.name] = e.value;
  env['KUBERNETES_EXEC_INFO'] = JSON.stringify(info);
  return new Promise((resolve, reject) => {
    const child = spawn(plugin.command, [...(plugin.args ?? [])], { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    child.stdout!.on('data', (b: Buffer) => {
      bytes += b.length;
      if (bytes <= MAX_OUTPUT_BYTES) chunks.push(b);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint = plugin.installHint ? `\n${plugin.installHint}` : '';
      const what = err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'not executable' : (err.code ?? err.message);
      reject(
        new SharkError(
          'KUBE_CONFIG',
          `${describe(ref)} cannot be run: ${what} (a command with a / is taken relative to the kubeconfig's folder, a bare name from PATH)${hint}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (code === null && signal === null) return; // spawn failed: 'error' told it
      if (code !== 0) {
        reject(new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} failed with ${code === null ? `signal ${signal}` : `exit code ${code}`} (its own message, if any, is above)`));
        return;
      }
      if (bytes > MAX_OUTPUT_BYTES) {
        reject(new SharkError('KUBE_UNAUTHORIZED', `${describe(ref)} printed over ${MAX_OUTPUT_BYTES} bytes: not a credential`));
        return;
      }
      try {
        resolve(parseExecCredential(ref, Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
  });
}

interface Cached {
  readonly status: ExecCredentialStatus;
  /** null: no expirationTimestamp, kept for good. */
  readonly expiresAtMs: number | null;
}

export interface ExecCredentialAuthOptions {
  readonly stdinIsTerminal?: () => boolean;
  readonly now?: () => number;
}

export class ExecCredentialAuth implements Authenticator {
  readonly #secrets: SecretScrubber;
  readonly #stdinIsTerminal: () => boolean;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #running = new Map<string, Promise<ExecCredentialStatus>>();

  constructor(secrets: SecretScrubber, options: ExecCredentialAuthOptions = {}) {
    this.#secrets = secrets;
    this.#stdinIsTerminal = options.stdinIsTerminal ?? (() => process.stdin.isTTY === true);
    this.#now = options.now ?? Date.now;
  }

  isAuthProvider(user: k8s.User): boolean {
    return execPluginRef(user) !== null;
  }

  /** The user's credential: cached, or from one run of the plugin shared by concurrent callers. */
  credential(user: k8s.User): Promise<ExecCredentialStatus> {
    const ref = execPluginRef(user);
    if (ref === null) return Promise.reject(new Error(`user ${user.name} has no exec plugin`));
    const cached = this.#cache.get(user.name);
    if (cached && (cached.expiresAtMs === null || cached.expiresAtMs > this.#now())) return Promise.resolve(cached.status);
    let running = this.#running.get(user.name);
    if (running === undefined) {
      const run = async (): Promise<ExecCredentialStatus> => {
        const status = await runExecPlugin(ref, isInteractive(ref, this.#stdinIsTerminal()));
        this.#secrets.remember(status.token);
        const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.NaN;
        this.#cache.set(user.name, { status, expiresAtMs: Number.isNaN(expires) ? null : expires });
        return status;
      };
      // finally() runs after the set below, even when the run fails at once.
      running = run().finally(() => this.#running.delete(user.name));
      this.#running.set(user.name, running);
    }
    return running;
  }

  async applyAuthentication(user: k8s.User, opts: RequestOptions): Promise<void> {
    const status = await this.credential(user);
    if (status.clientCertificateData) opts.cert = status.clientCertificateData;
    if (status.clientKeyData) opts.key = status.clientKeyData;
    if (status.token) opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${status.token}` };
  }
}
