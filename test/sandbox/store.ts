/**
 * The object store: one global resourceVersion counter bumped on every write, a history of
 * events for watch replay (like the apiserver's watch cache), and live watchers.
 */
import { randomUUID } from 'node:crypto';
import { clone, now, type KObject, type ResourceName } from './kobj.ts';
import { expired } from './errors.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  rv: number;
  resource: ResourceName;
  type: EventType;
  object: KObject;
  /** For MODIFIED: the object before, so filtered watchers see ADDED/DELETED on (un)matching. */
  previous?: KObject;
}

export interface WatchSpec {
  resource: ResourceName;
  namespace?: string;
  filter: (obj: KObject) => boolean;
  send: (type: EventType, obj: KObject) => void;
}

const HISTORY_LIMIT = 5000;

function keyOf(obj: KObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export class Store {
  #rv: number;
  /** The oldest resourceVersion a watch can start from (earlier events were dropped). */
  #oldest: number;
  readonly #objects = new Map<ResourceName, Map<string, KObject>>();
  readonly #history: StoredEvent[] = [];
  readonly #watchers = new Set<WatchSpec>();

  constructor(startRV = 1000) {
    this.#rv = startRV;
    this.#oldest = startRV;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  #bucket(resource: ResourceName): Map<string, KObject> {
    let b = this.#objects.get(resource);
    if (!b) {
      b = new Map();
      this.#objects.set(resource, b);
    }
    return b;
  }

  list(resource: ResourceName, namespace?: string): KObject[] {
    const all = [...this.#bucket(resource).values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
    return all.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  get<T extends KObject = KObject>(resource: ResourceName, namespace: string | undefined, name: string): T | undefined {
    return this.#bucket(resource).get(`${namespace ?? ''}/${name}`) as T | undefined;
  }

  create<T extends KObject>(resource: ResourceName, obj: T): T {
    const stored = clone(obj);
    stored.metadata.uid ||= randomUUID();
    stored.metadata.creationTimestamp ||= now();
    stored.metadata.resourceVersion = String(++this.#rv);
    this.#bucket(resource).set(keyOf(stored), stored);
    this.#emit({ rv: this.#rv, resource, type: 'ADDED', object: stored });
    return stored;
  }

  /** Applies `fn` to a copy of the object and stores it as a new version (MODIFIED). */
  update<T extends KObject>(resource: ResourceName, namespace: string | undefined, name: string, fn: (obj: T) => void): T | undefined {
    const previous = this.get<T>(resource, namespace, name);
    if (!previous) return undefined;
    const next = clone(previous);
    fn(next);
    if (JSON.stringify(next) === JSON.stringify(previous)) return previous;
    next.metadata.resourceVersion = String(++this.#rv);
    this.#bucket(resource).set(keyOf(next), next);
    this.#emit({ rv: this.#rv, resource, type: 'MODIFIED', object: next, previous });
    return next;
  }

  delete(resource: ResourceName, namespace: string | undefined, name: string): KObject | undefined {
    const bucket = this.#bucket(resource);
    const previous = bucket.get(`${namespace ?? ''}/${name}`);
    if (!previous) return undefined;
    bucket.delete(keyOf(previous));
    const last = clone(previous);
    last.metadata.resourceVersion = String(++this.#rv);
    this.#emit({ rv: this.#rv, resource, type: 'DELETED', object: last });
    return last;
  }

  #emit(event: StoredEvent): void {
    this.#history.push(event);
    if (this.#history.length > HISTORY_LIMIT) {
      const dropped = this.#history.splice(0, this.#history.length - HISTORY_LIMIT);
      this.#oldest = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.#watchers) deliver(w, event);
  }

  /**
   * Starts a watch: replays every event after `fromRV` (or, without one, an ADDED per current
   * object) and then follows live. Throws a 410 StatusError when `fromRV` is older than the history.
   */
  watch(spec: WatchSpec, fromRV: number | undefined): () => void {
    if (fromRV === undefined || fromRV === 0) {
      for (const obj of this.list(spec.resource, spec.namespace)) {
        if (spec.filter(obj)) spec.send('ADDED', obj);
      }
    } else {
      if (fromRV < this.#oldest) throw expired(`too old resource version: ${fromRV} (${this.#oldest})`);
      for (const event of this.#history) if (event.rv > fromRV) deliver(spec, event);
    }
    this.#watchers.add(spec);
    return () => this.#watchers.delete(spec);
  }

  /** Test hook: forget history up to now, as a compacted watch cache would. */
  compact(): void {
    this.#history.length = 0;
    this.#oldest = this.#rv;
  }
}

function deliver(w: WatchSpec, e: StoredEvent): void {
  if (w.resource !== e.resource) return;
  if (w.namespace !== undefined && e.object.metadata.namespace !== w.namespace) return;
  const now = w.filter(e.object);
  if (e.type === 'MODIFIED') {
    const before = e.previous !== undefined && w.filter(e.previous);
    if (before && now) w.send('MODIFIED', e.object);
    else if (!before && now) w.send('ADDED', e.object);
    else if (before && !now) w.send('DELETED', e.object);
  } else if (now) {
    w.send(e.type, e.object);
  }
}
