/**
 * Turns what client-node throws (ApiException with a Status body, node-fetch FetchError, the ws
 * ErrorEvent of an exec upgrade) into a SharkError whose message says what failed, where, and what
 * to do; the code picks the exit code.
 */
import { SharkError } from '../model/errors.ts';
import { requiredPodSecurity, type Profile } from './profile.ts';

/** The Kubernetes Status object, as far as we read it. */
export interface KubeStatus {
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { readonly name?: string; readonly kind?: string; readonly causes?: ReadonlyArray<{ reason?: string; message?: string; field?: string }> };
}

export interface ApiFailure {
  readonly httpStatus: number;
  readonly status: KubeStatus | null;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'KUBE_REQUEST_TIMEOUT',
]);
/** Certificate and handshake failures (Node's and OpenSSL's codes). */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/;

/** The HTTP status and Status body of an API error, or null when the request never got an answer. */
export function apiFailure(err: unknown): ApiFailure | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; body?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e.code === 'number') {
    return { httpStatus: e.code, status: parseStatus(e.body) };
  }
  // Watch.watch reports a non-200 answer as an Error with statusCode.
  if (typeof e.statusCode === 'number') return { httpStatus: e.statusCode, status: null };
  // The exec upgrade loses the body: ws says "Unexpected server response: 403".
  const text = typeof e.message === 'string' ? e.message : '';
  const m = /Unexpected server response: (\d{3})/.exec(text);
  if (m) return { httpStatus: Number(m[1]), status: null };
  return null;
}

function parseStatus(body: unknown): KubeStatus | null {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as KubeStatus) : null;
    } catch {
      return null;
    }
  }
  return typeof body === 'object' && body !== null ? (body as KubeStatus) : null;
}

/** The errno-like code of a failed connection (ECONNREFUSED, certificate errors...), else null. */
export function networkCode(err: unknown): string | null {
  let at: unknown = err;
  for (let depth = 0; depth < 4 && typeof at === 'object' && at !== null; depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || TLS_CODE.test(code))) return code;
    const e = at as { error?: unknown; cause?: unknown };
    at = e.error ?? e.cause;
  }
  return null;
}

/** What a load balancer or the apiserver itself answers while it cannot serve (starting, restarting). */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * The request got no answer from a working API server: refused, reset, timed out, or a gateway
 * saying the server behind it is not there. A TLS failure is not one (it is configuration, and
 * waiting does not fix it), nor is any other answer (401, 403, 404, 500).
 */
export function isApiUnreachable(err: unknown): boolean {
  const net = networkCode(err);
  if (net !== null) return !TLS_CODE.test(net);
  const status =
    apiFailure(err)?.httpStatus ??
    apiFailure((err as { cause?: unknown } | null)?.cause)?.httpStatus ??
    (err instanceof SharkError && typeof err.context['status'] === 'number' ? err.context['status'] : undefined);
  return status !== undefined && GATEWAY_STATUSES.has(status);
}

export interface ErrorContext {
  /** What we were doing, e.g. "listing pods in shop". */
  readonly action: string;
  readonly server: string;
  readonly context: string;
  readonly user?: string;
  /** For a 403: the permission the call needed, to name it (and a Role snippet) in the message. */
  readonly permission?: Permission;
}

export interface Permission {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  /** "" = cluster scope. */
  readonly namespace: string;
}

export function permissionText(p: Permission): string {
  const res = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  return `${p.verb} ${res} ${p.namespace === '' ? 'in all namespaces' : `in namespace ${p.namespace}`}`;
}

