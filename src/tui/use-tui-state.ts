/**
 * The TUI's state machine: which view is up, the list viewport, the pinned detail entry, the map
 * selection, help and the filter bar; `run(command)` performs one command from the key table.
 */
import { useMemo, useState } from 'react';
import type { Key } from 'ink';
import type { Entry } from '../model/entry.ts';
import type { EntryStore, ServiceGraph, StoreSnapshot } from '../pipeline/store-api.ts';
import { descriptorOf } from '../remote-agent/dissect/descriptors.ts';
import { detailLines, rawJsonLines, wrapLines, type DetailLine } from './detail-lines.ts';
import { capGraph } from './graph-cap.ts';
import { layoutGraph, type GraphLayout } from './graph-layout.ts';
import type { Command, KeyMode, ViewName } from './keys.ts';
import type { ListViewport } from './list-viewport.ts';
import { filterForItem, mapItems, narrowingFor, type MapItem, type Narrowing } from './map-items.ts';
import { useFilterBar, type CompileQuery, type FilterBar } from './use-filter-bar.ts';
import { useListViewport } from './use-list-viewport.ts';

export interface TuiState {
  readonly view: ViewName;
  readonly mode: KeyMode;
  readonly viewport: ListViewport;
  readonly bodyHeight: number;
  readonly filterBar: FilterBar;
  readonly detail: DetailState & { readonly lines: readonly DetailLine[] };
  readonly map: {
    readonly graph: ServiceGraph;
    readonly layout: GraphLayout;
    readonly items: readonly MapItem[];
    readonly selected: number;
    /** The filter enter would apply: the active one narrowed to the selection. */
    readonly pending: Narrowing | undefined;
  };
  /** Set while the filter is the one the service map narrowed: the list says so, esc undoes it. */
  readonly narrowed: Narrowing | undefined;
  run(command: Command): void;
  onText(input: string, key: Key, mode: KeyMode): void;
}

interface DetailState {
  readonly entry: Entry | undefined;
  readonly raw: boolean;
  /** First visible line, always within the content. */
  readonly scroll: number;
  readonly curl: string | undefined;
}

export interface TuiStateInput {
  readonly store: EntryStore;
  readonly snapshot: StoreSnapshot;
  readonly compile: CompileQuery;
  readonly initialFilter?: string;
  /** Rows the list, the detail pane and the map can use while the filter bar is closed. */
  readonly bodyHeight: number;
  /** Rows the filter bar takes from them when open. */
  readonly filterBarRows: number;
  readonly width: number;
  readonly onCopy: (text: string) => void;
  readonly onQuit: () => void;
}

const EMPTY_GRAPH: ServiceGraph = { nodes: [], edges: [] };

