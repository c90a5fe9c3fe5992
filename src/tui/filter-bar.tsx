/** The filter bar: the query, then a caret under the error and its message, or a green "valid". */
import { Box, Text } from 'ink';
import { sanitizeLine } from '../model/terminal-text.ts';
import type { FilterValidation } from './use-filter-bar.ts';

export interface FilterBarProps {
  readonly query: string;
  readonly validation: FilterValidation;
  readonly width: number;
}

const PROMPT = '/ ';

/** The part of the query that fits, keeping the end (where the cursor is) visible. */
function visibleStart(query: string, width: number): number {
  const room = Math.max(1, width - PROMPT.length - 1);
  return Math.max(0, query.length - room);
}

export function FilterBar({ query, validation, width }: FilterBarProps) {
  // A query can hold names from traffic (the service map sets one) or pasted control characters:
  // shown escaped, and the caret placed by the escaped text's columns.
  const shownQuery = sanitizeLine(query);
  const start = visibleStart(shownQuery, width);
  const color = validation.ok ? 'green' : 'red';
  let caret = '';
  let message = '';
  if (validation.ok) {
    message = query.trim() === '' ? 'empty: enter removes the filter' : validation.warnings.length > 0 ? `valid; ${sanitizeLine(validation.warnings[0].message)}` : 'valid';
  } else {
    const column = Math.max(0, sanitizeLine(query.slice(0, Math.max(0, validation.error.column - 1))).length - start);
    caret = ' '.repeat(PROMPT.length + column) + '^'.repeat(Math.max(1, validation.error.length));
    message = sanitizeLine(validation.error.message);
  }
  return (
    <Box flexDirection="column" width={width} height={3}>
      <Text wrap="truncate">
        <Text bold color={color}>{PROMPT}</Text>
        <Text color={color}>{shownQuery.slice(start)}</Text>
        <Text inverse> </Text>
      </Text>
      <Text color={caret === '' ? undefined : 'red'} wrap="truncate">{caret === '' ? ' ' : caret}</Text>
      <Text color={validation.ok ? (validation.warnings.length > 0 ? 'yellow' : 'green') : 'red'} wrap="truncate">
        {validation.ok ? '✓ ' : '✗ '}
        {message}
      </Text>
    </Box>
  );
}
