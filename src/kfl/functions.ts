/**
 * Functions (`size(x)`, `datetime("...")`, `limit(n)`, ...) and methods (`x.startsWith("a")`,
 * `x.json()`, ...). Arguments known at compile time are checked then (bad regex, bad date, wrong
 * type) so the user sees the mistake at its column instead of a filter that silently matches nothing.
 */
import type { CallNode, Node } from './ast.ts';
import type { CompileContext, Compiled } from './compiled.ts';
import { constant, dynamic } from './compiled.ts';
import { KflCompileError, quote } from './errors.ts';
import { isBase64Holder, jsonReader } from './json.ts';
import { validateRedactPath } from './redact.ts';
import { compileRegex, testDynamic } from './regex.ts';
import type { Regex } from './regex.ts';
import { closest } from './fields.ts';
import { RELATIVE_UNITS_MS, parseDatetime, parseDuration, parseTimestamp } from './time.ts';
import type { Getter } from './values.ts';
import { readIndex, sizeOf, toNumber, toText } from './values.ts';

const METHODS = ['startsWith', 'endsWith', 'contains', 'matches', 'json', 'size'] as const;
const FUNCTIONS = ['size', 'len', 'datetime', 'timestamp', 'duration', 'now', 'map_get', 'limit', 'redact', ...Object.keys(RELATIVE_UNITS_MS)];

