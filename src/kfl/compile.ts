/**
 * KFL compiler: syntax tree -> closures (no eval, no new Function over user text).
 *
 * Semantics (the docs writer reads this; the KFL issue decides everything else):
 * - A missing field is null. `x == nil` is true and `x != nil` false when x is missing; ordering
 *   comparisons and string methods on null are false; `!` is plain boolean not, so `!(x == 1)` is
 *   true when x is missing. There is no v1-style collapse of the whole expression (v1 made
 *   `status >= 500 or dns` false on every DNS entry).
 * - Precedence: unary (`!`, `not`, `-`) > `* / %` > `+ -` > comparisons and `in` > `and`/`&&` >
 *   `or`/`||`. v1 parsed `A and B or C` as `A and (B or C)`; KFL reads `(A and B) or C`.
 *   Note that `not` binds like `!`: `not x == 1` is `(not x) == 1`; write `not (x == 1)`.
 * - Truthiness (bare fields, `and`, `or`, `!`): false, null, 0, "" and [] are false; anything else true.
 * - `==`: numbers compare numerically, also against numeric strings (`response.status == "200"`);
 *   booleans equal "true"/"false"; two lists compare element by element; a list against a scalar
 *   means "any element equals" (either side); `!=` is exactly `!(==)`, so a list `!=` means "no
 *   element equals". Two missing fields are equal (null == null), as KFL2's defaults would be.
 * - A regex literal `r"..."` on either side of `==`/`!=` means "matches" (RE2, unanchored) against
 *   the other side's string form (numbers and booleans are converted; null never matches; a list
 *   matches when any element does). A regex anywhere else is an error.
 * - `< <= > >=`: numerically when both sides are numbers or numeric strings, by text when both are
 *   strings, else false. A list on the left means "any element".
 * - `in`: element of a list (by `==`) or key of a map; header and cookie maps match keys in any
 *   case; a string on the right is false (no substring test: use contains()).
 * - Header and cookie maps (request/response .headers/.cookies) match keys in any case everywhere:
 *   `request.headers["accept"]`, `request.headers.accept`, `in`, map_get(). Query strings
 *   (`request.queryString`, `query_string`) match exactly: servers treat parameter names as
 *   case-sensitive.
 * - `..name` collects values of keys spelled exactly `name` (redact() alone ignores case there).
 * - String methods on a list test any element; size() counts code points of strings, list
 *   elements, map keys; size(null) is null.
 * - `+` adds numbers (numeric strings count) or joins two strings; `- * / %` need numbers;
 *   anything else (and division by zero) is null.
 * - json() parses the string (base64-decoded first when the sibling `encoding` is "base64"); text
 *   that is not JSON gives null.
 * - Time: `timestamp` is Unix ms; now(), seconds(n) ... years(n) are fixed at compile time.
 * - limit(n) and redact(...) are true wherever they appear; several limit() keep the smallest.
 * - Unknown fields are null (a warning suggests a near known name); unknown functions are errors.
 */
import type { KflWarning } from './api.ts';
import type { BinaryNode, Node } from './ast.ts';
import type { CompileContext, Compiled } from './compiled.ts';
import { constant, dynamic } from './compiled.ts';
import { KflCompileError, quote } from './errors.ts';
import { compileFunction } from './functions.ts';
import { compileAccess } from './paths.ts';
import { compileRegex } from './regex.ts';
import type { Getter, OrderOp, Predicate } from './values.ts';
import { compareOrder, contained, looseEquals, toNumber, toText, truthy } from './values.ts';

export interface CompiledQuery {
  readonly predicate: Predicate;
  readonly limit: number | undefined;
  readonly redactPaths: readonly string[];
  readonly warnings: readonly KflWarning[];
}

export function compileTree(tree: Node | null, query: string, nowMs: number): CompiledQuery {
  const warnings: KflWarning[] = [];
  const redactPaths: string[] = [];
  const ctx: CompileContext = {
    query,
    nowMs,
    warnings,
    limit: undefined,
    redactPaths,
    value: (node) => compileValue(node, ctx),
    predicate: (node) => compilePredicate(node, ctx),
  };
  const predicate = tree === null ? () => true : compilePredicate(tree, ctx);
  return { predicate, limit: ctx.limit, redactPaths, warnings };
}

function compilePredicate(node: Node, ctx: CompileContext): Predicate {
  if (node.kind === 'logical') {
    const parts = node.operands.map((n) => compilePredicate(n, ctx));
    if (parts.length === 2) {
      const [a, b] = parts as [Predicate, Predicate];
      return node.op === 'and' ? (r) => a(r) && b(r) : (r) => a(r) || b(r);
    }
    return node.op === 'and' ? (r) => parts.every((p) => p(r)) : (r) => parts.some((p) => p(r));
  }
  if (node.kind === 'unary' && node.op === '!') {
    const p = compilePredicate(node.operand, ctx);
    return (r) => !p(r);
  }
  if (node.kind === 'binary' && isComparison(node)) return compileComparison(node, ctx);
  const c = compileValue(node, ctx);
  if (c.predicate) return c.predicate;
  if (c.constant) {
    const t = truthy(c.constant.value);
    return () => t;
  }
  const get = c.get;
  return (r) => truthy(get(r));
}

function isComparison(node: BinaryNode): boolean {
  return node.op === '==' || node.op === '!=' || node.op === '<' || node.op === '<=' || node.op === '>' || node.op === '>=' || node.op === 'in';
}

