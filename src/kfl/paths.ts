/**
 * Paths into the entry: `request.headers["Accept"]`, `a.b[0]`, `a.*`, `..name`, aliases
 * (`status_code`), protocol words (`http`), and method calls along the way (`x.json().a`).
 * A leading run of plain names compiles to one closure that walks fixed keys without allocating;
 * wildcards and `..name` switch to "multi" mode, where later steps apply to every element.
 */
import type { CallNode, Node } from './ast.ts';
import type { CompileContext, Compiled } from './compiled.ts';
import { dynamic } from './compiled.ts';
import { ALIASES, CASE_INSENSITIVE_MAPS, ENTRY_READERS, MAX_ALIAS_SEGMENTS, PROTOCOL_WORDS, suggestField } from './fields.ts';
import { compileMethod } from './functions.ts';
import type { Getter } from './values.ts';
import { isObject, readIndex, readKey, readKeyIgnoringCase } from './values.ts';

type Step = Exclude<Node, { kind: 'literal' | 'regex' | 'list' | 'ident' | 'root' | 'unary' | 'binary' | 'logical' }>;

export function isPathNode(node: Node): boolean {
  return node.kind === 'ident' || node.kind === 'member' || node.kind === 'index' || node.kind === 'wildcard'
    || node.kind === 'descend' || (node.kind === 'call' && node.target !== null);
}

/** A static name step: `.name` or `["name"]`. */
function staticName(step: Step): string | undefined {
  if (step.kind === 'member') return step.name;
  if (step.kind === 'index' && step.key.kind === 'literal' && typeof step.key.value === 'string') return step.key.value;
  return undefined;
}

export function compileAccess(node: Node, ctx: CompileContext): Compiled {
  const steps: Step[] = [];
  let base: Node = node;
  while (base.kind === 'member' || base.kind === 'index' || base.kind === 'wildcard' || base.kind === 'descend' || (base.kind === 'call' && base.target)) {
    steps.push(base);
    base = base.kind === 'call' ? base.target! : base.target;
  }
  steps.reverse();

  let current: Compiled;
  let next = 0;
  if (base.kind === 'ident') {
    const names = [base.name];
    while (next < steps.length) {
      const name = staticName(steps[next]!);
      if (name === undefined) break;
      names.push(name);
      next++;
    }
    const resolved = resolveNames(base.name, names, ctx, base.start, next > 0 ? steps[next - 1]!.end : base.end);
    current = resolved.compiled;
    next = resolved.consumed - 1;
  } else {
    current = ctx.value(base);
  }
  for (; next < steps.length; next++) current = applyStep(current, steps[next]!, ctx);
  return current;
}

/**
 * Names from the start of a path: a protocol word alone, else the longest alias prefix, else a
 * plain entry path. Returns how many names were used (the rest are applied as steps).
 */
function resolveNames(first: string, names: string[], ctx: CompileContext, start: number, end: number): { compiled: Compiled; consumed: number } {
  const word = PROTOCOL_WORDS.get(first);
  if (word && names.length === 1) return { compiled: dynamic(word, { predicate: word }), consumed: 1 };
  for (let k = Math.min(MAX_ALIAS_SEGMENTS, names.length); k >= 1; k--) {
    const alias = ALIASES.get(names.slice(0, k).join('.'));
    if (!alias) continue;
    if (alias.kind === 'computed') return { compiled: dynamic(alias.get), consumed: k };
    return { compiled: entryPath([...alias.path, ...names.slice(k)]), consumed: names.length };
  }
  if (!word) {
    const dotted = names.join('.');
    const suggestion = suggestField(dotted);
    if (suggestion !== undefined) {
      ctx.warnings.push({
        code: 'KFL_UNKNOWN_FIELD',
        message: `unknown field ${dotted}: did you mean ${suggestion}?`,
        column: start + 1,
        length: Math.max(1, end - start),
      });
    }
  }
  return { compiled: entryPath(names), consumed: names.length };
}

/** A closure over fixed keys from the entry root; header and cookie maps are read in any case. */
function entryPath(keys: readonly string[]): Compiled {
  const get = keyWalker(keys);
  const dotted = keys.join('.');
  const textParent = keys.length >= 2 && keys[keys.length - 1] === 'text' ? keyWalker(keys.slice(0, -1)) : undefined;
  return dynamic(get, { ciMap: CASE_INSENSITIVE_MAPS.has(dotted), ...(textParent ? { textParent } : {}) });
}

