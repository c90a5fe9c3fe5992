/**
 * Loads the kubeconfig the way kubectl (client-go) does, not the way client-node's loadFromDefault
 * does: `--kubeconfig` is one file that must exist; else every file of KUBECONFIG is read (missing
 * ones skipped) and merged with the first file to define a name or current-context winning; else
 * ~/.kube/config. client-node would let a later file's current-context win and throw on a name
 * defined twice, which breaks set-ups that work with kubectl.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';

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

function readFile(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    // loadFromFile also resolves relative certificate paths against the file's folder, like kubectl.
    kc.loadFromFile(file);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new SharkError('KUBE_CONFIG', `cannot read kubeconfig ${file}: ${reason} (fix the file or point --kubeconfig elsewhere)`, { file }, err);
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
  const kc = mergeKubeConfigs(present.map(readFile));
  return select(kc, flags, present);
}

function inCluster(flags: KubeConfigFlags): LoadedKubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster();
  return select(kc, { context: flags.context === undefined ? undefined : flags.context }, ['in-cluster']);
}

function select(kc: k8s.KubeConfig, flags: KubeConfigFlags, files: string[]): LoadedKubeConfig {
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
  return {
    kc,
    context: name,
    cluster: context.cluster,
    user,
    server: cluster.server,
    namespace: context.namespace || 'default',
    files,
  };
}
