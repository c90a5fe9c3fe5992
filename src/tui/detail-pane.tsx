/** The detail pane: a window over prepared lines, plus the curl command once `c` was pressed. */
import { Box, Text } from 'ink';
import type { DetailLine } from './detail-lines.ts';
import { TONE_COLORS } from './theme.ts';

export interface DetailPaneProps {
  readonly lines: readonly DetailLine[];
  readonly scroll: number;
  readonly width: number;
  readonly height: number;
  readonly curl: string | undefined;
}

export function DetailPane({ lines, scroll, width, height, curl }: DetailPaneProps) {
  const curlRows = curl === undefined ? 0 : Math.min(Math.max(4, Math.ceil(curl.length / Math.max(1, width - 2)) + 3), Math.floor(height / 2));
  const visible = lines.slice(scroll, scroll + Math.max(0, height - curlRows));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {visible.map((line, i) => (
        <Text key={scroll + i} color={TONE_COLORS[line.tone]} bold={line.tone === 'heading' || line.tone === 'section'} wrap="truncate">
          {line.text === '' ? ' ' : line.text}
        </Text>
      ))}
      {curl === undefined ? null : (
        <Box flexDirection="column" borderStyle="single" borderColor="green" overflow="hidden" width={width} height={curlRows} marginTop={Math.max(0, height - curlRows - visible.length)}>
          <Text color="green" wrap="truncate">curl (sent to the clipboard with OSC 52 where the terminal allows; else copy it here):</Text>
          <Text wrap="wrap">{curl}</Text>
        </Box>
      )}
    </Box>
  );
}
