/**
 * The filter bar: the query being typed, its validation on every keystroke (compileKfl), the
 * history walked with up/down, and applying the result to the store.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CompileResult, KflError, KflWarning } from '../kfl/api.ts';
import type { EntryStore } from '../pipeline/store-api.ts';

export type CompileQuery = (query: string) => CompileResult;

export type FilterValidation = { readonly ok: true; readonly warnings: readonly KflWarning[] } | { readonly ok: false; readonly error: KflError };

export interface FilterBar {
  readonly isOpen: boolean;
  readonly query: string;
  readonly validation: FilterValidation;
  open(): void;
  type(text: string): void;
  erase(): void;
  clear(): void;
  /** True when the query was applied (the bar closes). */
  apply(): boolean;
  cancel(): void;
  previous(): void;
  next(): void;
  /** Applies a query from elsewhere (the service map); false when it does not compile. */
  applyQuery(query: string): boolean;
}

export function useFilterBar(store: EntryStore, compile: CompileQuery, activeFilter: string, initialFilter?: string): FilterBar {
  const [isOpen, setOpen] = useState(false);
  const [query, setQueryState] = useState('');
  // Keys can outrun renders (a paste of text then enter): edits and apply go through the latest text.
  const latest = useRef('');
  const setQuery = useCallback((next: string | ((old: string) => string)) => {
    latest.current = typeof next === 'function' ? next(latest.current) : next;
    setQueryState(latest.current);
  }, []);
  const [history, setHistory] = useState<readonly string[]>([]);
  /** Position while walking the history: history.length means "the line being typed". */
  const [cursor, setCursor] = useState(0);

  const validation = useMemo((): FilterValidation => {
    if (query.trim() === '') return { ok: true, warnings: [] };
    const result = compile(query);
    return result.ok ? { ok: true, warnings: result.warnings } : { ok: false, error: result.error };
  }, [compile, query]);

  const commit = useCallback(
    (text: string): boolean => {
      if (text.trim() === '') {
        store.setFilter(null);
        return true;
      }
      const result = compile(text);
      if (!result.ok) return false;
      store.setFilter(result.filter);
      setHistory((old) => [...old.filter((one) => one !== text), text]);
      return true;
    },
    [compile, store],
  );

  useEffect(() => {
    if (initialFilter === undefined || initialFilter.trim() === '') return;
    if (!commit(initialFilter)) {
      setQuery(initialFilter);
      setOpen(true);
    }
    // Only the filter given at start-up: later changes come from the bar itself.
  }, []);

  return {
    isOpen,
    query,
    validation,
    open: () => {
      setQuery(activeFilter);
      setCursor(history.length);
      setOpen(true);
    },
    type: (text) => setQuery((old) => old + text.replace(/[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '')),
    erase: () => setQuery((old) => old.slice(0, -1)),
    clear: () => setQuery(''),
    apply: () => {
      const applied = commit(latest.current);
      if (applied) setOpen(false);
      return applied;
    },
    cancel: () => setOpen(false),
    previous: () => {
      if (history.length === 0) return;
      const at = Math.max(0, Math.min(cursor, history.length) - 1);
      setCursor(at);
      setQuery(history[at]);
    },
    next: () => {
      const at = Math.min(history.length, cursor + 1);
      setCursor(at);
      setQuery(at === history.length ? '' : history[at]);
    },
    applyQuery: (text) => {
      const applied = commit(text);
      if (!applied) {
        setQuery(text);
        setOpen(true);
      }
      return applied;
    },
  };
}
