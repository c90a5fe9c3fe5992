/** One line of key hints for the current mode, generated from the key table. */
import { Text } from 'ink';
import { hintsFor, type Command, type KeyMode } from './keys.ts';
import { ACCENT } from './theme.ts';

export interface FooterProps {
  readonly mode: KeyMode;
  readonly width: number;
  /** Commands the item on screen does not offer (an entry without a replay command: no curl). */
  readonly unavailable?: ReadonlySet<Command>;
}

/** Hints in key-table order, as many whole ones as fit: a hint cut in half helps nobody. */
export function hintsThatFit(mode: KeyMode, width: number, unavailable?: ReadonlySet<Command>): readonly { readonly label: string; readonly help: string }[] {
  const shown: { readonly label: string; readonly help: string }[] = [];
  let used = 0;
  for (const hint of hintsFor(mode, unavailable)) {
    used += (shown.length > 0 ? GAP.length : 0) + hint.label.length + 1 + hint.help.length;
    if (used > width) break;
    shown.push(hint);
  }
  return shown;
}

const GAP = '  ';

export function Footer({ mode, width, unavailable }: FooterProps) {
  const hints = hintsThatFit(mode, width, unavailable);
  return (
    <Text wrap="truncate">
      {hints.map((hint, i) => (
        <Text key={`${hint.label}-${i}`}>
          {i > 0 ? GAP : ''}
          <Text color={ACCENT} bold>{hint.label}</Text>
          <Text color="gray"> {hint.help}</Text>
        </Text>
      ))}
    </Text>
  );
}
