/**
 * The public face of KFL (Kubeshark Filter Language): compile a query once, then test entries.
 * Pure TypeScript with no Node-only dependency: the agent runs it next to the traffic and the TUI
 * runs it on every keystroke. Both Kubeshark dialects (v1: `and`/`or`, JSON paths, `r"..."`;
 * KFL2/CEL: `&&`/`||`, flat variables, `.matches()`, `in`) are one grammar.
 */
import type { Entry } from '../model/entry.ts';

export type KflErrorCode =
  | 'KFL_SYNTAX'
  | 'KFL_UNKNOWN_FUNCTION'
  | 'KFL_BAD_ARGUMENTS'
  | 'KFL_BAD_REGEX'
  | 'KFL_BAD_LITERAL';

export interface KflError {
  readonly code: KflErrorCode;
  /** One line: what is wrong and what was expected, e.g. `expected a value after "==", found end of query`. */
  readonly message: string;
  /** 1-based column (in UTF-16 code units of the query) where the problem starts. */
  readonly column: number;
  /** How many columns the caret marks (at least 1). */
  readonly length: number;
  /** The query, a caret line under it, and the message: ready to print. */
  readonly display: string;
}

export interface KflWarning {
  readonly code: 'KFL_UNKNOWN_FIELD';
  /** e.g. `unknown field request.pth: did you mean request.path?` */
  readonly message: string;
  readonly column: number;
  readonly length: number;
}

export interface CompiledFilter {
  readonly query: string;
  /** Pure predicate: never throws, ignores limit() and redact(). */
  test(entry: Entry): boolean;
  /** From `limit(n)`: stop after n matches; undefined when the query has none. */
  readonly limit: number | undefined;
  /** From `redact("path", ...)`: paths whose values matching entries carry as `[REDACTED]`. */
  readonly redactPaths: readonly string[];
  /** A copy of the entry with `redactPaths` replaced by "[REDACTED]" (the entry itself when none). */
  redact<E extends Entry>(entry: E): E;
}

export type CompileResult =
  | { readonly ok: true; readonly filter: CompiledFilter; readonly warnings: readonly KflWarning[] }
  | { readonly ok: false; readonly error: KflError };

export interface CompileOptions {
  /** "Now" for now(), seconds(n) ... years(n), in Unix ms; defaults to Date.now() at compile time. */
  readonly nowMs?: number;
}
