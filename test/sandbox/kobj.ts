/** The JSON shapes the sandbox stores and serves (only the fields it reads or writes are typed). */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  generateName?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
}

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface SecurityContext {
  privileged?: boolean;
  capabilities?: Capabilities;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  /** Pod level only. */
  supplementalGroups?: number[];
  /** Pod level only. */
  fsGroup?: number;
  seccompProfile?: { type?: string };
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  workingDir?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  securityContext?: SecurityContext;
  imagePullPolicy?: string;
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  targetContainerName?: string;
  [field: string]: unknown;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    signal?: number;
    reason?: string;
    message?: string;
    startedAt?: string | null;
    finishedAt?: string;
    containerID?: string;
  };
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  nodeName?: string;
  restartPolicy?: string;
  schedulerName?: string;
  serviceAccountName?: string;
  hostNetwork?: boolean;
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface PodStatus {
  phase: string;
  conditions?: { type: string; status: string; lastProbeTime: null; lastTransitionTime: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  qosClass?: string;
  reason?: string;
  nominatedNodeName?: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  ephemeralContainerStatuses?: ContainerStatus[];
}

export interface Pod extends KObject {
  kind: 'Pod';
  spec: PodSpec;
  status: PodStatus;
}

export interface ServicePort {
  name?: string;
  protocol: string;
  port: number;
  targetPort: number | string;
}

export interface Service extends KObject {
  kind: 'Service';
  spec: {
    clusterIP: string;
    clusterIPs: string[];
    ports: ServicePort[];
    selector?: Record<string, string>;
    type: string;
    [field: string]: unknown;
  };
}

export interface Endpoints extends KObject {
  kind: 'Endpoints';
  subsets?: {
    addresses?: { ip: string; nodeName?: string; targetRef?: { kind: string; namespace: string; name: string; uid: string } }[];
    ports?: { name?: string; port: number; protocol: string }[];
  }[];
}

export interface Namespace extends KObject {
  kind: 'Namespace';
  status: { phase: string };
}

export type ResourceName = 'pods' | 'services' | 'endpoints' | 'namespaces' | 'nodes';

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}
