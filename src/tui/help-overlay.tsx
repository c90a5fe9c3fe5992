/** The help overlay: every key of the mode underneath it, straight from the key table. */
import { Box, Text } from 'ink';
import { bindingsFor, type KeyMode } from './keys.ts';
import { ACCENT } from './theme.ts';

export interface HelpOverlayProps {
  /** The view (or filter bar) whose keys are listed. */
  readonly mode: KeyMode;
  readonly width: number;
  readonly height: number;
}

/** What a view's figures mean and what its keys do beyond one line, shown under the keys. */
export const HELP_NOTES: Partial<Record<KeyMode, readonly string[]>> = {
  map: [
    'REQS requests in the view; CERR% SERR% shares answered with a client-side,',
    'server-side error (HTTP 4xx, 5xx; DNS NXDOMAIN, SERVFAIL; gRPC by status)',
    'NO RSP no answer (in neither share); P50 P95 latency; red: SERR or no answer',
    'enter: (active filter) and dst.name == "x" (src.name: a node nobody calls)',
    'esc in the entry list then brings back the filter before enter',
  ],
};

const TITLES: Record<KeyMode, string> = { list: 'entries', detail: 'entry detail', map: 'service map', filter: 'filter bar', help: 'help' };

export function HelpOverlay({ mode, width, height }: HelpOverlayProps) {
  const bindings = bindingsFor(mode).filter((binding) => binding.command !== 'app.help' || mode !== 'help');
  const labelWidth = Math.max(...bindings.map((binding) => binding.label.length), 4) + 2;
  // The outer box is the body; the frame inside it is as wide and as tall as its lines (alignSelf
  // keeps it from stretching across), so whatever lines are listed, the frame fits them and no more.
  // On a short terminal the frame shrinks and clips the lines, which keep their height
  // (flexShrink 0), rather than squeezing them on top of each other.
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box flexDirection="column" alignSelf="flex-start" flexShrink={1} borderStyle="round" borderColor={ACCENT} paddingX={1} overflow="hidden">
        <Box flexDirection="column" flexShrink={0}>
          <Text bold color={ACCENT} wrap="truncate">Keys: {TITLES[mode]}   (? or esc closes)</Text>
          {bindings.map((binding) => (
            <Text key={binding.command} wrap="truncate">
              <Text color={ACCENT} bold>{binding.label.padEnd(labelWidth)}</Text>
              <Text>{binding.help}</Text>
            </Text>
          ))}
          {(HELP_NOTES[mode] ?? []).map((note) => (
            <Text key={note} color="gray" wrap="truncate">{note}</Text>
          ))}
        </Box>
      </Box>
    </Box>
  );
}
