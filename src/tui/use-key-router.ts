/**
 * Routes keystrokes by command name: the key table decides the command for the current mode, the
 * caller's `run` performs it; keys that are no command (text in the filter bar) go to `onText`.
 *
 * Keys can arrive faster than React re-renders (a quick typist, a paste, tmux send-keys), so the
 * router tracks the mode itself between renders: after "/" the next keys are already filter text.
 */
import { useRef } from 'react';
import { useInput, type Key } from 'ink';
import { commandFor, type Command, type KeyMode } from './keys.ts';

/** The mode a command obviously leads to; commands whose outcome depends on state keep the mode. */
export function modeAfter(mode: KeyMode, command: Command): KeyMode {
  switch (command) {
    case 'filter.open':
      return 'filter';
    case 'view.map':
      return 'map';
    case 'list.open':
      return 'detail';
    case 'app.help':
      return mode === 'help' ? mode : 'help';
    default:
      return mode;
  }
}

/** Control characters that can hide inside a chunk of input, as the keys Ink would report alone. */
const CONTROL_KEYS: Record<string, Partial<Key>> = {
  '\r': { return: true },
  '\u007f': { backspace: true },
  '\b': { backspace: true },
  '\t': { tab: true },
};

export interface KeyToken {
  readonly input: string;
  readonly key: Key;
}

/**
 * Several keys read at once arrive as one string ("jjj", "/http", "\u0015\r" from a quick typist
 * or tmux send-keys). Split it into one token per character, control characters as their keys.
 */
export function splitInput(input: string, key: Key): KeyToken[] {
  if (input.length <= 1 || key.ctrl || key.meta) return [{ input, key }];
  const tokens: KeyToken[] = [];
  for (const char of input) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) {
      const named = CONTROL_KEYS[char];
      tokens.push(named ? { input: '', key: { ...key, ...named } } : { input: String.fromCharCode(code + 0x60), key: { ...key, ctrl: true } });
      continue;
    }
    tokens.push({ input: char, key });
  }
  return tokens;
}

export function useKeyRouter(mode: KeyMode, isActive: boolean, run: (command: Command) => void, onText: (input: string, key: Key, mode: KeyMode) => void): void {
  // Every render knows the true mode; between renders the router's prediction stands in for it.
  const modeRef = useRef<KeyMode>(mode);
  modeRef.current = mode;
  // Ink re-attaches the input handler in an effect, after the frame is on screen: a key typed in
  // that window reaches the previous render's handler. Calling the latest render's run and onText
  // through refs makes it act on what the screen shows (e.g. G right after m moves in the map).
  const runRef = useRef(run);
  runRef.current = run;
  const onTextRef = useRef(onText);
  onTextRef.current = onText;
  useInput(
    (input, key) => {
      let current = modeRef.current;
      for (const token of splitInput(input, key)) {
        const command = commandFor(current, token.input, token.key);
        if (command === undefined) {
          onTextRef.current(token.input, token.key, current);
          continue;
        }
        runRef.current(command);
        current = modeAfter(current, command);
      }
      modeRef.current = current;
    },
    { isActive },
  );
}
