/** Legacy discovery documents (/api, /apis, /api/v1, authorization.k8s.io) and /version. */

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function version(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0',
    gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

const AUTHZ = { groupVersion: 'authorization.k8s.io/v1', version: 'v1' };

/** `extra`: more groups (the metrics API when it is served). */
export function apiGroupList(extra: readonly Record<string, unknown>[] = []): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'authorization.k8s.io', versions: [AUTHZ], preferredVersion: AUTHZ }, ...extra] };
}

export function authorizationGroup(): Record<string, unknown> {
  return { kind: 'APIGroup', apiVersion: 'v1', name: 'authorization.k8s.io', versions: [AUTHZ], preferredVersion: AUTHZ };
}

export function authorizationResources(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'authorization.k8s.io/v1',
    resources: [{ name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] }],
  };
}

export function coreResources(ephemeralContainers: boolean): Record<string, unknown> {
  const sub = (name: string, kind: string, verbs: string[]): Record<string, unknown> => ({ name, singularName: '', namespaced: true, kind, verbs });
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'endpoints', singularName: 'endpoints', namespaced: true, kind: 'Endpoints', verbs: VERBS, shortNames: ['ep'] },
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: VERBS, shortNames: ['no'] },
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: VERBS, shortNames: ['po'], categories: ['all'] },
      sub('pods/attach', 'PodAttachOptions', ['create', 'get']),
      ...(ephemeralContainers ? [sub('pods/ephemeralcontainers', 'Pod', ['get', 'patch', 'update'])] : []),
      sub('pods/exec', 'PodExecOptions', ['create', 'get']),
      sub('pods/log', 'Pod', ['get']),
      sub('pods/status', 'Pod', ['get', 'patch', 'update']),
      { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: VERBS, shortNames: ['svc'], categories: ['all'] },
    ],
  };
}
