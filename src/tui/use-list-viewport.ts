/** The entry list's selection/scroll state, always reconciled with the current rows and height. */
import { useCallback, useState } from 'react';
import { INITIAL_VIEWPORT, moveViewport, reconcileViewport, type ListMove, type ListViewport } from './list-viewport.ts';

export function useListViewport(shown: number, height: number): readonly [ListViewport, (move: ListMove) => void] {
  const [state, setState] = useState<ListViewport>(INITIAL_VIEWPORT);
  const move = useCallback((how: ListMove) => setState((current) => moveViewport(current, how, shown, height)), [shown, height]);
  return [reconcileViewport(state, shown, height), move];
}