/** A Role (or ClusterRole for cluster scope) granting the permissions, grouped by resource. */
export function roleSnippet(permissions: readonly Permission[]): string {
  if (permissions.length === 0) return '';
  const namespace = permissions[0]!.namespace;
  const byResource = new Map<string, Set<string>>();
  for (const p of permissions) {
    const res = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
    let verbs = byResource.get(res);
    if (!verbs) byResource.set(res, (verbs = new Set()));
    verbs.add(p.verb);
  }
  const cluster = namespace === '';
  const lines = [
    'apiVersion: rbac.authorization.k8s.io/v1',
    `kind: ${cluster ? 'ClusterRole' : 'Role'}`,
    'metadata:',
    '  name: kubectl-shark',
    ...(cluster ? [] : [`  namespace: ${namespace}`]),
    'rules:',
  ];
  for (const [res, verbs] of byResource) {
    lines.push('- apiGroups: [""]', `  resources: ["${res}"]`, `  verbs: [${[...verbs].map((v) => `"${v}"`).join(', ')}]`);
  }
  const bind = cluster
    ? 'kubectl create clusterrolebinding kubectl-shark --clusterrole=kubectl-shark --user=YOU'
    : `kubectl create rolebinding kubectl-shark -n ${namespace} --role=kubectl-shark --user=YOU`;
  return `${lines.join('\n')}\n# then: ${bind}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export function forbiddenError(permissions: readonly Permission[], serverMessage: string | undefined, ctx: { context: string; user?: string }): SharkError {
  const who = ctx.user ? `user "${ctx.user}" of context "${ctx.context}"` : `context "${ctx.context}"`;
  const what = permissions.map(permissionText).join('; ');
  const byNs = new Map<string, Permission[]>();
  for (const p of permissions) {
    const list = byNs.get(p.namespace) ?? [];
    list.push(p);
    byNs.set(p.namespace, list);
  }
  const snippets = [...byNs.values()].map((ps) => indent(roleSnippet(ps))).join('\n  ---\n');
  const detail = serverMessage ? ` (server: ${serverMessage})` : '';
  return new SharkError(
    'KUBE_FORBIDDEN',
    `forbidden: ${who} may not ${what}${detail}.\n  Ask a cluster admin to grant it, for example:\n${snippets}`,
    { permission: what },
  );
}

/** PodSecurity admission rejected the ephemeral container: the message names the namespace label. */
export function isPodSecurityMessage(message: string | undefined): boolean {
  return message !== undefined && /violates PodSecurity/.test(message);
}

/**
 * PodSecurity forbids the capture container in a namespace: what, and the label that would admit
 * it (baseline for --profile auto, privileged for --profile privileged). `profile` is unknown when
 * only the API server's 403 tells.
 */
export function podSecurityError(namespace: string, level: string, detail: string, profile?: Profile, tls = false): SharkError {
  const needed = tls ? 'privileged' : profile !== undefined ? requiredPodSecurity(profile) : level === 'restricted' ? 'baseline' : 'privileged';
  const why = tls
    ? 'Capturing TLS plaintext (--tls) needs a privileged container (eBPF probes: bpf() and perf_event_open()), which only "privileged" admits' +
      `${level === 'baseline' ? ' (without --tls, --profile auto works in "baseline")' : ''}`
    : 'Capturing needs root with CAP_NET_RAW; ' +
      (needed === 'baseline'
        ? '"baseline" admits the capture container of --profile auto (root, NET_RAW only)'
        : `"privileged" is the only level that admits --profile privileged${level === 'baseline' ? ' (--profile auto works in "baseline")' : ''}`);
  return new SharkError(
    'KUBE_POD_SECURITY',
    `namespace ${namespace} enforces PodSecurity "${level}", which forbids the capture container (${detail}).\n` +
      `  ${why}. Either relabel the namespace\n` +
      `  (kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=${needed} --overwrite), or tap pods in another namespace.`,
    { namespace, level },
  );
}

/** Maps any error of an API call to a SharkError (SharkErrors pass through). */
export function kubeError(err: unknown, ctx: ErrorContext): SharkError {
  if (err instanceof SharkError) return err;
  const net = networkCode(err);
  if (net !== null) {
    const tls = TLS_CODE.test(net);
    const hint = tls
      ? 'the server certificate is not trusted by the kubeconfig (check certificate-authority)'
      : 'check that the cluster is up and that this is the right context (kubectl cluster-info)';
    return new SharkError('KUBE_UNREACHABLE', `cannot reach the cluster at ${ctx.server} (context "${ctx.context}") while ${ctx.action}: ${net}; ${hint}`, {
      server: ctx.server,
    }, err);
  }
  const failure = apiFailure(err);
  if (failure === null) {
    const text = err instanceof Error ? err.message : String(err);
    // node-fetch quotes the refused value (the token) and Node names the header: say neither.
    if (/is not a legal HTTP header value|Invalid character in header content/.test(text)) {
      return new SharkError(
        'KUBE_CONFIG',
        `${ctx.action} failed: a credential of context "${ctx.context}"${ctx.user ? ` (user "${ctx.user}")` : ''} holds a character no HTTP header may carry ` +
          '(a control character or line break inside the token?): fix the token or token-file in the kubeconfig',
        {},
        err,
      );
    }
    return new SharkError('KUBE_API', `${ctx.action} failed: ${text}`, {}, err);
  }
  const serverMessage = failure.status?.message;
  switch (failure.httpStatus) {
    case 401:
      return new SharkError(
        'KUBE_UNAUTHORIZED',
        `the cluster at ${ctx.server} rejected the credentials of context "${ctx.context}" (401 Unauthorized) while ${ctx.action}: ` +
          'log in again or refresh the token in the kubeconfig (kubectl get pods must work first)',
        { server: ctx.server },
        err,
      );
    case 403:
      if (isPodSecurityMessage(serverMessage)) {
        const level = /PodSecurity "([a-z]+)/.exec(serverMessage!)?.[1] ?? 'baseline';
        return podSecurityError(ctx.permission?.namespace ?? '?', level, serverMessage!);
      }
      if (ctx.permission) return forbiddenError([ctx.permission], serverMessage, ctx);
      return new SharkError('KUBE_FORBIDDEN', `forbidden while ${ctx.action}: ${serverMessage ?? '403 Forbidden'}`, {}, err);
    default:
      return new SharkError('KUBE_API', `${ctx.action} failed: ${serverMessage ?? `HTTP ${failure.httpStatus}`}`, { status: failure.httpStatus }, err);
  }
}

/**
 * client-node sets no timeout on REST calls: a black-holed API server would hang us forever. Races
 * the call against a timer that fails like a network error.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: 'KUBE_REQUEST_TIMEOUT' })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
