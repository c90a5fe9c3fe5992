/** The store's current snapshot; re-renders on every (batched) store change. */
import { useCallback, useSyncExternalStore } from 'react';
import type { EntryStore, StoreSnapshot } from '../pipeline/store-api.ts';

export function useStoreSnapshot(store: EntryStore): StoreSnapshot {
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const snapshot = useCallback(() => store.snapshot(), [store]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
