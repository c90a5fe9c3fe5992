/**
 * Recursive-descent parser for KFL (both dialects in one grammar):
 *
 *   query      = [ or ] EOF
 *   or         = and { ("or" | "||") and }
 *   and        = compare { ("and" | "&&") compare }
 *   compare    = additive { ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") additive }
 *   additive   = multiply { ("+" | "-") multiply }
 *   multiply   = unary { ("*" | "/" | "%") unary }
 *   unary      = ("!" | "not" | "-") unary | postfix
 *   postfix    = primary { "." name [ args ] | "." "*" | ".." name | ".." "[" string "]"
 *                        | "[" ( "*" | or ) "]" }
 *   primary    = number | string | regex | "true" | "false" | "nil" | "null" | list
 *              | name [ args ] | ".." name | "(" or ")"
 *
 * The usual precedence: `A and B or C` is `(A and B) or C`. Kubeshark v1 read it as
 * `A and (B or C)` (right-nested, and/or equal); we deliberately do not copy that trap.
 */
import type { CompareOp, LiteralValue, Node } from './ast.ts';
import { KflCompileError, quote } from './errors.ts';
import type { Token } from './lexer.ts';
import { MAX_DEPTH, checkDepth, tooDeep } from './depth.ts';

const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);
const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'nil', 'null']);
const LITERAL_WORDS: Readonly<Record<string, LiteralValue>> = { true: true, false: false, nil: null, null: null };
/** After these, the missing thing reads better as "an expression" than as "a value". */
const EXPRESSION_CONTEXT: ReadonlySet<string> = new Set(['and', 'or', '&&', '||', '(', 'not', '!']);

/** What a token looks like in "found ..." */
export function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'end of query';
    case 'string':
      return `string ${tok.text.length > 24 ? `${tok.text.slice(0, 23)}…` : tok.text}`;
    case 'number':
      return `number ${tok.text}`;
    case 'regex':
      return `regex ${tok.text.length > 24 ? `${tok.text.slice(0, 23)}…` : tok.text}`;
    default:
      return quote(tok.text);
  }
}

export function parse(tokens: readonly Token[]): Node | null {
  const p = new Parser(tokens);
  if (p.peek().kind === 'eof') return null;
  const node = p.parseOr();
  const rest = p.peek();
  if (rest.kind !== 'eof') {
    if (rest.text === ')') throw new KflCompileError('KFL_SYNTAX', 'unexpected ")": no "(" to close', rest.start, 1);
    throw p.fail(`expected an operator or end of query after ${quote(p.previous().text)}`, rest);
  }
  checkDepth(node);
  return node;
}

