/** One line of key hints for the current mode, generated from the key table. */
import { Text } from 'ink';
import { hintsFor, type KeyMode } from './keys.ts';
import { ACCENT } from './theme.ts';

export interface FooterProps {
  readonly mode: KeyMode;
  readonly width: number;
}

export function Footer({ mode }: FooterProps) {
  const hints = hintsFor(mode);
  return (
    <Text wrap="truncate">
      {hints.map((hint, i) => (
        <Text key={`${hint.label}-${i}`}>
          {i > 0 ? '  ' : ''}
          <Text color={ACCENT} bold>{hint.label}</Text>
          <Text color="gray"> {hint.help}</Text>
        </Text>
      ))}
    </Text>
  );
}
