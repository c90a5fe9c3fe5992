/**
 * The whole TUI: header, the current view (entries, entry detail or service map), the filter bar,
 * help and key hints. State lives in useTuiState; this component only lays the parts out.
 */
import { useMemo } from 'react';
import { Box, Text, useApp } from 'ink';
import type { EntryStore } from '../pipeline/store-api.ts';
import { DetailPane } from './detail-pane.tsx';
import { emptyListText } from './empty-text.ts';
import { EntryList } from './entry-list.tsx';
import { FilterBar } from './filter-bar.tsx';
import { Footer } from './footer.tsx';
import { Header } from './header.tsx';
import { HelpOverlay } from './help-overlay.tsx';
import { NarrowingNotice } from './narrowing-notice.tsx';
import { ServiceMap } from './service-map.tsx';
import type { CompileQuery } from './use-filter-bar.ts';
import { useKeyRouter } from './use-key-router.ts';
import { useStoreSnapshot } from './use-store-snapshot.ts';
import { useTerminalSize, type TerminalSize } from './use-terminal-size.ts';
import { useTuiState } from './use-tui-state.ts';

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 12;

export interface AppProps {
  readonly store: EntryStore;
  readonly source: string;
  readonly targets: number;
  /** compileKfl in the app; tests may pass their own. */
  readonly compile: CompileQuery;
  readonly initialFilter?: string;
  /** False when stdin is not a terminal: Ink's raw mode would throw. */
  readonly isInputActive: boolean;
  /** Puts text on the clipboard (OSC 52); the command is shown on screen as well. */
  readonly onCopy?: (text: string) => void;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  readonly size?: TerminalSize;
}

const HEADER_ROWS = 2;
const FOOTER_ROWS = 1;
const FILTER_ROWS = 3;

export function App(props: AppProps) {
  const { store } = props;
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  // One row stays free: a frame as tall as the terminal makes Ink clear the screen on every update.
  const rows = Math.max(1, size.rows - 1);
  const width = size.columns;
  const snapshot = useStoreSnapshot(store);
  const isTooSmall = size.columns < MIN_COLUMNS || size.rows < MIN_ROWS;

  const state = useTuiState({
    store,
    snapshot,
    compile: props.compile,
    initialFilter: props.initialFilter,
    bodyHeight: Math.max(1, rows - HEADER_ROWS - FOOTER_ROWS),
    filterBarRows: FILTER_ROWS,
    width,
    onCopy: props.onCopy ?? (() => undefined),
    onQuit: () => exit(),
  });
  useKeyRouter(isTooSmall ? 'help' : state.mode, props.isInputActive, state.run, state.onText);

  const { bodyHeight } = state;
  const { narrowed } = state;
  const noticeRows = narrowed === undefined ? 0 : 1;
  const listRows = Math.max(0, bodyHeight - 1 - noticeRows);
  const { viewport } = state;
  const visible = useMemo(() => (state.view === 'list' ? store.rows(viewport.top, listRows) : []), [store, state.view, viewport.top, listRows, snapshot.version]);

  if (isTooSmall) {
    return (
      <Box flexDirection="column">
        <Text color="yellow" wrap="truncate">Terminal too small: {size.columns}x{size.rows}, need at least {MIN_COLUMNS}x{MIN_ROWS}.</Text>
        <Text wrap="truncate">Enlarge the window, or press q to quit.</Text>
      </Box>
    );
  }

  const helpMode = state.filterBar.isOpen ? 'filter' : state.view;
  let body;
  if (state.mode === 'help') body = <HelpOverlay mode={helpMode} width={width} height={bodyHeight} />;
  else if (state.view === 'detail') body = <DetailPane lines={state.detail.lines} scroll={state.detail.scroll} width={width} height={bodyHeight} curl={state.detail.curl} />;
  else if (state.view === 'map') body = <ServiceMap {...state.map} width={width} height={bodyHeight} />;
  else {
    const emptyText = emptyListText(snapshot);
    const list = <EntryList entries={visible} firstIndex={viewport.top} selected={viewport.selected} width={width} height={bodyHeight - noticeRows} emptyText={emptyText} />;
    body =
      narrowed === undefined ? (
        list
      ) : (
        <Box flexDirection="column">
          <NarrowingNotice narrowed={narrowed} width={width} />
          {list}
        </Box>
      );
  }

  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Header source={props.source} targets={props.targets} snapshot={snapshot} follow={viewport.follow} width={width} />
      <Box height={bodyHeight} overflow="hidden">{body}</Box>
      {state.filterBar.isOpen ? <FilterBar query={state.filterBar.query} validation={state.filterBar.validation} width={width} /> : null}
      <Footer mode={state.mode} width={width} unavailable={state.unavailable} />
    </Box>
  );
}