function compileValue(node: Node, ctx: CompileContext): Compiled {
  switch (node.kind) {
    case 'literal':
      return constant(node.value);
    case 'regex':
      throw new KflCompileError('KFL_SYNTAX', `regex ${quote(node.source)} can only be compared with "==" or "!=", or passed to matches()`, node.start, node.end - node.start);
    case 'list': {
      const items = node.items.map((n) => compileValue(n, ctx));
      if (items.every((c) => c.constant)) return constant(Object.freeze(items.map((c) => c.constant!.value)));
      const getters = items.map((c) => c.get);
      return dynamic((r) => getters.map((g) => g(r)));
    }
    case 'root':
      return dynamic((r) => r);
    case 'call':
      return node.target === null ? compileFunction(node, ctx) : compileAccess(node, ctx);
    case 'ident':
    case 'member':
    case 'index':
    case 'wildcard':
    case 'descend':
      return compileAccess(node, ctx);
    case 'unary': {
      if (node.op === '!') return asValue(compilePredicate(node, ctx));
      const operand = compileValue(node.operand, ctx);
      const get = operand.get;
      return foldIfConstant(operand, (r) => {
        const n = toNumber(get(r));
        return Number.isNaN(n) ? null : -n;
      });
    }
    case 'logical':
      return asValue(compilePredicate(node, ctx));
    case 'binary':
      return isComparison(node) ? asValue(compileComparison(node, ctx)) : compileArithmetic(node, ctx);
  }
}

function asValue(p: Predicate): Compiled {
  return dynamic(p, { predicate: p });
}

/** A value computed from constants is itself a constant (`now() - duration("5m")`). */
function foldIfConstant(operand: Compiled | Compiled[], get: Getter): Compiled {
  const all = Array.isArray(operand) ? operand : [operand];
  return all.every((c) => c.constant) ? constant(get(null)) : dynamic(get);
}

function compileArithmetic(node: BinaryNode, ctx: CompileContext): Compiled {
  const left = compileValue(node.left, ctx);
  const right = compileValue(node.right, ctx);
  const l = left.get;
  const rr = right.get;
  const op = node.op;
  return foldIfConstant([left, right], (r) => {
    const a = l(r);
    const b = rr(r);
    if (op === '+' && typeof a === 'string' && typeof b === 'string' && (Number.isNaN(toNumber(a)) || Number.isNaN(toNumber(b)))) return a + b;
    const x = toNumber(a);
    const y = toNumber(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return null;
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '/':
        return y === 0 ? null : x / y;
      default:
        return y === 0 ? null : x % y;
    }
  });
}

function compileComparison(node: BinaryNode, ctx: CompileContext): Predicate {
  const { left, right } = node;
  if ((node.op === '==' || node.op === '!=') && (left.kind === 'regex' || right.kind === 'regex')) {
    const [re, other] = left.kind === 'regex' ? [left, right] : [right as typeof left & { kind: 'regex' }, left];
    if (other.kind === 'regex') throw new KflCompileError('KFL_SYNTAX', 'cannot compare two regexes: one side of "==" must be a value', node.opStart, node.opEnd - node.opStart);
    const compiled = compileRegex(re.source);
    if (!compiled.ok) throw new KflCompileError('KFL_BAD_REGEX', `invalid regex ${quote(re.source)}: ${compiled.reason}`, re.start, re.end - re.start);
    const regex = compiled.regex;
    const get = compileValue(other, ctx).get;
    const matchesAny = (v: unknown): boolean => {
      if (Array.isArray(v)) return v.some((x) => !Array.isArray(x) && matchesAny(x));
      const text = toText(v);
      return text !== null && regex.test(text);
    };
    return node.op === '==' ? (r) => matchesAny(get(r)) : (r) => !matchesAny(get(r));
  }
  let l = compileValue(left, ctx);
  let rc = compileValue(right, ctx);
  switch (node.op) {
    case '==':
    case '!=': {
      if (l.constant && !rc.constant) [l, rc] = [rc, l]; // == is symmetric: keep the constant on the right
      const eq = equalityTest(l.get, rc);
      return node.op === '==' ? eq : (r) => !eq(r);
    }
    case 'in': {
      const lg = l.get;
      const rg = rc.get;
      const ci = rc.ciMap;
      return (r) => contained(lg(r), rg(r), ci);
    }
    default:
      return orderTest(l.get, rc, node.op as OrderOp);
  }
}

/** `==` with fast paths for a constant right side (the common `field == "x"` / `field == 200`). */
function equalityTest(get: Getter, right: Compiled): Predicate {
  if (!right.constant) {
    const rg = right.get;
    return (r) => looseEquals(get(r), rg(r));
  }
  const c = right.constant.value;
  if (c === null) return (r) => get(r) == null; // null or undefined: both are "missing"
  if (typeof c === 'string') return (r) => {
    const v = get(r);
    return v === c || (typeof v !== 'string' && v !== null && looseEquals(v, c));
  };
  if (typeof c === 'number') return (r) => {
    const v = get(r);
    return typeof v === 'number' ? v === c : v !== null && looseEquals(v, c);
  };
  return (r) => looseEquals(get(r), c);
}

/** Ordering with a fast path for a constant number on the right (`response.status >= 500`). */
function orderTest(get: Getter, right: Compiled, op: OrderOp): Predicate {
  const c = right.constant?.value;
  if (typeof c === 'number') {
    switch (op) {
      case '<':
        return (r) => {
          const v = get(r);
          return typeof v === 'number' ? v < c : compareOrder(v, c, op);
        };
      case '<=':
        return (r) => {
          const v = get(r);
          return typeof v === 'number' ? v <= c : compareOrder(v, c, op);
        };
      case '>':
        return (r) => {
          const v = get(r);
          return typeof v === 'number' ? v > c : compareOrder(v, c, op);
        };
      default:
        return (r) => {
          const v = get(r);
          return typeof v === 'number' ? v >= c : compareOrder(v, c, op);
        };
    }
  }
  const rg = right.get;
  return (r) => compareOrder(get(r), rg(r), op);
}
