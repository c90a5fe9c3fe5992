/**
 * redact("path", ...): matching entries are output with the values at those paths replaced by
 * "[REDACTED]". Paths use the query's path syntax (`request.headers["Authorization"]`,
 * `..Cookie`, `..["Set-Cookie"]`, `response.content.text.json()..apiKey`, aliases such as `path`).
 * Redaction errs on the side of hiding: header/cookie keys and `..name` match in any case (HTTP/2
 * sends `authorization`, the recommended Kubeshark filter says `..Authorization`). A body reached
 * through json() is rewritten as JSON (and re-encoded when it was base64).
 */
import type { Node } from './ast.ts';
import { KflCompileError } from './errors.ts';
import { ALIASES, CASE_INSENSITIVE_MAPS, PROTOCOL_WORDS } from './fields.ts';
import { encodeBase64, decodeBase64, isBase64Holder, parseJson } from './json.ts';
import { lex } from './lexer.ts';
import { parse } from './parser.ts';
import type { Obj } from './values.ts';
import { isObject } from './values.ts';

export const REDACTED = '[REDACTED]';

type RedactStep =
  | { readonly kind: 'key'; readonly key: string | number; readonly ci: boolean }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'descend'; readonly name: string }
  | { readonly kind: 'json' };

/** The steps of a redact path, or why it is not one. */
export function parseRedactPath(text: string): RedactStep[] | string {
  let node: Node | null;
  try {
    node = parse(lex(text));
  } catch (e) {
    return e instanceof KflCompileError ? e.message : 'not a path';
  }
  if (node === null) return 'the path is empty';
  const reversed: RedactStep[] = [];
  let cur: Node = node;
  for (;;) {
    if (cur.kind === 'member') reversed.push({ kind: 'key', key: cur.name, ci: false });
    else if (cur.kind === 'index' && cur.key.kind === 'literal' && (typeof cur.key.value === 'string' || typeof cur.key.value === 'number')) reversed.push({ kind: 'key', key: cur.key.value, ci: false });
    else if (cur.kind === 'wildcard') reversed.push({ kind: 'wildcard' });
    else if (cur.kind === 'descend') reversed.push({ kind: 'descend', name: cur.name });
    else if (cur.kind === 'call' && cur.target && cur.name === 'json' && cur.args.length === 0) reversed.push({ kind: 'json' });
    else break;
    cur = cur.kind === 'call' ? cur.target! : cur.target;
  }
  if (cur.kind === 'root') return markCaseInsensitive(reversed.reverse());
  if (cur.kind !== 'ident') return 'expected field names, [keys], .*, ..name or .json()';
  const steps = reversed.reverse();
  const alias = ALIASES.get(cur.name);
  if (alias?.kind === 'computed' || PROTOCOL_WORDS.has(cur.name)) return `${cur.name} is not a field of the entry`;
  const head = alias?.kind === 'path' ? alias.path : [cur.name];
  return markCaseInsensitive([...head.map((key): RedactStep => ({ kind: 'key', key, ci: false })), ...steps]);
}

/** Keys right under a header or cookie map match in any case. */
function markCaseInsensitive(steps: RedactStep[]): RedactStep[] {
  const names: string[] = [];
  return steps.map((s) => {
    if (s.kind !== 'key') {
      names.push('\0'); // the static prefix is over
      return s;
    }
    const ci = CASE_INSENSITIVE_MAPS.has(names.join('.'));
    names.push(String(s.key));
    return ci ? { ...s, ci } : s;
  });
}

export function validateRedactPath(text: string): string | undefined {
  const r = parseRedactPath(text);
  return typeof r === 'string' ? r : undefined;
}

/** A place holding a value: `holder[key]`. */
interface Slot {
  readonly holder: Obj | unknown[];
  readonly key: string | number;
}

const read = (s: Slot): unknown => (s.holder as Record<string | number, unknown>)[s.key];

/** A deep copy of `entry` with every value at `paths` replaced by "[REDACTED]". */
export function redactEntry<T>(entry: T, paths: readonly RedactStep[][]): T {
  const box: Obj = { root: structuredClone(entry) };
  for (const steps of paths) redactSlots([{ holder: box, key: 'root' }], steps, 0);
  return box['root'] as T;
}

function redactSlots(slots: Slot[], steps: readonly RedactStep[], from: number): void {
  for (let i = from; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.kind === 'json') {
      for (const slot of slots) redactInsideJson(slot, steps, i + 1);
      return;
    }
    slots = slots.flatMap((slot) => stepSlots(read(slot), step));
  }
  for (const slot of slots) {
    if (read(slot) !== undefined) (slot.holder as Record<string | number, unknown>)[slot.key] = REDACTED;
  }
}

function stepSlots(v: unknown, step: Exclude<RedactStep, { kind: 'json' }>): Slot[] {
  if (step.kind === 'key') {
    if (Array.isArray(v)) return typeof step.key === 'number' && step.key >= 0 && step.key < v.length ? [{ holder: v, key: step.key }] : [];
    if (!isObject(v)) return [];
    const key = String(step.key);
    if (Object.hasOwn(v, key)) return [{ holder: v, key }];
    if (!step.ci) return [];
    const lower = key.toLowerCase();
    return Object.keys(v).filter((k) => k.toLowerCase() === lower).map((k) => ({ holder: v, key: k }));
  }
  if (step.kind === 'wildcard') {
    if (Array.isArray(v)) return v.map((_, i) => ({ holder: v, key: i }));
    return isObject(v) ? Object.keys(v).map((k) => ({ holder: v, key: k })) : [];
  }
  const lower = step.name.toLowerCase();
  const out: Slot[] = [];
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (Array.isArray(cur)) {
      for (const x of cur) stack.push(x);
    } else if (isObject(cur)) {
      for (const k of Object.keys(cur)) {
        if (k.toLowerCase() === lower) out.push({ holder: cur, key: k });
        else stack.push(cur[k]);
      }
    }
  }
  return out;
}

/** Parse the body at `slot`, redact inside it, and write it back in its original encoding. */
function redactInsideJson(slot: Slot, steps: readonly RedactStep[], from: number): void {
  const text = read(slot);
  if (typeof text !== 'string') return;
  const base64 = isBase64Holder(slot.holder);
  const decoded = base64 ? decodeBase64(text) : text;
  if (decoded === null) return;
  const doc = parseJson(decoded);
  if (doc === null || typeof doc !== 'object') {
    if (from === steps.length && doc !== null) (slot.holder as Obj)[slot.key as string] = REDACTED;
    return;
  }
  const box: Obj = { root: doc };
  redactSlots([{ holder: box, key: 'root' }], steps, from);
  const json = JSON.stringify(box['root']);
  (slot.holder as Record<string | number, unknown>)[slot.key] = base64 ? encodeBase64(json) : json;
}
