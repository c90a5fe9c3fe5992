/**
 * The line above the entry list after enter in the service map: the filter it set, and that esc
 * goes back to the one before (none, if there was none). The query can hold names from traffic: it is made display-safe.
 */
import { Text } from 'ink';
import { cutText } from './entry-row.ts';
import { ACCENT } from './theme.ts';
import type { Narrowing } from './use-tui-state.ts';

export interface NarrowingNoticeProps {
  readonly narrowed: Narrowing;
  readonly width: number;
}

/**
 * The notice's parts for a width: the query whole when it fits, else the earlier filter cut so the
 * term the map added (the news) stays in view; the esc hint only where room is left.
 */
export function noticeParts(narrowed: Narrowing, width: number): { readonly label: string; readonly query: string; readonly undo: string } {
  const isFirst = narrowed.previous.trim() === '';
  const label = isFirst ? 'filter set from the map: ' : 'filter narrowed: ';
  const room = Math.max(1, width - label.length);
  let query = cutText(narrowed.query, room);
  if (!isFirst && query !== narrowed.query) {
    const term = cutText(narrowed.term, room);
    const old = cutText(narrowed.previous.trim(), room - term.length - '() and '.length);
    query = old === '' ? term : `(${old}) and ${term}`;
  }
  const undo = ' · esc undoes';
  return { label, query, undo: label.length + query.length + undo.length <= width ? undo : '' };
}

export function NarrowingNotice({ narrowed, width }: NarrowingNoticeProps) {
  const { label, query, undo } = noticeParts(narrowed, width);
  return (
    <Text wrap="truncate">
      <Text color="yellow">{label}</Text>
      <Text color={ACCENT}>{query}</Text>
      <Text color="gray">{undo}</Text>
    </Text>
  );
}
