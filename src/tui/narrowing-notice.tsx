/**
 * The line above the entry list after enter in the service map: the filter it set, and that esc
 * goes back to the one before (none, if there was none). The query can hold names from traffic:
 * it is made display-safe.
 */
import { Text } from 'ink';
import { fitNarrowing, isNarrowing, type Narrowing } from './map-items.ts';
import { ACCENT } from './theme.ts';

export interface NarrowingNoticeProps {
  readonly narrowed: Narrowing;
  readonly width: number;
}

/** The notice's parts for a width: the query fitted (fitNarrowing), the esc hint only where room is left. */
export function noticeParts(narrowed: Narrowing, width: number): { readonly label: string; readonly query: string; readonly undo: string } {
  const label = isNarrowing(narrowed) ? 'filter narrowed: ' : 'filter set from the map: ';
  const query = fitNarrowing(narrowed, Math.max(1, width - label.length));
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
