/**
 * The HTTPS API server: authentication (client certificates and bearer tokens), authorization
 * (deny rules), discovery, list/get/watch (JSON or Table), pod delete, logs, ephemeral-container
 * patches, SelfSubjectAccessReviews, and the exec/attach upgrades.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { isDenied } from './authz.ts';
import type { Cluster, ContainerRuntime, PodRuntime } from './cluster.ts';
import { apiGroupList, apiVersions, authorizationGroup, authorizationResources, coreResources, version } from './discovery.ts';
import {
  StatusError,
  badRequest,
  forbiddenRbac,
  internalError,
  methodNotAllowed,
  notFound,
  pathNotFound,
  serviceUnavailable,
  unauthorized,
  unsupportedMediaType,
} from './errors.ts';
import type { KObject, Pod, ResourceName } from './kobj.ts';
import { METRICS_GROUP, METRICS_VERSION, metricsGroup, metricsResources, podMetrics } from './metrics.ts';
import { patchKind } from './patch.ts';
import { memoryCgroupsReason } from './pod-cgroups.ts';
import { decodeAccessReview, type AccessReviewSpec } from './proto.ts';
import { fieldMatcher, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { StreamServer, type StreamRequest } from './streams.ts';
import { toTable, wantsTable } from './table.ts';
import type { EventType } from './store.ts';

export interface Identity {
  user: string;
  groups: string[];
}

const KINDS: Record<ResourceName, string> = { pods: 'Pod', services: 'Service', endpoints: 'Endpoints', namespaces: 'Namespace', nodes: 'Node' };
const NAMESPACED: Record<ResourceName, boolean> = { pods: true, services: true, endpoints: true, namespaces: false, nodes: false };

type Getter = (o: KObject) => string;
const meta: Record<string, Getter> = { 'metadata.name': (o) => o.metadata.name, 'metadata.namespace': (o) => o.metadata.namespace ?? '' };
const podField = (f: (p: Pod) => unknown): Getter => (o) => String(f(o as Pod) ?? '');
const FIELDS: Record<ResourceName, Record<string, Getter>> = {
  pods: {
    ...meta,
    'spec.nodeName': podField((p) => p.spec.nodeName),
    'spec.restartPolicy': podField((p) => p.spec.restartPolicy),
    'spec.schedulerName': podField((p) => p.spec.schedulerName),
    'spec.serviceAccountName': podField((p) => p.spec.serviceAccountName),
    'spec.hostNetwork': podField((p) => p.spec.hostNetwork === true),
    'status.phase': podField((p) => p.status.phase),
    'status.podIP': podField((p) => p.status.podIP),
    'status.nominatedNodeName': podField((p) => p.status.nominatedNodeName),
  },
  services: {
    ...meta,
    'spec.clusterIP': (o) => String((o['spec'] as { clusterIP?: string }).clusterIP ?? ''),
    'spec.type': (o) => String((o['spec'] as { type?: string }).type ?? ''),
  },
  endpoints: { ...meta },
  namespaces: { 'metadata.name': meta['metadata.name']!, 'status.phase': (o) => String((o['status'] as { phase?: string }).phase ?? '') },
  nodes: { 'metadata.name': meta['metadata.name']!, 'spec.unschedulable': (o) => String((o['spec'] as { unschedulable?: boolean }).unschedulable === true) },
};

interface ResourcePath {
  resource: ResourceName;
  namespace?: string;
  name?: string;
  sub?: string;
}

function parseResourcePath(path: string): ResourcePath | undefined {
  const segs = path.slice('/api/v1/'.length).split('/').map(decodeURIComponent);
  let namespace: string | undefined;
  let rest = segs;
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    namespace = segs[1];
    rest = segs.slice(2);
  }
  const [resource, name, sub, ...extra] = rest;
  if (extra.length > 0 || !resource || !Object.hasOwn(KINDS, resource)) return undefined;
  const r = resource as ResourceName;
  if (NAMESPACED[r] ? name !== undefined && namespace === undefined : namespace !== undefined) return undefined;
  if (name === '' || sub === '') return undefined;
  return { resource: r, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(sub !== undefined ? { sub } : {}) };
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.body);
}

/** Writes an HTTP error on a socket that asked for an upgrade (kubectl decodes the Status body). */
function rejectUpgrade(socket: Duplex, err: StatusError): void {
  const body = JSON.stringify(err.body);
  socket.end(
    `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-cache, private\r\nConnection: close\r\n\r\n${body}`,
  );
}

