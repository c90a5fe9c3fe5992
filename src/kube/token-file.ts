/**
 * `token-file` users, read as client-go reads them (transport/token_source.go): the file's contents
 * with surrounding whitespace trimmed (a token file written by `echo` ends in a newline, which no
 * HTTP header may carry), an empty file is an error, and the file is read again after a minute so
 * rotated tokens (projected service-account tokens) are picked up. client-node would send the raw
 * contents, read once relative to the working directory.
 */
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import type { SecretScrubber } from './secret-scrub.ts';

/** The auth-provider name kubeconfig.ts gives `token-file` users (client-node's own FileAuth does not trim). */
export const TOKEN_FILE_PROVIDER = 'kubectl-shark-token-file';

/** client-go's period: a rotated token is used within a minute. */
export const TOKEN_FILE_REREAD_MS = 60_000;

export interface TokenFileRef {
  /** Absolute (resolved against the kubeconfig's folder). */
  readonly path: string;
  readonly user: string;
  /** The kubeconfig that named it, for messages. */
  readonly kubeconfig: string;
}

type Authenticator = Parameters<k8s.KubeConfig['addAuthenticator']>[0];

export function tokenFileRef(user: k8s.User): TokenFileRef | null {
  const provider = user.authProvider as { name?: unknown; config?: TokenFileRef } | undefined;
  return provider?.name === TOKEN_FILE_PROVIDER && provider.config ? provider.config : null;
}

/** Reads and trims a token file; a missing, unreadable or empty file is a kubeconfig problem. */
export function readTokenFile(ref: TokenFileRef): string {
  let text: string;
  try {
    text = readFileSync(ref.path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new SharkError(
      'KUBE_CONFIG',
      `cannot read the token file ${ref.path} of user "${ref.user}" (kubeconfig ${ref.kubeconfig}): ${reason}; ` +
        'a relative token-file is read from the kubeconfig\'s folder, as kubectl does',
      { file: ref.path },
    );
  }
  const token = text.trim();
  if (token === '') {
    throw new SharkError('KUBE_CONFIG', `the token file ${ref.path} of user "${ref.user}" (kubeconfig ${ref.kubeconfig}) is empty`, { file: ref.path });
  }
  return token;
}

export class TokenFileAuth implements Authenticator {
  readonly #secrets: SecretScrubber;
  readonly #now: () => number;
  readonly #cache = new Map<string, { token: string; readAtMs: number }>();

  constructor(secrets: SecretScrubber, now: () => number = Date.now) {
    this.#secrets = secrets;
    this.#now = now;
  }

  isAuthProvider(user: k8s.User): boolean {
    return tokenFileRef(user) !== null;
  }

  /** The token (cached for a minute; a failed re-read keeps the last good one, as client-go does). */
  token(ref: TokenFileRef): string {
    const cached = this.#cache.get(ref.path);
    const now = this.#now();
    if (cached && now - cached.readAtMs < TOKEN_FILE_REREAD_MS) return cached.token;
    let token: string;
    try {
      token = readTokenFile(ref);
    } catch (err) {
      if (cached) return cached.token;
      throw err;
    }
    this.#secrets.remember(token);
    this.#cache.set(ref.path, { token, readAtMs: now });
    return token;
  }

  async applyAuthentication(user: k8s.User, opts: Parameters<Authenticator['applyAuthentication']>[1]): Promise<void> {
    const ref = tokenFileRef(user);
    if (ref === null) return;
    const token = this.token(ref);
    opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${token}` };
  }
}
