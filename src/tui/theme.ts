/** Colours by meaning, in one place (Ink colour names; chalk drops them when colour is off). */
import type { CellStyle } from './graph-canvas.ts';
import type { LineTone } from './detail-lines.ts';
import type { StatusClass } from './entry-row.ts';

export const STATUS_COLORS: Record<StatusClass, string | undefined> = {
  info: 'blue',
  success: 'green',
  redirect: 'cyan',
  'client-error': 'yellow',
  'server-error': 'red',
  none: 'red',
};

export const TONE_COLORS: Record<LineTone, string | undefined> = {
  ...STATUS_COLORS,
  heading: 'cyan',
  section: 'magenta',
  label: 'blue',
  text: undefined,
  muted: 'gray',
  warning: 'yellow',
};

export const CELL_COLORS: Record<CellStyle, string | undefined> = {
  blank: undefined,
  node: 'cyan',
  edge: 'gray',
  label: undefined,
  error: 'red',
  selected: 'yellow',
};

export const ACCENT = 'cyan';
