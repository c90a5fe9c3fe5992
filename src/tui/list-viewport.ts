/**
 * Selection and scrolling of the virtualised entry list, as pure functions over a small state.
 * Follow mode pins the selection to the newest row; any upward move pauses it; bottom/follow resume.
 */
export interface ListViewport {
  /** Row index (into the filtered view) of the selection. */
  readonly selected: number;
  /** First visible row. */
  readonly top: number;
  readonly follow: boolean;
}

export type ListMove = 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom' | 'follow';

export const INITIAL_VIEWPORT: ListViewport = { selected: 0, top: 0, follow: true };

/** Brings a state in line with the current row count and height (after arrivals, filters, resizes). */
export function reconcileViewport(state: ListViewport, shown: number, height: number): ListViewport {
  const rows = Math.max(1, height);
  if (shown <= 0) return { selected: 0, top: 0, follow: state.follow };
  const maxTop = Math.max(0, shown - rows);
  if (state.follow) return { selected: shown - 1, top: maxTop, follow: true };
  const selected = Math.min(Math.max(0, state.selected), shown - 1);
  let top = Math.min(Math.max(0, state.top), maxTop);
  if (selected < top) top = selected;
  if (selected >= top + rows) top = selected - rows + 1;
  return { selected, top, follow: false };
}

export function moveViewport(state: ListViewport, move: ListMove, shown: number, height: number): ListViewport {
  const rows = Math.max(1, height);
  const current = reconcileViewport(state, shown, rows);
  const step = (delta: number, follow: boolean): ListViewport =>
    reconcileViewport({ ...current, selected: current.selected + delta, follow }, shown, rows);
  switch (move) {
    case 'up':
      return step(-1, false);
    case 'down':
      return step(1, current.follow);
    case 'pageUp':
      return reconcileViewport({ selected: current.selected - rows, top: current.top - rows, follow: false }, shown, rows);
    case 'pageDown':
      return reconcileViewport({ selected: current.selected + rows, top: current.top + rows, follow: current.follow }, shown, rows);
    case 'top':
      return reconcileViewport({ selected: 0, top: 0, follow: false }, shown, rows);
    case 'bottom':
    case 'follow':
      return reconcileViewport({ ...current, follow: true }, shown, rows);
    default: {
      const unreachable: never = move;
      return unreachable;
    }
  }
}
