/**
 * Runtime value rules shared by the compiled closures. Values are whatever the entry JSON holds
 * (string, number, boolean, null, array, object); `undefined` never leaves a reader (it becomes
 * null). Nothing here throws, whatever the shape of the input.
 */

export type Getter = (root: unknown) => unknown;
export type Predicate = (root: unknown) => boolean;
export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * `v[key]` for a map; null for anything else or a missing key. What plain access finds on
 * Object.prototype (`constructor`, `toString`, `__proto__`) is not in the entry: JSON holds no
 * functions, and `__proto__` counts only as an own key.
 */
export function readKey(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const r = (v as Obj)[key];
  if (r === undefined || typeof r === 'function') return null;
  if (key === '__proto__' && !Object.hasOwn(v, key)) return null;
  return r;
}

/** Header and cookie maps: the exact key first (no allocation), then any case of it. */
export function readKeyIgnoringCase(v: unknown, key: string): unknown {
  const exact = readKey(v, key);
  if (exact !== null || !isObject(v)) return exact;
  const lower = key.toLowerCase();
  for (const k of Object.keys(v)) {
    if (k.toLowerCase() === lower) return v[k] ?? null;
  }
  return null;
}

export function hasKey(v: unknown, key: string, ignoreCase: boolean): boolean {
  if (!isObject(v)) return false;
  if (Object.hasOwn(v, key)) return true;
  if (!ignoreCase) return false;
  const lower = key.toLowerCase();
  return Object.keys(v).some((k) => k.toLowerCase() === lower);
}

/** `a[i]` for arrays (non-negative integers), `a["i"]` for maps. */
export function readIndex(v: unknown, key: unknown, ignoreCase: boolean): unknown {
  if (Array.isArray(v)) {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= v.length) return null;
    return v[key] ?? null;
  }
  if (typeof key === 'number') key = String(key);
  if (typeof key !== 'string') return null;
  return ignoreCase ? readKeyIgnoringCase(v, key) : readKey(v, key);
}

/** Truthiness for `and`, `or`, `!` and the query's result. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

const NUMERIC = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** The number a value stands for (numbers, numeric strings), or NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length < 64 && NUMERIC.test(v)) return Number(v);
  return NaN;
}

/** String form for regex matching and string methods; null for values that have none. */
export function toText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/**
 * `==`: numbers (and numeric strings against numbers) numerically, booleans against "true"/"false",
 * arrays against arrays deeply, an array against a scalar as "any element equals".
 */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  const aArray = Array.isArray(a);
  const bArray = Array.isArray(b);
  if (aArray && bArray) return deepEquals(a, b);
  if (aArray) return (a as unknown[]).some((x) => scalarEquals(x, b));
  if (bArray) return (b as unknown[]).some((x) => scalarEquals(a, x));
  return scalarEquals(a, b);
}

function scalarEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'number' || tb === 'number') {
    if (ta === 'boolean' || tb === 'boolean') return false;
    const x = toNumber(a);
    const y = toNumber(b);
    return !Number.isNaN(x) && x === y;
  }
  if (ta === 'boolean' && tb === 'string') return String(a) === b;
  if (ta === 'string' && tb === 'boolean') return a === String(b);
  if (ta === 'object' && tb === 'object') return deepEquals(a, b);
  return false;
}

function deepEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEquals(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && deepEquals(a[k], b[k]));
  }
  return scalarEquals(a, b);
}

export type OrderOp = '<' | '<=' | '>' | '>=';

/** Ordering: numerically when both sides are numbers, else by text when both are strings, else false. */
export function compareOrder(a: unknown, b: unknown, op: OrderOp): boolean {
  if (Array.isArray(a)) return a.some((x) => !Array.isArray(x) && compareOrder(x, b, op));
  let x: number | string = toNumber(a);
  let y: number | string = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) {
    if (typeof a !== 'string' || typeof b !== 'string') return false;
    x = a;
    y = b;
  }
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

/** `x in y`: list membership (by `==`) or map key; anything else is false. */
export function contained(x: unknown, y: unknown, ignoreCase: boolean): boolean {
  if (Array.isArray(y)) return y.some((el) => (Array.isArray(el) || Array.isArray(x) ? deepEquals(x, el) : scalarEquals(x, el)));
  if (isObject(y)) {
    const key = typeof x === 'number' ? String(x) : x;
    return typeof key === 'string' && hasKey(y, key, ignoreCase);
  }
  return false;
}

/** size(): string length in code points (as CEL counts), array length, map key count. */
export function sizeOf(v: unknown): number | null {
  if (typeof v === 'string') {
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff || i === 0 || v.charCodeAt(i - 1) < 0xd800 || v.charCodeAt(i - 1) > 0xdbff) n++;
    }
    return n;
  }
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  return null;
}