class Parser {
  private readonly tokens: readonly Token[];
  private pos = 0;
  private depth = 0;

  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  previous(): Token {
    return this.tokens[Math.max(0, this.pos - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isWord(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === word;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }

  fail(expected: string, found: Token): KflCompileError {
    return new KflCompileError('KFL_SYNTAX', `${expected}, found ${describe(found)}`, found.start, Math.max(1, found.end - found.start));
  }

  private expectClose(close: string, open: Token, alternatives = ''): Token {
    if (this.isOp(close)) return this.next();
    const what = alternatives ? `${alternatives} or ${quote(close)}` : quote(close);
    throw this.fail(`expected ${what} to close ${quote(open.text)} at column ${open.start + 1}`, this.peek());
  }

  private enter(at: Token): void {
    if (++this.depth > MAX_DEPTH) throw tooDeep(at);
  }

  parseOr(): Node {
    return this.parseLogical('or', '||', () => this.parseAnd());
  }

  private parseAnd(): Node {
    return this.parseLogical('and', '&&', () => this.parseCompare());
  }

  private parseLogical(word: 'and' | 'or', symbol: string, operand: () => Node): Node {
    const first = operand();
    const operands = [first];
    while (this.isWord(word) || this.isOp(symbol)) {
      this.next();
      operands.push(operand());
    }
    if (operands.length === 1) return first;
    return { kind: 'logical', op: word, operands, start: first.start, end: operands[operands.length - 1]!.end };
  }

  private parseCompare(): Node {
    let left = this.parseAdditive();
    for (;;) {
      const t = this.peek();
      const isCompare = (t.kind === 'op' && COMPARE_OPS.has(t.text)) || (t.kind === 'ident' && t.text === 'in');
      if (!isCompare) return left;
      this.next();
      const right = this.parseAdditive();
      left = { kind: 'binary', op: t.text as CompareOp, left, right, opStart: t.start, opEnd: t.end, start: left.start, end: right.end };
    }
  }

  private parseAdditive(): Node {
    let left = this.parseMultiply();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      const right = this.parseMultiply();
      left = { kind: 'binary', op: t.text as '+' | '-', left, right, opStart: t.start, opEnd: t.end, start: left.start, end: right.end };
    }
    return left;
  }

  private parseMultiply(): Node {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const t = this.next();
      const right = this.parseUnary();
      left = { kind: 'binary', op: t.text as '*' | '/' | '%', left, right, opStart: t.start, opEnd: t.end, start: left.start, end: right.end };
    }
    return left;
  }

  private parseUnary(): Node {
    const t = this.peek();
    const isNot = (t.kind === 'op' && t.text === '!') || (t.kind === 'ident' && t.text === 'not');
    const isMinus = t.kind === 'op' && t.text === '-';
    if (!isNot && !isMinus) return this.parsePostfix();
    this.next();
    this.enter(t);
    const operand = this.parseUnary();
    this.depth--;
    if (isMinus && operand.kind === 'literal' && typeof operand.value === 'number') {
      return { kind: 'literal', value: -operand.value, start: t.start, end: operand.end };
    }
    return { kind: 'unary', op: isNot ? '!' : '-', operand, start: t.start, end: operand.end };
  }

  private parsePostfix(): Node {
    let node = this.parsePrimary();
    for (;;) {
      if (this.isOp('.')) {
        const dot = this.next();
        const t = this.peek();
        if (t.kind === 'op' && t.text === '*') {
          this.next();
          node = { kind: 'wildcard', target: node, start: node.start, end: t.end };
        } else if (t.kind === 'ident') {
          this.next();
          if (this.isOp('(')) node = this.parseCall(node, t);
          else node = { kind: 'member', target: node, name: t.text, start: node.start, end: t.end };
        } else {
          throw this.fail(`expected a field name, "*" or a method after ${quote(dot.text)}`, t);
        }
      } else if (this.isOp('..')) {
        this.next();
        const { name, end } = this.parseDescendName();
        node = { kind: 'descend', target: node, name, start: node.start, end };
      } else if (this.isOp('[')) {
        const open = this.next();
        if (this.isOp('*') && this.peek(1).kind === 'op' && this.peek(1).text === ']') {
          this.next();
          const close = this.next();
          node = { kind: 'wildcard', target: node, start: node.start, end: close.end };
          continue;
        }
        if (this.isOp(']')) throw this.fail(`expected a key or index after ${quote('[')}`, this.peek());
        this.enter(open);
        const key = this.parseOr();
        this.depth--;
        const close = this.expectClose(']', open);
        node = { kind: 'index', target: node, key, start: node.start, end: close.end };
      } else {
        return node;
      }
    }
  }

  /** The name after `..`: an identifier, or a bracketed string for names with dashes. */
  private parseDescendName(): { name: string; end: number } {
    const t = this.peek();
    if (t.kind === 'ident') {
      this.next();
      return { name: t.text, end: t.end };
    }
    if (t.kind === 'op' && t.text === '[') {
      const open = this.next();
      const key = this.peek();
      if (key.kind !== 'string') throw this.fail(`expected a quoted name after ${quote('..[')}`, key);
      this.next();
      const close = this.expectClose(']', open);
      return { name: String(key.value), end: close.end };
    }
    throw this.fail(`expected a field name after ${quote('..')}`, t);
  }

  private parseCall(target: Node | null, name: Token): Node {
    const open = this.next(); // "("
    this.enter(open);
    const args: Node[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.parseOr());
        if (!this.isOp(',')) break;
        this.next();
      }
    }
    const close = this.expectClose(')', open, '","');
    this.depth--;
    const start = target ? target.start : name.start;
    return { kind: 'call', target, name: name.text, nameStart: name.start, nameEnd: name.end, args, start, end: close.end };
  }

  private parsePrimary(): Node {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value, start: t.start, end: t.end };
      case 'regex':
        this.next();
        return { kind: 'regex', source: String(t.value), start: t.start, end: t.end };
      case 'ident':
        if (t.text in LITERAL_WORDS) {
          this.next();
          return { kind: 'literal', value: LITERAL_WORDS[t.text]!, start: t.start, end: t.end };
        }
        if (KEYWORDS.has(t.text)) break;
        this.next();
        if (this.isOp('(')) return this.parseCall(null, t);
        return { kind: 'ident', name: t.text, start: t.start, end: t.end };
      case 'op':
        if (t.text === '(') return this.parseParenthesized();
        if (t.text === '[') return this.parseList();
        if (t.text === '..') {
          this.next();
          const { name, end } = this.parseDescendName();
          return { kind: 'descend', target: { kind: 'root', start: t.start, end: t.start }, name, start: t.start, end };
        }
        break;
      default:
        break;
    }
    throw this.fail(this.expectedHere(), t);
  }

  /** `expected a value after "==" ` or `expected an expression` at the start of the query. */
  private expectedHere(): string {
    if (this.pos === 0) return 'expected an expression';
    const prev = this.previous();
    const what = EXPRESSION_CONTEXT.has(prev.text) ? 'an expression' : 'a value';
    return `expected ${what} after ${quote(prev.text)}`;
  }

  private parseParenthesized(): Node {
    const open = this.next();
    this.enter(open);
    const inner = this.parseOr();
    this.expectClose(')', open);
    this.depth--;
    return inner;
  }

  private parseList(): Node {
    const open = this.next();
    this.enter(open);
    const items: Node[] = [];
    if (!this.isOp(']')) {
      for (;;) {
        items.push(this.parseOr());
        if (!this.isOp(',')) break;
        this.next();
        if (this.isOp(']')) break; // a trailing comma is harmless
      }
    }
    const close = this.expectClose(']', open, '","');
    this.depth--;
    return { kind: 'list', items, start: open.start, end: close.end };
  }
}
