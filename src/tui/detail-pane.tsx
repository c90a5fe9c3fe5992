/** The detail pane: a window over prepared lines, plus the curl command once `c` was pressed. */
import { Box, Text } from 'ink';
import { sanitizeBlock } from '../model/terminal-text.ts';
import type { DetailLine } from './detail-lines.ts';
import { TONE_COLORS } from './theme.ts';

export interface DetailPaneProps {
  readonly lines: readonly DetailLine[];
  readonly scroll: number;
  readonly width: number;
  readonly height: number;
  readonly curl: string | undefined;
}

/**
 * The part of the curl command the box can show (the clipboard gets all of it): display-safe, and
 * at most a box full of characters, so a command carrying a large body is not wrapped whole on
 * every frame. `cut` counts what is left out.
 */
export function curlEcho(curl: string, rows: number, width: number): { readonly text: string; readonly cut: number } {
  const room = Math.max(1, rows * Math.max(1, width));
  if (curl.length <= room) return { text: sanitizeBlock(curl), cut: 0 };
  return { text: sanitizeBlock(curl.slice(0, room)), cut: curl.length - room };
}

export function DetailPane({ lines, scroll, width, height, curl }: DetailPaneProps) {
  const curlRows = curl === undefined ? 0 : Math.min(Math.max(4, Math.ceil(curl.length / Math.max(1, width - 2)) + 3), Math.floor(height / 2));
  const visible = lines.slice(scroll, scroll + Math.max(0, height - curlRows));
  const echo = curl === undefined ? undefined : curlEcho(curl, curlRows - 3, width - 2);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {visible.map((line, i) => (
        <Text key={scroll + i} color={TONE_COLORS[line.tone]} bold={line.tone === 'heading' || line.tone === 'section'} wrap="truncate">
          {line.text === '' ? ' ' : line.text}
        </Text>
      ))}
      {echo === undefined ? null : (
        <Box flexDirection="column" borderStyle="single" borderColor="green" overflow="hidden" width={width} height={curlRows} marginTop={Math.max(0, height - curlRows - visible.length)}>
          <Box flexShrink={0}>
            <Text color="green" wrap="truncate">curl (sent to the clipboard with OSC 52 where the terminal allows; else copy it here):</Text>
          </Box>
          {/* Word wrapping can take more rows than the box has: the command is cut, the title and the note stay. */}
          <Box flexShrink={1} overflow="hidden">
            <Text wrap="wrap">{echo.text}</Text>
          </Box>
          {echo.cut > 0 ? (
            <Box flexShrink={0}>
              <Text color="yellow" wrap="truncate">… {echo.cut} more characters: the clipboard has the whole command</Text>
            </Box>
          ) : null}
        </Box>
      )}
    </Box>
  );
}
