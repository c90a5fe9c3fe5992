/**
 * The service map: the layered drawing (scrolled so the selection is in view), the filter enter
 * would apply, and the edge table with request counts, client- and server-side error shares, unanswered requests and
 * latencies (see HELP_NOTES for what each figure means).
 */
import { useMemo } from 'react';
import { Box, Text } from 'ink';
import { isFailing } from '../pipeline/service-graph.ts';
import type { ServiceGraph } from '../pipeline/store-api.ts';
import { fitCell } from './entry-row.ts';
import { cropRows, drawGraph, scrollToShow } from './graph-canvas.ts';
import type { GraphLayout } from './graph-layout.ts';
import { EDGE_TABLE_TITLE, edgeTableCells, fitNarrowing, isNarrowing, type MapItem, type Narrowing } from './map-items.ts';
import { ACCENT, CELL_COLORS } from './theme.ts';

export interface ServiceMapProps {
  readonly graph: ServiceGraph;
  readonly layout: GraphLayout;
  readonly items: readonly MapItem[];
  readonly selected: number;
  /** What enter applies: the active filter narrowed to the selection. */
  readonly pending: Narrowing | undefined;
  readonly width: number;
  readonly height: number;
}

/** Column widths after the first (which takes the rest): PROTO REQS CERR% SERR% NO RSP P50 P95. */
const TABLE_WIDTHS = [0, 6, 7, 5, 5, 6, 7, 7];

function tableLine(cells: readonly string[], width: number): string {
  const fixed = TABLE_WIDTHS.reduce((sum, w) => sum + w + 1, 0);
  return cells.map((cell, i) => fitCell(cell, i === 0 ? Math.max(10, width - fixed) : TABLE_WIDTHS[i], i === 0 ? 'left' : 'right')).join(' ');
}

export function ServiceMap({ graph, layout, items, selected, pending, width, height }: ServiceMapProps) {
  const item = items[selected];
  const drawn = useMemo(() => drawGraph(layout, item), [layout, item]);
  if (graph.nodes.length === 0) return <Text color="gray">No traffic in the current view yet.</Text>;

  const tableRows = Math.min(graph.edges.length + 1, Math.max(2, Math.floor(height / 3)));
  const mapHeight = Math.max(1, height - tableRows - 1);
  const box = item?.kind === 'node' ? layout.nodes.find((node) => node.id === item.id) : undefined;
  const edge = item?.kind === 'edge' ? layout.edges.find((path) => path.index === item.index) : undefined;
  const focus = box ? { x: box.left, y: box.top, w: box.width, h: box.height } : edge ? { x: edge.labelAt.x, y: edge.labelAt.y, w: edge.label.length, h: 1 } : { x: 0, y: 0, w: 1, h: 1 };
  const top = scrollToShow(focus.y, focus.h, mapHeight, layout.height);
  const left = scrollToShow(focus.x, focus.w, width, layout.width);
  const rows = cropRows(drawn, top, left, width, mapHeight);
  const edgeRow = item?.kind === 'edge' ? item.index : -1;
  // What enter does comes first and gets the room (its new term kept whole); the scroll note follows if it fits.
  const label = pending !== undefined && isNarrowing(pending) ? 'enter narrows to: ' : 'enter filters on: ';
  const query = pending === undefined ? '-' : fitNarrowing(pending, Math.max(1, width - label.length));
  const note = layout.width > width || layout.height > mapHeight ? ` · map ${layout.width}x${layout.height}, scrolled to the selection` : '';
  const scrolled = label.length + query.length + note.length <= width ? note : '';
  const tableTop = scrollToShow(Math.max(0, edgeRow), 1, tableRows - 1, graph.edges.length);

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box flexDirection="column" height={mapHeight}>
        {rows.map((row, y) => (
          <Text key={top + y} wrap="truncate">
            {row.map((segment, i) => (
              <Text key={i} color={CELL_COLORS[segment.style]} bold={segment.style === 'selected'}>
                {segment.text}
              </Text>
            ))}
          </Text>
        ))}
      </Box>
      <Text color="gray" wrap="truncate">
        {label}
        <Text color={ACCENT}>{query}</Text>
        {scrolled}
      </Text>
      <Text bold wrap="truncate">{tableLine(EDGE_TABLE_TITLE, width)}</Text>
      {graph.edges.slice(tableTop, tableTop + tableRows - 1).map((one, i) => (
        <Text key={tableTop + i} wrap="truncate" inverse={tableTop + i === edgeRow} color={isFailing(one) ? 'red' : undefined}>
          {tableLine(edgeTableCells(one), width)}
        </Text>
      ))}
    </Box>
  );
}
