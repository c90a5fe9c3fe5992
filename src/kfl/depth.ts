/**
 * Bounded nesting: generated garbage (`((((...`, a thousand `+`) must give an error value, not
 * a stack overflow in the parser, the compiler or the compiled closures.
 */
import type { Node, Span } from './ast.ts';
import { KflCompileError } from './errors.ts';

/** Deeper trees are refused; no real query comes close. */
export const MAX_DEPTH = 400;

export function tooDeep(at: Span): KflCompileError {
  return new KflCompileError('KFL_SYNTAX', `query nests deeper than ${MAX_DEPTH} levels`, at.start, 1);
}

/** Long operator or postfix chains build deep trees without recursing in the parser: measure them. */
export function checkDepth(root: Node): void {
  const stack: Array<[Node, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) throw tooDeep(node);
    for (const child of children(node)) stack.push([child, depth + 1]);
  }
}

export function children(node: Node): readonly Node[] {
  switch (node.kind) {
    case 'list':
      return node.items;
    case 'member':
    case 'wildcard':
    case 'descend':
      return [node.target];
    case 'index':
      return [node.target, node.key];
    case 'call':
      return node.target ? [node.target, ...node.args] : node.args;
    case 'unary':
      return [node.operand];
    case 'binary':
      return [node.left, node.right];
    case 'logical':
      return node.operands;
    default:
      return [];
  }
}
