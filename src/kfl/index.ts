/**
 * KFL entry points: compileKfl (never throws) and FilterRun (limit and redaction over a stream).
 */
import type { Entry } from '../model/entry.ts';
import type { CompileOptions, CompileResult, CompiledFilter } from './api.ts';
import { compileTree } from './compile.ts';
import { KflCompileError, toKflError } from './errors.ts';
import { KNOWN_FIELDS } from './fields.ts';
import { lex } from './lexer.ts';
import { parse } from './parser.ts';
import { parseRedactPath, redactEntry } from './redact.ts';

export type { CompileOptions, CompileResult, CompiledFilter, KflError, KflErrorCode, KflWarning } from './api.ts';
export { KNOWN_FIELDS };
export { kflString } from './literal.ts';
export { FilterRun } from './filter-run.ts';

export function compileKfl(query: string, options?: CompileOptions): CompileResult {
  const text = typeof query === 'string' ? query : String(query);
  try {
    const tree = parse(lex(text));
    const compiled = compileTree(tree, text, options?.nowMs ?? Date.now());
    const predicate = compiled.predicate;
    const redactPaths = Object.freeze([...compiled.redactPaths]);
    const steps = redactPaths.map((p) => parseRedactPath(p)).filter((s) => typeof s !== 'string');
    const filter: CompiledFilter = {
      query: text,
      limit: compiled.limit,
      redactPaths,
      test(entry: Entry): boolean {
        try {
          return predicate(entry);
        } catch {
          return false; // only a pathological input (a cyclic or exotic object) gets here
        }
      },
      redact<E extends Entry>(entry: E): E {
        // The copy keeps the entry's shape; only the named values became "[REDACTED]".
        return steps.length === 0 ? entry : (redactEntry(entry, steps) as E);
      },
    };
    return { ok: true, filter, warnings: Object.freeze([...compiled.warnings]) };
  } catch (e) {
    if (e instanceof KflCompileError) return { ok: false, error: toKflError(text, e.code, e.message, e.start, e.length) };
    // Not expected: the parser bounds nesting. Still an error value, never an exception.
    const message = e instanceof RangeError ? 'query is too complex' : `internal error: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, error: toKflError(text, 'KFL_SYNTAX', message, 0, Math.max(1, text.length)) };
  }
}
