/**
 * The one key table: every command the TUI understands, the keys that trigger it, the views where it
 * applies and its help text. The help overlay and the footer hints are generated from it, and
 * components ask "which command is this key?" instead of testing keys themselves (k9s' KeyMap idea).
 */
import type { Key } from 'ink';

export type ViewName = 'list' | 'detail' | 'map';
/** Where keys are routed: a view, or the filter bar / help overlay on top of it. */
export type KeyMode = ViewName | 'filter' | 'help';

export type Command =
  | 'app.quit'
  | 'app.help'
  | 'app.back'
  | 'view.next'
  | 'view.map'
  | 'filter.open'
  | 'nav.up'
  | 'nav.down'
  | 'nav.pageUp'
  | 'nav.pageDown'
  | 'nav.top'
  | 'nav.bottom'
  | 'list.follow'
  | 'list.open'
  | 'detail.raw'
  | 'detail.curl'
  | 'map.select'
  | 'filter.undo'
  | 'filter.apply'
  | 'filter.cancel'
  | 'filter.previous'
  | 'filter.next'
  | 'filter.clear';

type NamedKey = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'tab';

/** One key: a printable character, a named key, or ctrl plus a letter. */
export interface KeySpec {
  readonly char?: string;
  readonly named?: NamedKey;
  readonly ctrl?: string;
}

export interface KeyBinding {
  readonly command: Command;
  readonly keys: readonly KeySpec[];
  /** How the keys are written in help and hints, e.g. "j/↓". */
  readonly label: string;
  readonly help: string;
  readonly modes: readonly KeyMode[];
  /** Shown in the footer of these modes (help lists every binding of the mode). */
  readonly hintIn?: readonly KeyMode[];
  /** Footer wording (defaults to `help`). */
  readonly hint?: string;
}

