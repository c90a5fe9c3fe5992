/**
 * What the compiler passes between its parts (compile.ts, paths.ts, functions.ts): a compiled
 * value with what is statically known about it, and the context that collects limit(), redact()
 * and warnings while compiling.
 */
import type { KflWarning } from './api.ts';
import type { Node } from './ast.ts';
import type { Getter, Predicate } from './values.ts';

export interface Compiled {
  readonly get: Getter;
  /** Present when the value is known at compile time (literals, now(), duration("5m")...). */
  readonly constant?: { readonly value: unknown };
  /** A header or cookie map: keys match in any case. */
  readonly ciMap: boolean;
  /** Made by a wildcard or `..name`: a list whose further steps apply to each element. */
  readonly multi: boolean;
  /** For `x.text.json()`: reads the object holding `text`, whose `encoding` may say base64. */
  readonly textParent?: Getter;
  /** The same value as a boolean test, when that is cheaper than truthy(get()). */
  readonly predicate?: Predicate;
}

export interface CompileContext {
  readonly query: string;
  readonly nowMs: number;
  readonly warnings: KflWarning[];
  limit: number | undefined;
  readonly redactPaths: string[];
  value(node: Node): Compiled;
  predicate(node: Node): Predicate;
}

export function constant(value: unknown): Compiled {
  return { get: () => value, constant: { value }, ciMap: false, multi: false };
}

export function dynamic(get: Getter, extra?: Partial<Compiled>): Compiled {
  return { ciMap: false, multi: false, ...extra, get };
}