function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > limit) reject(new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728', {}));
      else chunks.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function stripTypeMeta(o: KObject): Omit<KObject, 'apiVersion' | 'kind'> {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

/** Which container a request means: `container=` or the only one (the apiserver's rules and wording). */
function pickContainer(pod: Pod, rt: PodRuntime | undefined, name: string | null): ContainerRuntime {
  const app = pod.spec.containers.map((c) => c.name);
  const init = (pod.spec.initContainers ?? []).map((c) => c.name);
  const eph = (pod.spec.ephemeralContainers ?? []).map((c) => c.name);
  let wanted = name ?? '';
  if (wanted === '') {
    if (app.length === 1) wanted = app[0]!;
    else {
      let msg = `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${app.join(' ')}]`;
      if (init.length > 0) msg += ` or one of the init containers: [${init.join(' ')}]`;
      if (eph.length > 0) msg += ` or one of the ephemeral containers: [${eph.join(' ')}]`;
      throw badRequest(msg);
    }
  }
  if (![...app, ...init, ...eph].includes(wanted)) throw badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
  const c = rt?.containers.get(wanted);
  if (!c) throw badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
  return c;
}

export class ApiServer {
  readonly #cluster: Cluster;
  readonly #tokens: Map<string, Identity>;
  readonly #server: Server;
  readonly #streams: StreamServer;
  readonly #sockets = new Set<Socket>();
  #address = '';
  #closed = false;

  constructor(cluster: Cluster, tls: { key: Buffer; cert: Buffer; ca: Buffer }, tokens: Map<string, Identity>) {
    this.#cluster = cluster;
    this.#tokens = tokens;
    this.#streams = new StreamServer(cluster.faults);
    this.#server = createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      void this.#handle(req, res);
    });
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#server.on('tlsClientError', () => undefined);
  }

  /** Listens on 127.0.0.1 (a free port, or `port`: the same address again after close()). */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        const bound = (this.#server.address() as { port: number }).port;
        this.#address = `127.0.0.1:${bound}`;
        this.#closed = false;
        resolve(bound);
      });
    });
  }

  /** Serves again on the address it had before close() (clients reconnect to the same URL). */
  async reopen(): Promise<void> {
    if (!this.#closed) return;
    const port = Number(this.#address.split(':')[1]);
    await this.listen(port);
  }

  /** Stops listening and drops every connection (watches and exec streams included). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#streams.closeAll();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    return closed;
  }

  #authenticate(req: IncomingMessage): Identity | undefined {
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const subject = sock.getPeerCertificate()?.subject as Record<string, string | string[]> | undefined;
      const cn = subject?.['CN'];
      if (typeof cn === 'string' && cn !== '') {
        const o = subject?.['O'];
        return { user: cn, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
      }
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m ? this.#tokens.get(m[1]!) : undefined;
  }

  #authorize(id: Identity, verb: string, p: { resource: string; sub?: string; namespace?: string; name?: string }): void {
    const attrs = { user: id.user, verb, resource: p.resource, ...(p.sub ? { subresource: p.sub } : {}), ...(p.namespace ? { namespace: p.namespace } : {}) };
    if (isDenied(this.#cluster.faults, attrs)) {
      throw forbiddenRbac({ ...attrs, ...(p.name ? { name: p.name } : {}) });
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Before authentication, as a starting apiserver or a load balancer answers.
      if (this.#cluster.faults.apiUnavailable) throw serviceUnavailable();
      const id = this.#authenticate(req);
      if (!id) throw unauthorized();
      const url = new URL(req.url ?? '/', 'https://sandbox');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const method = req.method ?? 'GET';
      if (path.startsWith('/api/v1/')) {
        await this.#resource(req, res, id, url, path, method);
        return;
      }
      if (path === `/apis/${METRICS_GROUP}` || path.startsWith(`/apis/${METRICS_GROUP}/`)) {
        if (!this.#metricsServed()) throw pathNotFound();
        if (method !== 'GET') throw methodNotAllowed();
        this.#metrics(res, id, url, path);
        return;
      }
      if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
        if (method !== 'POST') throw methodNotAllowed();
        await this.#accessReview(req, res, id);
        return;
      }
      if (method !== 'GET') throw methodNotAllowed();
      switch (path) {
        case '/version':
          return sendJson(res, 200, version());
        case '/healthz':
        case '/livez':
        case '/readyz':
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('ok');
          return;
        case '/api':
          return sendJson(res, 200, apiVersions(this.#address));
        case '/apis':
          return sendJson(res, 200, apiGroupList(this.#metricsServed() ? [metricsGroup()] : []));
        case '/api/v1':
          return sendJson(res, 200, coreResources(!this.#cluster.faults.ephemeralContainersDisabled));
        case '/apis/authorization.k8s.io':
          return sendJson(res, 200, authorizationGroup());
        case '/apis/authorization.k8s.io/v1':
          return sendJson(res, 200, authorizationResources());
        default:
          throw pathNotFound();
      }
    } catch (err) {
      if (err instanceof StatusError) sendStatus(res, err);
      else {
        process.stderr.write(`sandbox api: ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}\n`);
        sendStatus(res, internalError(String((err as Error).message ?? err)));
      }
    }
  }

  async #resource(req: IncomingMessage, res: ServerResponse, id: Identity, url: URL, path: string, method: string): Promise<void> {
    const p = parseResourcePath(path);
    if (!p) throw pathNotFound();
    const q = url.searchParams;
    const store = this.#cluster.store;
    if (p.sub !== undefined && p.resource !== 'pods') throw pathNotFound();
    if (p.sub === 'ephemeralcontainers' && this.#cluster.faults.ephemeralContainersDisabled) throw pathNotFound();
    if (p.sub !== undefined && !['log', 'exec', 'attach', 'ephemeralcontainers', 'status'].includes(p.sub)) throw pathNotFound();

    if (method === 'GET' && p.name === undefined) {
      const watch = flag(q, 'watch');
      this.#authorize(id, watch ? 'watch' : 'list', p);
      const labels = parseLabelSelector(q.get('labelSelector') ?? '');
      const fields = fieldMatcher(parseFieldSelector(q.get('fieldSelector') ?? ''), FIELDS[p.resource]);
      const filter = (o: KObject): boolean => matchesLabels(labels, o.metadata.labels) && fields(o);
      if (watch) {
        this.#watch(req, res, p, filter, q);
        return;
      }
      this.#list(req, res, p, filter, q);
      return;
    }

    if (p.name === undefined) throw methodNotAllowed();
    const name = p.name;

    if (p.sub === 'exec' || p.sub === 'attach') {
      this.#authorize(id, method === 'GET' ? 'get' : 'create', p);
      throw badRequest('Upgrade request required');
    }

    if (method === 'GET') {
      this.#authorize(id, 'get', p);
      if (p.sub === 'log') {
        this.#logs(res, p.namespace!, name, q);
        return;
      }
      const obj = store.get(p.resource, p.namespace, name);
      if (!obj) throw notFound(p.resource, name);
      if (wantsTable(req.headers.accept)) {
        sendJson(res, 200, toTable(p.resource, [obj], { resourceVersion: obj.metadata.resourceVersion }), 'application/json;as=Table;v=v1;g=meta.k8s.io');
      } else {
        sendJson(res, 200, obj);
      }
      return;
    }

    if (method === 'DELETE' && p.resource === 'pods' && p.sub === undefined) {
      this.#authorize(id, 'delete', p);
      const raw = (await readBody(req)).toString('utf8').trim();
      let body: { gracePeriodSeconds?: number } = {};
      if (raw !== '') {
        try {
          body = JSON.parse(raw) as { gracePeriodSeconds?: number };
        } catch {
          throw badRequest(`error decoding body: invalid JSON`);
        }
      }
      const qGrace = q.get('gracePeriodSeconds');
      const grace = typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : qGrace !== null ? Number(qGrace) : undefined;
      const { pod, done } = this.#cluster.deletePod(p.namespace!, name, grace);
      done.catch((err: unknown) => process.stderr.write(`sandbox: deleting pod ${p.namespace}/${name}: ${String(err)}\n`));
      sendJson(res, 200, pod);
      return;
    }

    if (p.sub === 'ephemeralcontainers' && (method === 'PATCH' || method === 'PUT')) {
      this.#authorize(id, method === 'PATCH' ? 'patch' : 'update', p);
      const raw = (await readBody(req)).toString('utf8');
      let pod: Pod;
      if (method === 'PATCH') {
        const kind = patchKind(req.headers['content-type']);
        if (!kind) throw unsupportedMediaType();
        pod = this.#cluster.patchEphemeral(p.namespace!, name, kind, raw);
      } else {
        let body: Pod;
        try {
          body = JSON.parse(raw) as Pod;
        } catch (err) {
          throw badRequest(`error decoding body: ${(err as Error).message}`);
        }
        pod = this.#cluster.replaceEphemeral(p.namespace!, name, body);
      }
      sendJson(res, 200, pod);
      return;
    }

    throw methodNotAllowed();
  }

  /** Like metrics-server: off with the fault, and where pods get no memory cgroups to measure. */
  #metricsServed(): boolean {
    return !this.#cluster.faults.metricsUnavailable && memoryCgroupsReason() === null;
  }

  /** GET metrics.k8s.io: discovery, PodMetrics of one pod, or a PodMetricsList (namespace or all, labelSelector). */
  #metrics(res: ServerResponse, id: Identity, url: URL, path: string): void {
    const base = `/apis/${METRICS_GROUP}`;
    if (path === base) return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...metricsGroup() });
    if (path === `${base}/${METRICS_VERSION}`) return sendJson(res, 200, metricsResources());
    const rest = path.slice(`${base}/${METRICS_VERSION}/`.length).split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    let tail = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      tail = rest.slice(2);
    }
    if (tail[0] !== 'pods' || tail.length > 2) throw pathNotFound();
    const name = tail[1];
    // RBAC: apiGroups metrics.k8s.io, resources pods (a deny rule names it "pods.metrics.k8s.io").
    this.#authorize(id, name === undefined ? 'list' : 'get', { resource: `pods.${METRICS_GROUP}`, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });
    if (name !== undefined) {
      const pod = namespace === undefined ? undefined : this.#cluster.pod(namespace, name);
      const metrics = pod ? podMetrics(pod, this.#cluster.runtime(namespace!, name)) : null;
      if (!metrics) throw notFound(`podmetrics.${METRICS_GROUP}`, `${namespace}/${name}`);
      return sendJson(res, 200, metrics);
    }
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const items = (this.#cluster.store.list('pods', namespace) as Pod[])
      .filter((p) => matchesLabels(labels, p.metadata.labels))
      .map((p) => podMetrics(p, this.#cluster.runtime(p.metadata.namespace!, p.metadata.name)))
      .filter((m) => m !== null);
    sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: `${METRICS_GROUP}/${METRICS_VERSION}`, metadata: {}, items });
  }

  #list(req: IncomingMessage, res: ServerResponse, p: ResourcePath, filter: (o: KObject) => boolean, q: URLSearchParams): void {
    const store = this.#cluster.store;
    const all = store.list(p.resource, p.namespace).filter(filter);
    let start = 0;
    const token = q.get('continue');
    if (token) {
      try {
        start = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start: number }).start;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
    }
    const limit = Number(q.get('limit') ?? '0');
    const end = limit > 0 ? Math.min(all.length, start + limit) : all.length;
    const items = all.slice(start, end);
    const metadata: { resourceVersion: string; continue?: string } = { resourceVersion: store.resourceVersion };
    if (end < all.length) metadata.continue = Buffer.from(JSON.stringify({ start: end })).toString('base64url');
    if (wantsTable(req.headers.accept)) {
      sendJson(res, 200, toTable(p.resource, items, metadata), 'application/json;as=Table;v=v1;g=meta.k8s.io');
    } else {
      sendJson(res, 200, { kind: `${KINDS[p.resource]}List`, apiVersion: 'v1', metadata, items: items.map(stripTypeMeta) });
    }
  }

  #watch(req: IncomingMessage, res: ServerResponse, p: ResourcePath, filter: (o: KObject) => boolean, q: URLSearchParams): void {
    const table = wantsTable(req.headers.accept);
    const rvParam = q.get('resourceVersion');
    const fromRV = rvParam === null || rvParam === '' ? undefined : Number(rvParam);
    if (fromRV !== undefined && !Number.isFinite(fromRV)) throw badRequest(`invalid resource version: ${rvParam}`);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    let first = true;
    const send = (type: EventType | 'ERROR' | 'BOOKMARK', object: unknown): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const sendObject = (type: EventType, obj: KObject): void => {
      send(type, table ? toTable(p.resource, [obj], { resourceVersion: obj.metadata.resourceVersion }, first) : obj);
      first = false;
    };
    let stop: () => void;
    try {
      stop = this.#cluster.store.watch({ resource: p.resource, ...(p.namespace ? { namespace: p.namespace } : {}), filter, send: sendObject }, fromRV);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      send('ERROR', err.body);
      res.end();
      return;
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const bookmarks = flag(q, 'allowWatchBookmarks')
      ? setInterval(() => {
          const kind = KINDS[p.resource];
          send('BOOKMARK', { kind, apiVersion: 'v1', metadata: { resourceVersion: this.#cluster.store.resourceVersion, creationTimestamp: null } });
        }, 5000)
      : undefined;
    res.on('close', () => {
      stop();
      clearTimeout(timer);
      clearInterval(bookmarks);
    });
  }

  #logs(res: ServerResponse, namespace: string, name: string, q: URLSearchParams): void {
    const pod = this.#cluster.pod(namespace, name);
    if (!pod) throw notFound('pods', name);
    const c = pickContainer(pod, this.#cluster.runtime(namespace, name), q.get('container'));
    if (flag(q, 'previous')) {
      // The run before the last restart: what the kubelet keeps of it.
      if (!c.previousLogs) throw badRequest(`previous terminated container "${c.name}" in pod "${name}" not found`);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
      res.end(c.previousLogs.contents());
      return;
    }
    if (!c.proc && c.logs.contents().length === 0 && c.waiting) {
      const why = c.waiting === 'ErrImagePull' || c.waiting === 'ImagePullBackOff' ? 'trying and failing to pull image' : c.waiting;
      throw badRequest(`container "${c.name}" in pod "${name}" is waiting to start: ${why}`);
    }
    let data = c.logs.contents();
    const tail = q.get('tailLines');
    if (tail !== null && Number(tail) >= 0) {
      const lines = data.toString('utf8').split(/(?<=\n)/);
      data = Buffer.from(lines.slice(Math.max(0, lines.length - Number(tail))).join(''));
    }
    const limitBytes = Number(q.get('limitBytes') ?? '0');
    if (limitBytes > 0) data = data.subarray(0, limitBytes);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.write(data);
    if (!flag(q, 'follow') || c.logs.ended || !c.proc) {
      res.end();
      return;
    }
    const onData = (b: Buffer): void => {
      res.write(b);
    };
    const onEnd = (): void => {
      res.end();
    };
    c.logs.on('data', onData);
    c.logs.once('end', onEnd);
    res.on('close', () => {
      c.logs.off('data', onData);
      c.logs.off('end', onEnd);
    });
  }

  async #accessReview(req: IncomingMessage, res: ServerResponse, id: Identity): Promise<void> {
    const raw = await readBody(req);
    const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
    let spec: AccessReviewSpec;
    try {
      if (ct === 'application/vnd.kubernetes.protobuf') spec = decodeAccessReview(raw);
      else spec = ((JSON.parse(raw.toString('utf8')) as { spec?: AccessReviewSpec }).spec ?? {}) as AccessReviewSpec;
    } catch (err) {
      throw badRequest(`error decoding body: ${(err as Error).message}`);
    }
    const ra = spec.resourceAttributes;
    let allowed = true;
    if (ra) {
      allowed = !isDenied(this.#cluster.faults, {
        user: id.user,
        verb: ra.verb ?? '',
        resource: ra.resource ?? '',
        ...(ra.subresource ? { subresource: ra.subresource } : {}),
        ...(ra.namespace ? { namespace: ra.namespace } : {}),
      });
    }
    sendJson(res, 201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed, ...(allowed ? {} : { reason: '' }) },
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    try {
      if (this.#cluster.faults.apiUnavailable) throw serviceUnavailable();
      const id = this.#authenticate(req);
      if (!id) throw unauthorized();
      const url = new URL(req.url ?? '/', 'https://sandbox');
      const path = url.pathname.replace(/\/+$/, '');
      const p = path.startsWith('/api/v1/') ? parseResourcePath(path) : undefined;
      if (!p || p.resource !== 'pods' || p.name === undefined || (p.sub !== 'exec' && p.sub !== 'attach')) throw pathNotFound();
      const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
      // WebSocket upgrades are GETs: a real apiserver checks get, and from 1.35 create as well.
      const verbs = req.method === 'GET' ? ['create', 'get'] : ['create'];
      for (const verb of verbs) this.#authorize(id, verb, p);
      const pod = this.#cluster.pod(p.namespace!, p.name);
      if (!pod) throw notFound('pods', p.name);
      const q = url.searchParams;
      const container = pickContainer(pod, this.#cluster.runtime(p.namespace!, p.name), q.get('container'));
      const request: StreamRequest = {
        kind: p.sub,
        pod: this.#cluster.runtime(p.namespace!, p.name)!,
        container,
        command: q.getAll('command'),
        stdin: flag(q, 'stdin'),
        stdout: flag(q, 'stdout'),
        stderr: flag(q, 'stderr'),
        tty: flag(q, 'tty'),
      };
      if (!request.stdin && !request.stdout && !request.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
      if (p.sub === 'exec' && request.command.length === 0) throw badRequest('you must specify at least one command for the container');
      if (!websocket) throw badRequest('the sandbox speaks only WebSocket (v5.channel.k8s.io, v4.channel.k8s.io) for exec and attach, not SPDY');
      this.#streams.upgrade(req, socket, head, request);
    } catch (err) {
      rejectUpgrade(socket, err instanceof StatusError ? err : internalError(String(err)));
    }
  }
}