const VIEWS: readonly KeyMode[] = ['list', 'detail', 'map'];

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { command: 'filter.apply', keys: [{ named: 'return' }], label: 'enter', help: 'apply the filter (empty: none)', modes: ['filter'], hint: 'apply', hintIn: ['filter'] },
  { command: 'filter.cancel', keys: [{ named: 'escape' }], label: 'esc', help: 'close the filter bar, keep the active filter', modes: ['filter'], hint: 'cancel', hintIn: ['filter'] },
  { command: 'filter.previous', keys: [{ named: 'upArrow' }], label: '↑↓', help: 'previous filter from history', modes: ['filter'], hint: 'history', hintIn: ['filter'] },
  { command: 'filter.next', keys: [{ named: 'downArrow' }], label: '↓', help: 'next filter from history', modes: ['filter'] },
  { command: 'filter.clear', keys: [{ ctrl: 'u' }], label: 'ctrl-u', help: 'clear the query', modes: ['filter'], hint: 'clear', hintIn: ['filter'] },
  { command: 'app.quit', keys: [{ ctrl: 'c' }], label: 'ctrl-c', help: 'quit', modes: ['filter'] },
  { command: 'app.quit', keys: [{ char: 'q' }, { ctrl: 'c' }], label: 'q', help: 'quit', modes: [...VIEWS, 'help'], hint: 'quit', hintIn: VIEWS },
  { command: 'app.help', keys: [{ char: '?' }], label: '?', help: 'help for this view', modes: [...VIEWS, 'help'], hint: 'help', hintIn: VIEWS },
  { command: 'app.back', keys: [{ named: 'escape' }], label: 'esc', help: 'back / close', modes: ['detail', 'map', 'help'], hint: 'back', hintIn: ['detail', 'help'] },
  { command: 'filter.open', keys: [{ char: '/' }], label: '/', help: 'filter (KFL)', modes: VIEWS, hint: 'filter', hintIn: ['list', 'map'] },
  { command: 'view.next', keys: [{ named: 'tab' }], label: 'tab', help: 'switch between entries and service map', modes: ['list', 'map'], hint: 'view', hintIn: ['list', 'map'] },
  { command: 'view.map', keys: [{ char: 'm' }], label: 'm', help: 'service map', modes: ['list', 'detail'], hint: 'map', hintIn: ['list'] },
  { command: 'list.open', keys: [{ named: 'return' }], label: 'enter', help: 'details of the selected entry', modes: ['list'], hint: 'details', hintIn: ['list'] },
  { command: 'map.select', keys: [{ named: 'return' }], label: 'enter', help: 'narrow the filter to the selection: (active filter) and its query', modes: ['map'], hint: 'narrow filter', hintIn: ['map'] },
  { command: 'filter.undo', keys: [{ named: 'escape' }], label: 'esc', help: 'undo the service map\'s narrowing (the filter before enter)', modes: ['list'] },
  { command: 'nav.up', keys: [{ char: 'k' }, { named: 'upArrow' }], label: 'k/↑', help: 'up (pauses follow)', modes: VIEWS, hintIn: [] },
  { command: 'nav.down', keys: [{ char: 'j' }, { named: 'downArrow' }], label: 'j/↓', help: 'down', modes: VIEWS, hintIn: [] },
  { command: 'nav.pageUp', keys: [{ named: 'pageUp' }, { ctrl: 'b' }], label: 'PgUp', help: 'page up', modes: VIEWS },
  { command: 'nav.pageDown', keys: [{ named: 'pageDown' }, { ctrl: 'f' }], label: 'PgDn', help: 'page down', modes: VIEWS },
  { command: 'nav.top', keys: [{ char: 'g' }, { named: 'home' }], label: 'g/Home', help: 'top (pauses follow)', modes: VIEWS },
  { command: 'nav.bottom', keys: [{ char: 'G' }, { named: 'end' }], label: 'G/End', help: 'bottom (resumes follow in the list)', modes: VIEWS, hint: 'newest', hintIn: ['list'] },
  { command: 'list.follow', keys: [{ char: 'f' }], label: 'f', help: 'follow the newest entries', modes: ['list'], hint: 'follow', hintIn: ['list'] },
  { command: 'detail.raw', keys: [{ char: 'y' }], label: 'y', help: 'raw entry JSON on/off', modes: ['detail'], hint: 'raw JSON', hintIn: ['detail'] },
  { command: 'detail.curl', keys: [{ char: 'c' }], label: 'c', help: 'copy the request as curl (OSC 52)', modes: ['detail'], hint: 'curl', hintIn: ['detail'] },
];

function matchesKey(spec: KeySpec, input: string, key: Key): boolean {
  if (spec.ctrl !== undefined) return key.ctrl && input === spec.ctrl;
  if (spec.named !== undefined) return key[spec.named] && !(spec.named === 'tab' && key.shift);
  return !key.ctrl && input === spec.char;
}

/** The command a key means in a mode, or undefined (e.g. text typed into the filter bar). */
export function commandFor(mode: KeyMode, input: string, key: Key): Command | undefined {
  for (const binding of KEY_BINDINGS) {
    if (binding.modes.includes(mode) && binding.keys.some((spec) => matchesKey(spec, input, key))) return binding.command;
  }
  return undefined;
}

export function bindingsFor(mode: KeyMode): readonly KeyBinding[] {
  return KEY_BINDINGS.filter((binding) => binding.modes.includes(mode));
}

const NONE: ReadonlySet<Command> = new Set();

/** "label help" pairs for the footer of a mode; `unavailable`: commands the shown item does not offer. */
export function hintsFor(mode: KeyMode, unavailable: ReadonlySet<Command> = NONE): readonly { readonly label: string; readonly help: string }[] {
  return KEY_BINDINGS.filter((binding) => binding.hintIn?.includes(mode) === true && !unavailable.has(binding.command)).map((binding) => ({
    label: binding.label,
    help: binding.hint ?? binding.help,
  }));
}
