/**
 * Loads the kubeconfig the way kubectl (client-go) does, not the way client-node's loadFromDefault
 * does: `--kubeconfig` is one file that must exist; else every file of KUBECONFIG is read (missing
 * ones skipped) and merged with the first file to define a name or current-context winning; else
 * ~/.kube/config. client-node would let a later file's current-context win and throw on a name
 * defined twice, which breaks set-ups that work with kubectl.
 *
 * Paths inside a file are taken relative to that file's folder, as client-go's ResolveLocalPaths
 * does: certificate-authority, client-certificate and client-key (client-node does these),
 * the token file (`tokenFile`, kubectl's spelling, or client-node's `token-file`), and an exec
 * command holding a path separator (client-node reads token-file from the
 * working directory and runs a relative command from there). token-file users and exec plugins are
 * served by our own authenticators (token-file.ts, credential-plugin.ts) for kubectl's semantics.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { EXEC_PROVIDER, ExecCredentialAuth, type ExecConfig, type ExecPluginRef } from './credential-plugin.ts';
import { SecretScrubber } from './secret-scrub.ts';
import { TOKEN_FILE_PROVIDER, TokenFileAuth, tokenFileRef, type TokenFileRef } from './token-file.ts';

export interface KubeConfigFlags {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

export interface KubeConfigEnv {
  readonly KUBECONFIG?: string | undefined;
  readonly HOME?: string | undefined;
  readonly KUBERNETES_SERVICE_HOST?: string | undefined;
}

export interface LoadedKubeConfig {
  readonly kc: k8s.KubeConfig;
  readonly context: string;
  readonly cluster: string;
  readonly user: string;
  readonly server: string;
  /** The context's namespace, else "default": what -n defaults to. */
  readonly namespace: string;
  /** Files read, in merge order ("in-cluster" for a service account). */
  readonly files: readonly string[];
  /** The credentials it holds (and those its plugins hand out), to keep them out of messages. */
  readonly secrets: SecretScrubber;
}

/** The files kubectl would read, in order, and whether they had to exist. */
export function kubeconfigFiles(flags: KubeConfigFlags, env: KubeConfigEnv): { files: string[]; explicit: boolean } {
  if (flags.kubeconfig !== undefined && flags.kubeconfig !== '') return { files: [flags.kubeconfig], explicit: true };
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    const seen = new Set<string>();
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '' && !seen.has(f) && seen.add(f));
    return { files, explicit: false };
  }
  return { files: [join(env.HOME ?? homedir(), '.kube', 'config')], explicit: false };
}

/** Merges parsed files: the first to define a name wins whole (no field merge), likewise current-context. */
export function mergeKubeConfigs(configs: readonly k8s.KubeConfig[]): k8s.KubeConfig {
  const clusters = new Map<string, k8s.Cluster>();
  const users = new Map<string, k8s.User>();
  const contexts = new Map<string, k8s.Context>();
  let currentContext = '';
  for (const c of configs) {
    for (const x of c.clusters ?? []) if (!clusters.has(x.name)) clusters.set(x.name, x);
    for (const x of c.users ?? []) if (!users.has(x.name)) users.set(x.name, x);
    for (const x of c.contexts ?? []) if (!contexts.has(x.name)) contexts.set(x.name, x);
    if (currentContext === '' && c.currentContext) currentContext = c.currentContext;
  }
  const merged = new k8s.KubeConfig();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
  return merged;
}

/** A kubeconfig `users[]` entry as written in the file. */
interface RawUser {
  name?: unknown;
  user?: Record<string, unknown> | null;
}

/** Resolves a path written in a kubeconfig against the kubeconfig's folder (absolute ones stay). */
function againstFile(dir: string, path: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}

/**
 * Rewrites one file's users before client-node parses them: token-file and exec users get our
 * auth providers (with paths resolved against the file's folder), and inline credentials are
 * remembered so no message can show them.
 */
function prepareUsers(users: unknown, file: string, secrets: SecretScrubber): void {
  if (!Array.isArray(users)) return;
  const dir = dirname(resolve(file));
  for (const entry of users as RawUser[]) {
    const user = entry?.user;
    if (typeof user !== 'object' || user === null) continue;
    const name = String(entry.name ?? '');
    for (const key of ['token', 'password']) if (typeof user[key] === 'string') secrets.remember(user[key]);
    if (typeof user['username'] === 'string' && typeof user['password'] === 'string') {
      secrets.remember(Buffer.from(`${user['username']}:${user['password']}`).toString('base64'));
    }
    // kubectl spells it tokenFile (clientcmd/api/v1), client-node token-file: both are read.
    const tokenFile = [user['tokenFile'], user['token-file']].find((f): f is string => typeof f === 'string' && f !== '');
    if (tokenFile !== undefined) {
      const config: TokenFileRef = { path: againstFile(dir, tokenFile), user: name, kubeconfig: file };
      user['auth-provider'] = { name: TOKEN_FILE_PROVIDER, config };
      // client-go lets a readable token file win over an inline token.
      delete user['tokenFile'];
      delete user['token-file'];
      delete user['token'];
    }
    const exec = user['exec'] as ExecConfig | null | undefined;
    if (typeof exec === 'object' && exec !== null && typeof exec.command === 'string') {
      // client-go resolves the command only when it holds a separator; a bare name is found on PATH.
      const command = exec.command.includes(sep) || exec.command.includes('/') ? againstFile(dir, exec.command) : exec.command;
      const config: ExecPluginRef = { plugin: { ...exec, command }, user: name, kubeconfig: file };
      user['auth-provider'] = { name: EXEC_PROVIDER, config };
      delete user['exec'];
    }
  }
}

