/**
 * The KFL syntax tree. Every node keeps its 0-based source span so that compile-time errors
 * (unknown function, bad regex, bad arguments) can point at the exact text.
 * Postfix steps are generic (`member`, `index`, `wildcard`, `descend`, `call` with a target); the
 * compiler decides which chains are entry paths, aliases or protocol words.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

export type LiteralValue = string | number | boolean | null;

export interface LiteralNode extends Span {
  readonly kind: 'literal';
  readonly value: LiteralValue;
}

export interface RegexNode extends Span {
  readonly kind: 'regex';
  readonly source: string;
}

export interface ListNode extends Span {
  readonly kind: 'list';
  readonly items: readonly Node[];
}

/** A bare name: a field, alias or protocol word (`request`, `status_code`, `http`). */
export interface IdentNode extends Span {
  readonly kind: 'ident';
  readonly name: string;
}

/** The entry itself: the start of a query-level `..name`. */
export interface RootNode extends Span {
  readonly kind: 'root';
}

export interface MemberNode extends Span {
  readonly kind: 'member';
  readonly target: Node;
  readonly name: string;
}

export interface IndexNode extends Span {
  readonly kind: 'index';
  readonly target: Node;
  readonly key: Node;
}

/** `a.*` or `a[*]`: every array element or map value, as a list. */
export interface WildcardNode extends Span {
  readonly kind: 'wildcard';
  readonly target: Node;
}

/** `a..name` or `a..["name"]`: values of keys named `name` at any depth below `a`, as a list. */
export interface DescendNode extends Span {
  readonly kind: 'descend';
  readonly target: Node;
  readonly name: string;
}

/** A function call `f(x)` (target null) or a method call `x.f()`. */
export interface CallNode extends Span {
  readonly kind: 'call';
  readonly target: Node | null;
  readonly name: string;
  /** Span of the name alone: unknown-function errors point there. */
  readonly nameStart: number;
  readonly nameEnd: number;
  readonly args: readonly Node[];
}

export type UnaryOp = '!' | '-';

export interface UnaryNode extends Span {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly operand: Node;
}

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
export type ArithOp = '+' | '-' | '*' | '/' | '%';

export interface BinaryNode extends Span {
  readonly kind: 'binary';
  readonly op: CompareOp | ArithOp;
  readonly left: Node;
  readonly right: Node;
  readonly opStart: number;
  readonly opEnd: number;
}

/** `and` / `or` chains are n-ary, so a thousand-term query is not a thousand-deep tree. */
export interface LogicalNode extends Span {
  readonly kind: 'logical';
  readonly op: 'and' | 'or';
  readonly operands: readonly Node[];
}

export type Node =
  | LiteralNode
  | RegexNode
  | ListNode
  | IdentNode
  | RootNode
  | MemberNode
  | IndexNode
  | WildcardNode
  | DescendNode
  | CallNode
  | UnaryNode
  | BinaryNode
  | LogicalNode;
