/**
 * The three JSON patch flavours the apiserver takes on PATCH: strategic merge (lists merged by their
 * merge key, with the `$patch`/`$setElementOrder`/`$retainKeys`/`$deleteFromPrimitiveList` directives
 * kubectl emits), JSON merge patch (RFC 7386) and JSON Patch (RFC 6902), with the errors a real
 * apiserver answers.
 */
import { StatusError, badRequest } from './errors.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merge keys of the Pod schema's lists with patchStrategy "merge" (by field name; enough for Pods). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  volumes: 'name',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  resourceClaims: 'name',
  conditions: 'type',
};

/** Primitive lists with patchStrategy "merge" (union instead of replace). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

export function strategicMerge(original: JsonValue, patch: JsonValue): JsonValue {
  if (!isObject(patch)) throw badRequest('the patch must be a JSON object for a strategic merge patch');
  if (!isObject(original)) return stripDirectives(patch);
  return mergeMap(original, patch) ?? {};
}

function stripDirectives(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.filter((x) => !(isObject(x) && x['$patch'] !== undefined && Object.keys(x).length === 1)).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

/** Returns undefined when the patch deletes the whole map (`$patch: delete`). */
function mergeMap(original: JsonObject, patch: JsonObject): JsonObject | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as JsonObject;
  if (directive !== undefined) throw badRequest(`Unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)}`);
  const out: JsonObject = { ...original };
  const orders: Record<string, JsonValue[]> = {};
  let retain: string[] | undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders[key.slice('$setElementOrder/'.length)] = value;
      continue;
    }
    if (key === '$retainKeys') {
      if (Array.isArray(value)) retain = value.filter((x): x is string => typeof x === 'string');
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(value)) out[field] = cur.filter((x) => !value.some((d) => d === x));
      continue;
    }
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const cur = out[key];
    if (isObject(value)) {
      const merged = isObject(cur) ? mergeMap(cur, value) : (stripDirectives(value) as JsonObject);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      const mergeKey = MERGE_KEYS[key];
      if (mergeKey !== undefined) out[key] = mergeList(Array.isArray(cur) ? cur : [], value, mergeKey);
      else if (MERGED_PRIMITIVE_LISTS.has(key)) out[key] = [...new Set([...(Array.isArray(cur) ? cur : []), ...value])];
      else out[key] = stripDirectives(value);
    } else {
      out[key] = value;
    }
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = out[field];
    const mergeKey = MERGE_KEYS[field];
    if (Array.isArray(list)) out[field] = applyOrder(list, order, mergeKey);
  }
  if (retain !== undefined) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function mergeList(original: JsonValue[], patch: JsonValue[], mergeKey: string): JsonValue[] {
  if (patch.some((x) => isObject(x) && x['$patch'] === 'replace' && Object.keys(x).length === 1)) {
    return patch.filter((x) => !(isObject(x) && x['$patch'] === 'replace')).map(stripDirectives);
  }
  const out = [...original];
  for (const item of patch) {
    if (!isObject(item)) {
      out.push(item);
      continue;
    }
    const key = item[mergeKey];
    const at = key === undefined ? -1 : out.findIndex((x) => isObject(x) && x[mergeKey] === key);
    if (item['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = mergeMap(out[at] as JsonObject, item);
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else {
      out.push(stripDirectives(item));
    }
  }
  return out;
}

function applyOrder(list: JsonValue[], order: JsonValue[], mergeKey: string | undefined): JsonValue[] {
  const keyOf = (x: JsonValue): JsonValue => (mergeKey !== undefined && isObject(x) ? (x[mergeKey] ?? null) : x);
  const wanted = order.map((o) => (mergeKey !== undefined && isObject(o) ? (o[mergeKey] ?? null) : o));
  const rank = (x: JsonValue): number => {
    const i = wanted.indexOf(keyOf(x));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list.map((x, i) => ({ x, i })).sort((a, b) => rank(a.x) - rank(b.x) || a.i - b.i).map((e) => e.x);
}

/** RFC 7386. */
export function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

interface PatchOp {
  op: string;
  path: string;
  from?: string;
  value?: JsonValue;
}

/** The 400 a real apiserver answers when a JSON Patch body is not an array of operations. */
export function decodeJsonPatch(body: JsonValue): PatchOp[] {
  if (!Array.isArray(body)) {
    const what = body === null ? 'null' : isObject(body) ? 'object' : typeof body;
    throw badRequest(`error decoding patch: json: cannot unmarshal ${what} into Go value of type []handlers.jsonPatchOp`);
  }
  return body.map((op) => {
    if (!isObject(op)) {
      throw badRequest(`error decoding patch: json: cannot unmarshal ${Array.isArray(op) ? 'array' : typeof op} into Go value of type handlers.jsonPatchOp`);
    }
    const out: PatchOp = { op: typeof op['op'] === 'string' ? op['op'] : '', path: typeof op['path'] === 'string' ? op['path'] : '' };
    if (typeof op['from'] === 'string') out.from = op['from'];
    if (Object.hasOwn(op, 'value')) out.value = op['value']!;
    return out;
  });
}

/** A 422 like the apiserver's for a JSON Patch that does not apply. */
function patchFailed(message: string): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message }],
  });
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw patchFailed(`invalid JSON pointer: ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container and last key of `path`, or undefined when the parent is missing. */
function locate(doc: JsonValue, parts: string[]): { parent: JsonObject | JsonValue[]; key: string } | undefined {
  let cur: JsonValue = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(p);
      if (!/^\d+$/.test(p) || i >= cur.length) return undefined;
      cur = cur[i]!;
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, p)) return undefined;
      cur = cur[p]!;
    } else {
      return undefined;
    }
  }
  if (!Array.isArray(cur) && !isObject(cur)) return undefined;
  return { parent: cur, key: parts[parts.length - 1]! };
}

function getAt(doc: JsonValue, path: string): JsonValue | undefined {
  let cur: JsonValue = doc;
  for (const p of parsePointer(path)) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(p) || Number(p) >= cur.length) return undefined;
      cur = cur[Number(p)]!;
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, p)) return undefined;
      cur = cur[p]!;
    } else {
      return undefined;
    }
  }
  return cur;
}

function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: JsonValue | undefined): JsonValue | undefined {
  if (Array.isArray(v)) return v.map((x) => canonical(x) ?? null);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]) ?? null;
  return out;
}

function addAt(doc: JsonValue, path: string, value: JsonValue, opName: string): JsonValue {
  const parts = parsePointer(path);
  if (parts.length === 0) return structuredClone(value);
  const loc = locate(doc, parts);
  if (!loc) throw patchFailed(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  if (Array.isArray(loc.parent)) {
    const i = loc.key === '-' ? loc.parent.length : Number(loc.key);
    if (!(loc.key === '-' || /^\d+$/.test(loc.key)) || i > loc.parent.length) {
      throw patchFailed(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path)}: invalid index referenced`);
    }
    loc.parent.splice(i, 0, structuredClone(value));
  } else {
    loc.parent[loc.key] = structuredClone(value);
  }
  return doc;
}

