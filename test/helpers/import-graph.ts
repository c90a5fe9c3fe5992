/**
 * The import graph of the repository's own TypeScript, read with the TypeScript parser (so
 * `import type` is told apart and dynamic `import()` is seen, and comments or strings that look
 * like imports are not): used by the architecture tests.
 */
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './shared-pcaps.ts';

export interface ImportEdge {
  /** Repo-relative path of the importing file. */
  readonly from: string;
  /** Repo-relative path the specifier resolves to. */
  readonly to: string;
  readonly typeOnly: boolean;
  readonly line: number;
}

/** Every relative import, export-from and import() of `file`, resolved to repo-relative paths. */
export function importEdges(file: string, text: string): ImportEdge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (spec: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    edges.push({
      from: relative(REPO_ROOT, file),
      to: relative(REPO_ROOT, resolve(dirname(file), spec.text)),
      typeOnly,
      line: sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes = clause !== undefined && !clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, clause?.isTypeOnly === true || allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}