function readFile(file: string, secrets: SecretScrubber): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    const raw = k8s.loadYaml<Record<string, unknown> | null>(readFileSync(file, 'utf8'));
    if (raw !== null && typeof raw === 'object') prepareUsers(raw['users'], file, secrets);
    kc.loadFromString(k8s.dumpYaml(raw ?? {}));
    // Certificate paths relative to the file's folder, like kubectl (client-node's loadFromFile does the same).
    kc.makePathsAbsolute(dirname(file));
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new SharkError('KUBE_CONFIG', `cannot read kubeconfig ${file}: ${secrets.scrub(reason ?? '')} (fix the file or point --kubeconfig elsewhere)`, { file }, err);
  }
  kc.clusters ??= [];
  kc.users ??= [];
  kc.contexts ??= [];
  return kc;
}

export function loadKubeConfig(flags: KubeConfigFlags, env: KubeConfigEnv = process.env): LoadedKubeConfig {
  const { files, explicit } = kubeconfigFiles(flags, env);
  const present = files.filter((f) => existsSync(f));
  if (explicit && present.length === 0) {
    throw new SharkError('KUBE_CONFIG', `--kubeconfig ${files[0]}: no such file (give the path of a kubeconfig file)`, { file: files[0]! });
  }
  if (present.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST) return inCluster(flags);
    const where = env.KUBECONFIG ? `none of the KUBECONFIG files exist (${files.join(', ')})` : `${files[0]} does not exist`;
    throw new SharkError('KUBE_CONFIG', `no kubeconfig: ${where}; point KUBECONFIG or --kubeconfig at one (kubectl config view shows what kubectl uses)`);
  }
  const secrets = new SecretScrubber();
  const kc = mergeKubeConfigs(present.map((f) => readFile(f, secrets)));
  return select(kc, flags, present, secrets);
}

function inCluster(flags: KubeConfigFlags): LoadedKubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster();
  // The service-account token file, trimmed and re-read like any token-file.
  kc.users = kc.users.map((u) => {
    const path = (u.authProvider as { config?: { tokenFile?: unknown } } | undefined)?.config?.tokenFile;
    if (typeof path !== 'string') return u;
    const config: TokenFileRef = { path, user: u.name, kubeconfig: 'in-cluster' };
    return { ...u, authProvider: { name: TOKEN_FILE_PROVIDER, config } };
  });
  return select(kc, { context: flags.context === undefined ? undefined : flags.context }, ['in-cluster'], new SecretScrubber());
}

function select(kc: k8s.KubeConfig, flags: KubeConfigFlags, files: string[], secrets: SecretScrubber): LoadedKubeConfig {
  const name = flags.context !== undefined && flags.context !== '' ? flags.context : kc.getCurrentContext();
  const known = kc.getContexts().map((c) => c.name);
  if (!name) {
    throw new SharkError(
      'KUBE_CONFIG',
      `no current context in ${files.join(', ')}: pick one with --context (known: ${known.join(', ') || 'none'}) or run kubectl config use-context NAME`,
    );
  }
  const context = kc.getContextObject(name);
  if (context === null) {
    throw new SharkError('KUBE_CONFIG', `context "${name}" is not in ${files.join(', ')} (known: ${known.join(', ') || 'none'})`, { context: name });
  }
  const cluster = kc.getCluster(context.cluster);
  if (cluster === null) {
    throw new SharkError('KUBE_CONFIG', `context "${name}" names cluster "${context.cluster}", which is not in ${files.join(', ')}`, { context: name });
  }
  // client-node applies the cluster's CA only when the context's user exists; kubectl allows a
  // context without one (anonymous), so give it an empty user.
  let user = context.user ?? '';
  if (kc.getUser(user) === null) {
    user = user || 'kubectl-shark-anonymous';
    kc.addUser({ name: user });
    kc.contexts = kc.contexts.map((c) => (c.name === name ? { ...c, user } : c));
  }
  kc.setCurrentContext(name);
  const tokenFiles = new TokenFileAuth(secrets);
  kc.addAuthenticator(tokenFiles);
  kc.addAuthenticator(new ExecCredentialAuth(secrets));
  // The chosen user's token file is read now, so a missing or empty one is told before anything runs.
  const ref = tokenFileRef(kc.getUser(user)!);
  if (ref !== null) tokenFiles.token(ref);
  return {
    kc,
    context: name,
    cluster: context.cluster,
    user,
    server: cluster.server,
    namespace: context.namespace || 'default',
    files,
    secrets,
  };
}