export function useTuiState(input: TuiStateInput): TuiState {
  const { store, snapshot } = input;
  const [view, setView] = useState<ViewName>('list');
  const [isHelpOpen, setHelpOpen] = useState(false);
  const [detail, setDetail] = useState<DetailState>({ entry: undefined, raw: false, scroll: 0, curl: undefined });
  const [mapSelected, setMapSelected] = useState(0);
  const [narrowing, setNarrowing] = useState<Narrowing | undefined>(undefined);
  const filterBar = useFilterBar(store, input.compile, snapshot.filter, input.initialFilter);
  // Only while that filter is still the active one: any other filter (typed, from history) ends it.
  const narrowed = narrowing !== undefined && narrowing.query === snapshot.filter ? narrowing : undefined;
  const bodyHeight = Math.max(1, input.bodyHeight - (filterBar.isOpen ? input.filterBarRows : 0));
  // Minus the column titles, and the notice line while a narrowing is shown above the list.
  const listHeight = Math.max(1, bodyHeight - 1 - (narrowed === undefined ? 0 : 1));
  const [viewport, moveList] = useListViewport(snapshot.shown, listHeight);

  const graph = useMemo(() => (view === 'map' ? capGraph(store.graph()) : EMPTY_GRAPH), [store, view, snapshot.version]);
  const layout = useMemo(() => layoutGraph(graph), [graph]);
  const items = useMemo(() => mapItems(graph, layout), [graph, layout]);
  const selected = Math.min(mapSelected, Math.max(0, items.length - 1));
  const term = items[selected] === undefined ? undefined : filterForItem(graph, items[selected]);
  const pending = term === undefined ? undefined : narrowingFor(snapshot.filter, term);

  const lines = useMemo(() => {
    if (detail.entry === undefined) return [];
    return wrapLines(detail.raw ? rawJsonLines(detail.entry) : detailLines(detail.entry), input.width);
  }, [detail.entry, detail.raw, input.width]);
  const maxScroll = Math.max(0, lines.length - bodyHeight);

  const mode: KeyMode = filterBar.isOpen ? 'filter' : isHelpOpen ? 'help' : view;
  const scrollDetail = (delta: number | 'top' | 'bottom'): void =>
    setDetail((old) => ({ ...old, scroll: delta === 'top' ? 0 : delta === 'bottom' ? maxScroll : Math.max(0, Math.min(maxScroll, old.scroll + delta)) }));
  const moveMap = (delta: number | 'top' | 'bottom'): void =>
    setMapSelected(delta === 'top' ? 0 : delta === 'bottom' ? Math.max(0, items.length - 1) : Math.max(0, Math.min(items.length - 1, selected + delta)));
  const navigate = (list: Parameters<typeof moveList>[0], step: number | 'top' | 'bottom'): void => {
    if (view === 'list') moveList(list);
    else if (view === 'detail') scrollDetail(step);
    else moveMap(step === 'top' || step === 'bottom' ? step : Math.sign(step));
  };

  const run = (command: Command): void => {
    switch (command) {
      case 'app.quit': return input.onQuit();
      case 'app.help': return setHelpOpen((open) => !open);
      case 'app.back': return isHelpOpen ? setHelpOpen(false) : setView('list');
      case 'view.next': return setView(view === 'map' ? 'list' : 'map');
      case 'view.map': return setView('map');
      case 'filter.open': return filterBar.open();
      case 'nav.up': return navigate('up', -1);
      case 'nav.down': return navigate('down', 1);
      case 'nav.pageUp': return navigate('pageUp', -bodyHeight);
      case 'nav.pageDown': return navigate('pageDown', bodyHeight);
      case 'nav.top': return navigate('top', 'top');
      case 'nav.bottom': return navigate('bottom', 'bottom');
      case 'list.follow': return moveList('follow');
      case 'list.open': {
        const entry = store.row(viewport.selected);
        if (entry === undefined) return;
        setDetail({ entry, raw: false, scroll: 0, curl: undefined });
        return setView('detail');
      }
      case 'detail.raw': return setDetail((old) => ({ ...old, raw: !old.raw, scroll: 0 }));
      case 'detail.curl': {
        if (detail.entry === undefined) return;
        // Only entries whose protocol has a replay command (HTTP: curl) offer one.
        const curl = descriptorOf(detail.entry)?.replayCommand?.(detail.entry);
        if (curl === undefined) return;
        input.onCopy(curl);
        return setDetail((old) => ({ ...old, curl }));
      }
      case 'map.select': {
        if (pending === undefined) return; // the "(N others)" fold: nothing to filter on
        if (pending.query === snapshot.filter) return setView('list');
        // applyQuery compiles first: a query that does not compile opens the bar on it instead.
        if (!filterBar.applyQuery(pending.query)) return;
        setNarrowing(pending);
        return setView('list');
      }
      case 'filter.undo': {
        if (narrowed === undefined) return;
        setNarrowing(undefined);
        return void filterBar.applyQuery(narrowed.previous);
      }
      case 'filter.apply': return void filterBar.apply();
      case 'filter.cancel': return filterBar.cancel();
      case 'filter.previous': return filterBar.previous();
      case 'filter.next': return filterBar.next();
      case 'filter.clear': return filterBar.clear();
      default: {
        const unreachable: never = command;
        return unreachable;
      }
    }
  };

  /** `inMode` is the router's mode, which is ahead of ours when "/" and text came in one read. */
  const onText = (text: string, key: Key, inMode: KeyMode): void => {
    if (inMode !== 'filter') return;
    if (key.backspace || key.delete) filterBar.erase();
    else if (text !== '' && !key.ctrl && !key.meta) filterBar.type(text);
  };

  return { view, mode, viewport, bodyHeight, filterBar, detail: { ...detail, scroll: Math.min(detail.scroll, maxScroll), lines }, map: { graph, layout, items, selected, pending }, narrowed, run, onText };
}
