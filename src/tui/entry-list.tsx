/** The virtualised entry list: column titles plus only the rows that fit (props in, rows out). */
import { Box, Text } from 'ink';
import type { Entry } from '../model/entry.ts';
import { cellText, fitCell, layoutColumns, protocolWidthWanted, routeWidthWanted, statusWidthWanted, rowCells, type Column } from './entry-row.ts';
import { STATUS_COLORS } from './theme.ts';

export interface EntryListProps {
  /** The visible rows, already sliced from the store. */
  readonly entries: readonly Entry[];
  /** Row index of entries[0] in the filtered view. */
  readonly firstIndex: number;
  readonly selected: number;
  readonly width: number;
  /** Rows including the title line. */
  readonly height: number;
  readonly emptyText: string;
}

/**
 * The selected row carries a marker as well as inverse video: without colours (NO_COLOR,
 * --color never, a dumb terminal) inverse is stripped too, and the selection must stay visible.
 */
const SELECTED_MARK = '▸';
const MARK_WIDTH = 1;

function titleLine(columns: readonly Column[]): string {
  return ' '.repeat(MARK_WIDTH) + columns.map((column) => fitCell(column.title, column.width, column.align)).join(' ');
}

export function EntryList({ entries, firstIndex, selected, width, height, emptyText }: EntryListProps) {
  // The route column is as wide as the widest route on screen (when the path can spare it), so
  // short names leave the room to the path and long ones are shortened only as far as needed.
  // The status column likewise widens for outcomes longer than an HTTP status (`NXDOMAIN`,
  // `RESOURCE_EXHAUSTED`), and the protocol column for `HTTP/2`.
  const some = entries.length > 0;
  const columns = layoutColumns(width - MARK_WIDTH, some ? routeWidthWanted(entries) : undefined, some ? statusWidthWanted(entries) : undefined, some ? protocolWidthWanted(entries) : undefined);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{titleLine(columns)}</Text>
      {entries.length === 0 ? <Text color="gray">{emptyText}</Text> : null}
      {entries.map((entry, offset) => {
        const cells = rowCells(entry);
        const isSelected = firstIndex + offset === selected;
        return (
          <Text key={`${firstIndex + offset}:${entry.id}`} inverse={isSelected} wrap="truncate">
            {isSelected ? SELECTED_MARK : ' '}
            {columns.map((column, i) => (
              <Text key={column.name} color={column.name === 'status' ? STATUS_COLORS[cells.statusClass] : undefined}>
                {(i > 0 ? ' ' : '') + cellText(entry, cells, column)}
              </Text>
            ))}
          </Text>
        );
      })}
    </Box>
  );
}