function arity(call: CallNode, min: number, max = min): void {
  const n = call.args.length;
  if (n >= min && n <= max) return;
  const expected = min === max ? `${min} argument${min === 1 ? '' : 's'}` : max === Infinity ? `at least ${min} argument${min === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
  throw new KflCompileError('KFL_BAD_ARGUMENTS', `${call.name}() expects ${expected}, found ${n}`, call.nameStart, call.end - call.nameStart);
}

function describeConstant(v: unknown): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return `string ${quote(v)}`;
  if (Array.isArray(v)) return 'a list';
  return `${typeof v} ${String(v)}`;
}

/** `found` is the constant argument, or undefined when the argument is only known per entry. */
function badArgument(call: CallNode, arg: Node, expected: string, found: { readonly value: unknown } | undefined): KflCompileError {
  const what = found ? describeConstant(found.value) : 'an expression computed per entry';
  return new KflCompileError('KFL_BAD_ARGUMENTS', `${call.name}() expects ${expected}, found ${what}`, arg.start, arg.end - arg.start);
}

/** A string argument: checked now when constant, read with toText per entry otherwise. */
function textArgument(call: CallNode, arg: Node, ctx: CompileContext): { text?: string; get: Getter } {
  const c = ctx.value(arg);
  if (!c.constant) return { get: c.get };
  const text = toText(c.constant.value);
  if (text === null) throw badArgument(call, arg, 'a string', c.constant);
  return { text, get: c.get };
}

/** A method applied to a value, or to every element of a list ("any element" for tests). */
function stringTest(receiver: Compiled, test: (text: string, root: unknown) => boolean): Compiled {
  const get = receiver.get;
  const one = (v: unknown, root: unknown): boolean => {
    if (typeof v === 'string') return test(v, root);
    if (Array.isArray(v)) return v.some((x) => !Array.isArray(x) && one(x, root));
    const text = toText(v);
    return text !== null && test(text, root);
  };
  const predicate = (root: unknown): boolean => one(get(root), root);
  return dynamic(predicate, { predicate });
}

export function compileMethod(call: CallNode, receiver: Compiled, ctx: CompileContext): Compiled {
  switch (call.name) {
    case 'startsWith':
    case 'endsWith':
    case 'contains': {
      arity(call, 1);
      const arg = textArgument(call, call.args[0]!, ctx);
      const name = call.name;
      if (arg.text !== undefined) {
        const s = arg.text;
        if (name === 'startsWith') return stringTest(receiver, (t) => t.startsWith(s));
        if (name === 'endsWith') return stringTest(receiver, (t) => t.endsWith(s));
        return stringTest(receiver, (t) => t.includes(s));
      }
      const argGet = arg.get;
      return stringTest(receiver, (t, root) => {
        const s = toText(argGet(root));
        if (s === null) return false;
        return name === 'startsWith' ? t.startsWith(s) : name === 'endsWith' ? t.endsWith(s) : t.includes(s);
      });
    }
    case 'matches': {
      arity(call, 1);
      const arg = call.args[0]!;
      if (arg.kind === 'regex') {
        const re = regexAt(arg.source, arg);
        return stringTest(receiver, (t) => re.test(t));
      }
      const pattern = textArgument(call, arg, ctx);
      if (pattern.text !== undefined) {
        const re = regexAt(pattern.text, arg);
        return stringTest(receiver, (t) => re.test(t));
      }
      const patternGet = pattern.get;
      return stringTest(receiver, (t, root) => {
        const p = toText(patternGet(root));
        return p !== null && testDynamic(p, t);
      });
    }
    case 'json': {
      arity(call, 0);
      const read = jsonReader();
      const get = receiver.get;
      const parent = receiver.textParent;
      if (receiver.multi) return dynamic((root) => {
        const list = get(root);
        return Array.isArray(list) ? list.map((x) => read(x, false)).filter((x) => x !== null) : [];
      }, { multi: true });
      if (parent) return dynamic((root) => read(get(root), isBase64Holder(parent(root))));
      return dynamic((root) => read(get(root), false));
    }
    case 'size': {
      arity(call, 0);
      const get = receiver.get;
      return dynamic((root) => sizeOf(get(root)));
    }
    default: {
      const hint = closest(call.name, METHODS, call.name.length <= 4 ? 1 : 2);
      const isFunction = FUNCTIONS.includes(call.name);
      const detail = hint ? `: did you mean .${hint}()?` : isFunction ? `: ${call.name}() is a function, write ${call.name}(x)` : '';
      throw new KflCompileError('KFL_UNKNOWN_FUNCTION', `unknown method .${call.name}()${detail}`, call.nameStart, call.nameEnd - call.nameStart);
    }
  }
}

function regexAt(source: string, at: Node): Regex {
  const r = compileRegex(source);
  if (!r.ok) throw new KflCompileError('KFL_BAD_REGEX', `invalid regex ${quote(source)}: ${r.reason}`, at.start, at.end - at.start);
  return r.regex;
}

/** datetime(), timestamp(), duration(): parsed once when the text is a literal. */
function timeFunction(call: CallNode, ctx: CompileContext, parseText: (s: string) => number | undefined, expected: string): Compiled {
  arity(call, 1);
  const given = ctx.value(call.args[0]!).constant;
  if (given && typeof given.value !== 'string') throw badArgument(call, call.args[0]!, 'a quoted string', given);
  const arg = textArgument(call, call.args[0]!, ctx);
  if (arg.text !== undefined) {
    const ms = parseText(arg.text);
    const a = call.args[0]!;
    if (ms === undefined) throw new KflCompileError('KFL_BAD_LITERAL', `${call.name}() cannot read ${quote(arg.text)}: expected ${expected}`, a.start, a.end - a.start);
    return constant(ms);
  }
  const get = arg.get;
  return dynamic((root) => {
    const s = toText(get(root));
    return s === null ? null : (parseText(s) ?? null);
  });
}

export function compileFunction(call: CallNode, ctx: CompileContext): Compiled {
  const unit = RELATIVE_UNITS_MS[call.name];
  if (unit !== undefined) {
    arity(call, 1);
    const arg = ctx.value(call.args[0]!);
    const now = ctx.nowMs;
    if (arg.constant) {
      const n = arg.constant.value;
      if (typeof n !== 'number') throw badArgument(call, call.args[0]!, 'a number', arg.constant);
      return constant(now + n * unit);
    }
    const get = arg.get;
    return dynamic((root) => {
      const n = toNumber(get(root));
      return Number.isNaN(n) ? null : now + n * unit;
    });
  }
  switch (call.name) {
    case 'size':
    case 'len': {
      arity(call, 1);
      const get = ctx.value(call.args[0]!).get;
      return dynamic((root) => sizeOf(get(root)));
    }
    case 'now':
      arity(call, 0);
      return constant(ctx.nowMs);
    case 'datetime':
      return timeFunction(call, ctx, parseDatetime, 'ISO 8601 or "1/2/2006, 3:04:05.000 PM"');
    case 'timestamp':
      return timeFunction(call, ctx, parseTimestamp, 'RFC 3339 such as "2026-03-14T22:00:00Z"');
    case 'duration':
      return timeFunction(call, ctx, parseDuration, 'a duration such as "5m", "1h30m" or "250ms"');
    case 'map_get': {
      arity(call, 3);
      const map = ctx.value(call.args[0]!);
      const key = ctx.value(call.args[1]!).get;
      const fallback = ctx.value(call.args[2]!).get;
      const mapGet = map.get;
      const ci = map.ciMap;
      return dynamic((root) => {
        const found = readIndex(mapGet(root), key(root), ci);
        return found === null ? fallback(root) : found;
      });
    }
    case 'limit': {
      arity(call, 1);
      const arg = call.args[0]!;
      const c = ctx.value(arg).constant;
      const n = c?.value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw badArgument(call, arg, 'a whole number of entries (0 or more)', c);
      ctx.limit = ctx.limit === undefined ? n : Math.min(ctx.limit, n);
      return constant(true);
    }
    case 'redact': {
      arity(call, 1, Infinity);
      for (const arg of call.args) {
        const c = ctx.value(arg).constant;
        if (!c || typeof c.value !== 'string') throw badArgument(call, arg, 'quoted paths', c);
        const problem = validateRedactPath(c.value);
        if (problem !== undefined) throw new KflCompileError('KFL_BAD_ARGUMENTS', `redact() path ${quote(c.value)} is not a path: ${problem}`, arg.start, arg.end - arg.start);
        ctx.redactPaths.push(c.value);
      }
      return constant(true);
    }
    default: {
      const isMethod = (METHODS as readonly string[]).includes(call.name);
      const hint = isMethod ? undefined : closest(call.name, FUNCTIONS, call.name.length <= 4 ? 1 : 2);
      const detail = isMethod ? `: ${call.name}() is a method, write value.${call.name}(...)` : hint ? `: did you mean ${hint}()?` : '';
      throw new KflCompileError('KFL_UNKNOWN_FUNCTION', `unknown function ${call.name}()${detail}`, call.nameStart, call.nameEnd - call.nameStart);
    }
  }
}