function keyWalker(keys: readonly string[]): Getter {
  // The longest prefix with a hand-written reader, then one read per remaining key.
  let known = keys.length;
  while (known > 0 && !ENTRY_READERS.has(keys.slice(0, known).join('.'))) known--;
  const head: Getter = known > 0 ? ENTRY_READERS.get(keys.slice(0, known).join('.'))! : (root) => root;
  const rest = keys.slice(known).map((key, i) => keyReader(key, CASE_INSENSITIVE_MAPS.has(keys.slice(0, known + i).join('.'))));
  if (rest.length === 0) return head;
  if (rest.length === 1) {
    const [only] = rest as [(v: unknown) => unknown];
    return (root) => only(head(root));
  }
  return (root) => {
    let v = head(root);
    for (let i = 0; i < rest.length && v !== null; i++) v = rest[i]!(v);
    return v;
  };
}

/**
 * One key of a map. For header and cookie maps, the spellings senders use (as typed, lower case,
 * Canonical-Case) are tried before scanning every key, so the common lookups do not allocate.
 */
function keyReader(key: string, ignoreCase: boolean): (v: unknown) => unknown {
  if (!ignoreCase) return (v) => readKey(v, key);
  const spellings = [...new Set([key, key.toLowerCase(), canonicalCase(key)])];
  return (v) => {
    for (const s of spellings) {
      const r = readKey(v, s);
      if (r !== null) return r;
    }
    return readKeyIgnoringCase(v, key);
  };
}

/** `user-agent` -> `User-Agent`, as Go and most HTTP/1 stacks write header names. */
function canonicalCase(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

type StepFn = (value: unknown, root: unknown) => unknown;

function applyStep(current: Compiled, step: Step, ctx: CompileContext): Compiled {
  switch (step.kind) {
    case 'member': {
      const name = step.name;
      const fn: StepFn = current.ciMap ? (v) => readKeyIgnoringCase(v, name) : (v) => readKey(v, name);
      const next = chain(current, fn);
      return name === 'text' && !current.multi ? { ...next, textParent: current.get } : next;
    }
    case 'index': {
      const ci = current.ciMap;
      const key = ctx.value(step.key);
      if (key.constant) {
        const k = key.constant.value;
        return chain(current, (v) => readIndex(v, k, ci));
      }
      const keyGet = key.get;
      return chain(current, (v, root) => readIndex(v, keyGet(root), ci));
    }
    case 'wildcard':
      return { ...chain(current, childrenOf, true), multi: true };
    case 'descend': {
      const name = step.name;
      return { ...chain(current, (v) => descendants(v, name), true), multi: true };
    }
    case 'call':
      return compileMethod(step as CallNode, current, ctx);
  }
}

/** Apply a step to the value, or to each element of a multi value (dropping what is missing). */
function chain(current: Compiled, fn: StepFn, flatten = false): Compiled {
  const prev = current.get;
  if (!current.multi) return dynamic((root) => fn(prev(root), root));
  return dynamic(
    (root) => {
      const list = prev(root);
      const out: unknown[] = [];
      if (!Array.isArray(list)) return out;
      for (const el of list) {
        const r = fn(el, root);
        if (flatten && Array.isArray(r)) out.push(...r);
        else if (r !== null) out.push(r);
      }
      return out;
    },
    { multi: true },
  );
}

function childrenOf(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [];
}

/** Values of every key named `name` at any depth below `v` (iterative: deep JSON cannot overflow). */
export function descendants(v: unknown, name: string): unknown[] {
  const out: unknown[] = [];
  const stack: unknown[] = [v];
  const seen = new Set<unknown>(); // entries are JSON trees, but a shared or cyclic object must not loop
  while (stack.length > 0) {
    const cur = stack.pop();
    if (cur !== null && typeof cur === 'object') {
      if (seen.has(cur)) continue;
      seen.add(cur);
    }
    if (Array.isArray(cur)) {
      for (let i = cur.length - 1; i >= 0; i--) stack.push(cur[i]);
    } else if (isObject(cur)) {
      const keys = Object.keys(cur);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        if (k === name) out.push(cur[k]);
        stack.push(cur[k]);
      }
    }
  }
  return out;
}