function removeAt(doc: JsonValue, path: string, opName: string): JsonValue {
  const parts = parsePointer(path);
  const loc = parts.length > 0 ? locate(doc, parts) : undefined;
  const missing = (): StatusError => patchFailed(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  if (!loc) throw missing();
  if (Array.isArray(loc.parent)) {
    const i = Number(loc.key);
    if (!/^\d+$/.test(loc.key) || i >= loc.parent.length) throw missing();
    loc.parent.splice(i, 1);
  } else {
    if (!Object.hasOwn(loc.parent, loc.key)) throw missing();
    delete loc.parent[loc.key];
  }
  return doc;
}

/** RFC 6902 on a copy of `doc`. */
export function applyJsonPatch(doc: JsonValue, ops: PatchOp[]): JsonValue {
  let cur = structuredClone(doc);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        if (op.value === undefined) throw patchFailed('add operation does not apply: missing value');
        cur = addAt(cur, op.path, op.value, 'add');
        break;
      case 'remove':
        cur = removeAt(cur, op.path, 'remove');
        break;
      case 'replace': {
        if (op.value === undefined) throw patchFailed('replace operation does not apply: missing value');
        if (getAt(cur, op.path) === undefined) throw patchFailed(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        cur = removeAt(cur, op.path, 'replace');
        cur = addAt(cur, op.path, op.value, 'replace');
        break;
      }
      case 'move':
      case 'copy': {
        const from = op.from ?? '';
        const v = getAt(cur, from);
        if (v === undefined) throw patchFailed(`${op.op} operation does not apply: doc is missing from path: ${JSON.stringify(from)}: missing value`);
        if (op.op === 'move') cur = removeAt(cur, from, 'move');
        cur = addAt(cur, op.path, v, op.op);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(cur, op.path), op.value)) throw patchFailed(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw patchFailed(`Unexpected kind: ${op.op}`);
    }
  }
  return cur;
}

export type PatchKind = 'strategic' | 'merge' | 'json';

/** The patch flavour of a Content-Type, or undefined (415) for anything else. */
export function patchKind(contentType: string | undefined): PatchKind | undefined {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (base === 'application/strategic-merge-patch+json') return 'strategic';
  if (base === 'application/merge-patch+json') return 'merge';
  if (base === 'application/json-patch+json') return 'json';
  return undefined;
}

/** Applies a raw PATCH body of the given flavour to `doc`. */
export function applyPatch(doc: JsonValue, kind: PatchKind, raw: string): JsonValue {
  let body: JsonValue;
  try {
    body = JSON.parse(raw) as JsonValue;
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (kind === 'json') return applyJsonPatch(doc, decodeJsonPatch(body));
  if (!isObject(body)) {
    throw badRequest(`error decoding patch: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`);
  }
  return kind === 'strategic' ? strategicMerge(doc, body) : mergePatch(doc, body);
}
