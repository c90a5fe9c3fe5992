/** Two header lines: where the traffic comes from, then counts, rate, drops, follow and filter. */
import { Box, Text } from 'ink';
import type { StoreSnapshot } from '../pipeline/store-api.ts';
import { ACCENT } from './theme.ts';

export interface HeaderProps {
  readonly source: string;
  readonly targets: number;
  readonly snapshot: StoreSnapshot;
  readonly follow: boolean;
  readonly width: number;
}

function rate(perSec: number): string {
  return perSec >= 100 ? String(Math.round(perSec)) : perSec.toFixed(1);
}

export function Header({ source, targets, snapshot, follow, width }: HeaderProps) {
  const state = follow ? 'FOLLOW' : 'PAUSED';
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color={ACCENT}>kubectl-shark</Text>
        <Text> {source}</Text>
        <Text color="gray"> │ </Text>
        <Text>targets {targets}</Text>
        {snapshot.ended ? <Text color="gray"> │ source ended</Text> : null}
      </Text>
      <Text wrap="truncate">
        <Text>entries </Text>
        <Text bold>{snapshot.shown}</Text>
        <Text>/{snapshot.total}</Text>
        <Text color="gray"> │ </Text>
        <Text>{rate(snapshot.entriesPerSec)}/s</Text>
        <Text color="gray"> │ </Text>
        <Text color={snapshot.drops > 0 ? 'red' : undefined}>drops {snapshot.drops}</Text>
        <Text color={snapshot.evicted > 0 ? 'yellow' : undefined}> (evicted {snapshot.evicted})</Text>
        <Text color="gray"> │ </Text>
        <Text color={follow ? 'green' : 'yellow'} bold>{state}</Text>
        <Text color="gray"> │ </Text>
        <Text>filter: </Text>
        {snapshot.filter === '' ? <Text color="gray">none</Text> : <Text color="green">{snapshot.filter}</Text>}
      </Text>
    </Box>
  );
}
