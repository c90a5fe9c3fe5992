/**
 * Pure rendering of one entry as list-row cells, and the column layout for a terminal width.
 * No Ink here: the list component only places these strings. What a row says of the call (verb,
 * target, outcome and its colour) comes from the entry's protocol descriptor.
 */
import type { Endpoint, Entry } from '../model/entry.ts';
import { formatBytes } from '../model/byte-units.ts';
import type { OutcomeClass } from '../model/protocol-descriptor.ts';
import { sanitizeLine } from '../model/terminal-text.ts';
import { DESCRIPTOR_LIST, summarizeEntry } from '../remote-agent/dissect/descriptors.ts';

/** How an outcome is coloured: the descriptor's class. */
export type StatusClass = OutcomeClass;

export interface RowCells {
  readonly time: string;
  /** The time without milliseconds, for narrow terminals. */
  readonly clock: string;
  readonly protocol: string;
  /** Both ends, `src -> dst`; in a column it is laid out by routeCell so neither end is lost. */
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly status: string;
  readonly statusClass: StatusClass;
  readonly latency: string;
  readonly sizes: string;
  /** The response size alone, for narrow terminals. */
  readonly responseSize: string;
}

/** Workload name when known, else IP:port (IPv6 in brackets). */
export function endpointLabel(endpoint: Endpoint): string {
  if (endpoint.name !== '') return endpoint.name;
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

/** HH:MM:SS.mmm in UTC, taken from the entry's ISO start time so output is the same everywhere. */
export function formatClock(entry: Entry): string {
  const match = /T(\d\d:\d\d:\d\d\.\d{3})/.exec(entry.startTime);
  return match ? match[1] : new Date(entry.timestamp).toISOString().slice(11, 23);
}

export function formatLatency(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

export function rowCells(entry: Entry): RowCells {
  const answered = entry.response !== null;
  const summary = summarizeEntry(entry);
  const time = formatClock(entry);
  const responseSize = answered ? formatBytes(entry.responseSize) : '-';
  return {
    time,
    clock: time.slice(0, 8),
    protocol: entry.protocol.abbr,
    route: `${endpointLabel(entry.src)}${ROUTE_ARROW}${endpointLabel(entry.dst)}`,
    method: summary.verb,
    path: summary.target,
    status: summary.outcome !== '' ? summary.outcome : entry.error ? 'ERR' : '-',
    statusClass: summary.outcomeClass,
    // A latency needs both sides: a one-sided record (a WebSocket message from the server) has none.
    latency: answered && entry.request !== null ? formatLatency(entry.elapsedTime) : '-',
    sizes: `${formatBytes(entry.requestSize)}/${responseSize}`,
    responseSize,
  };
}

export type ColumnName = keyof Omit<RowCells, 'statusClass'>;

export interface Column {
  readonly name: ColumnName;
  readonly title: string;
  readonly width: number;
  readonly align: 'left' | 'right';
}

const ROUTE_ARROW = ' -> ';

const FULL: readonly Column[] = [
  { name: 'time', title: 'TIME (UTC)', width: 12, align: 'left' },
  { name: 'protocol', title: 'PROTO', width: 5, align: 'left' },
  { name: 'route', title: 'SRC -> DST', width: 0, align: 'left' },
  { name: 'method', title: 'METHOD', width: 7, align: 'left' },
  { name: 'path', title: 'PATH', width: 0, align: 'left' },
  { name: 'status', title: 'STAT', width: 4, align: 'right' },
  { name: 'latency', title: 'LATENCY', width: 8, align: 'right' },
  { name: 'sizes', title: 'REQ/RESP', width: 15, align: 'right' },
];

/**
 * How the row gives way on a narrow terminal, step by step, while route and path together get fewer
 * cells than the step's `below`: the protocol goes first (nearly always HTTP), the sizes narrow to
 * the response's and then go, the time loses its milliseconds; only on the narrowest terminals the
 * latency goes too. What identifies a call (both ends, method, path, status) stays.
 */
type Step = { readonly below: number } & ({ readonly drop: ColumnName } | { readonly replace: ColumnName; readonly with: Column });
const ROOMY = 44;
// Thresholds fall along the list (a step is tried only when the one before it was needed): an
// 80-column terminal keeps the milliseconds, a 60-column one keeps method, path and status whole.
const NARROWING: readonly Step[] = [
  { below: ROOMY, drop: 'protocol' },
  { below: ROOMY, replace: 'sizes', with: { name: 'responseSize', title: 'RESP', width: 8, align: 'right' } },
  { below: ROOMY, drop: 'responseSize' },
  { below: 40, replace: 'time', with: { name: 'clock', title: 'TIME UTC', width: 8, align: 'left' } },
  { below: 34, drop: 'latency' },
];
/** The route column never gets less than this, so two shortened names and the arrow stay readable. */
const MIN_ROUTE = 14;
/** What the route may take even past half of the room: two ordinary service names and the arrow. */
const ROUTE_SHARE_FLOOR = 24;
/** The path keeps at least this much beside a long route. */
const MIN_PATH = 16;

/**
 * Widths for a terminal width: the fixed columns keep theirs, route and path share the rest. The
 * route gets `routeWanted` cells (the longest route on screen, see routeWidthWanted) when the path
 * can spare them, else 2/5 of the rest; the path gets the remainder.
 */
export function layoutColumns(totalWidth: number, routeWanted?: number, statusWanted?: number, protocolWanted?: number): readonly Column[] {
  const flexibleOf = (set: readonly Column[]): number => totalWidth - set.reduce((sum, column) => sum + column.width, 0) - (set.length - 1);
  let columns = FULL;
  // PROTO's five cells hold most abbreviations; `HTTP/2` or a longer one widens the column
  // (up to MAX_PROTOCOL) only while such an entry is on screen.
  if (protocolWanted !== undefined && protocolWanted > PROTO_WIDTH) {
    columns = columns.map((column) => (column.name === 'protocol' ? { ...column, width: Math.min(MAX_PROTOCOL, protocolWanted) } : column));
  }
  if (statusWanted !== undefined) {
    // Past MAX_STATUS the column widens only while route and path keep ROOMY cells together.
    const roomy = Math.max(MAX_STATUS, STAT_WIDTH + flexibleOf(columns) - ROOMY);
    columns = columns.map((column) => (column.name === 'status' ? { ...column, width: statusWidth(statusWanted, roomy) } : column));
  }
  for (const step of NARROWING) {
    if (flexibleOf(columns) >= step.below) break;
    columns = 'drop' in step ? columns.filter((column) => column.name !== step.drop) : columns.map((column) => (column.name === step.replace ? step.with : column));
  }
  const flexible = Math.max(10, flexibleOf(columns));
  // At most half of the room (or ROUTE_SHARE_FLOOR cells on a narrow terminal), so a long route
  // never starves a long path.
  const routeMax = Math.max(MIN_ROUTE, Math.min(flexible - MIN_PATH, Math.max(Math.floor(flexible / 2), ROUTE_SHARE_FLOOR)));
  const wanted = routeWanted ?? Math.floor((flexible * 2) / 5);
  const route = Math.min(flexible - 5, Math.max(MIN_ROUTE, Math.min(routeMax, wanted)));
  const path = flexible - route;
  return columns.map((column) => (column.name === 'route' ? { ...column, width: route } : column.name === 'path' ? { ...column, width: path } : column));
}

/**
 * The status column: STAT's four cells, wider for outcomes like `NXDOMAIN`: up to MAX_STATUS on
 * any terminal, and up to MAX_STATUS_WIDE (gRPC's longest status names, `FAILED_PRECONDITION`,
 * `RESOURCE_EXHAUSTED`) where the terminal has the room (`roomy`); a longer outcome is cut with an
 * ellipsis (the detail pane shows it whole).
 */
const MAX_STATUS = 9;
const STAT_WIDTH = FULL.find((column) => column.name === 'status')!.width;
const PROTO_WIDTH = FULL.find((column) => column.name === 'protocol')!.width;
/**
 * The protocol column is never wider than the longest abbreviation we emit: `HTTP/2` (an HTTP entry's
 * per-entry abbreviation) or a registered descriptor's, whichever is longer, so every dissected
 * protocol's label shows whole while one from NDJSON input cannot widen the column past them.
 */
const MAX_PROTOCOL = Math.max('HTTP/2'.length, ...DESCRIPTOR_LIST.map((descriptor) => descriptor.abbr.length));

/**
 * Cells the protocol abbreviations of these entries need (the widest); only abbreviations that are
 * display-safe as they are and fit MAX_PROTOCOL count: one from NDJSON input may be anything, and
 * is cut as before.
 */
export function protocolWidthWanted(entries: readonly Entry[]): number {
  let widest = 0;
  for (const entry of entries) {
    const abbr = String(entry.protocol.abbr);
    if (abbr.length <= MAX_PROTOCOL && sanitizeLine(abbr) === abbr) widest = Math.max(widest, abbr.length);
  }
  return widest;
}
const MAX_STATUS_WIDE = 19;

function statusWidth(wanted: number, roomy: number): number {
  return Math.max(4, Math.min(MAX_STATUS_WIDE, roomy, wanted));
}

/**
 * Cells the outcomes of these entries need (the widest): an HTTP status needs the column's four,
 * another protocol's outcome (a DNS rcode name, a close code, a gRPC status name) may need more.
 */
export function statusWidthWanted(entries: readonly Entry[]): number {
  let widest = 0;
  for (const entry of entries) widest = Math.max(widest, displayName(rowCells(entry).status).length);
  return widest;
}

/** Cells the routes of these entries need to be shown whole (the widest). */
export function routeWidthWanted(entries: readonly Entry[]): number {
  let widest = 0;
  for (const entry of entries) widest = Math.max(widest, displayName(endpointLabel(entry.src)).length + ROUTE_ARROW.length + displayName(endpointLabel(entry.dst)).length);
  return widest;
}

/**
 * `src -> dst` in exactly `width` cells with both ends visible: when the whole route does not fit,
 * each name is shortened in the middle (`front…end -> cata…gue`), the shorter one kept whole when
 * the longer can give enough. Names are made display-safe before they are measured.
 */
export function routeCell(entry: Entry, width: number): string {
  const src = displayName(endpointLabel(entry.src));
  const dst = displayName(endpointLabel(entry.dst));
  const room = width - ROUTE_ARROW.length;
  if (src.length + dst.length <= room || room < 2) return fitCell(`${src}${ROUTE_ARROW}${dst}`, width);
  const srcWidth = Math.min(src.length, Math.max(Math.ceil(room / 2), room - dst.length));
  return `${middleCut(src, srcWidth)}${ROUTE_ARROW}${middleCut(dst, room - srcWidth)}`.padEnd(width);
}

/** The text of one cell for a column, exactly `column.width` cells wide. */
export function cellText(entry: Entry, cells: RowCells, column: Column): string {
  return column.name === 'route' ? routeCell(entry, column.width) : fitCell(cells[column.name], column.width, column.align);
}

/** Longer names than this (no workload name is) keep only their two ends before sanitising. */
const MAX_NAME = 512;

function displayName(name: string): string {
  if (name.length <= MAX_NAME) return sanitizeLine(name);
  return `${sanitizeLine(name.slice(0, MAX_NAME / 2))}…${sanitizeLine(name.slice(-MAX_NAME / 2))}`;
}

/** `text` in at most `width` cells, its middle replaced by an ellipsis; surrogate pairs kept whole. */
export function middleCut(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return width === 1 ? '…' : '';
  let head = Math.ceil((width - 1) / 2);
  let tail = width - 1 - head;
  if (isHighSurrogate(text.charCodeAt(head - 1))) head -= 1;
  if (tail > 0 && isLowSurrogate(text.charCodeAt(text.length - tail))) tail -= 1;
  return `${text.slice(0, head)}…${tail > 0 ? text.slice(text.length - tail) : ''}`;
}

/**
 * Display text from traffic cut to at most `max` cells with an ellipsis: control characters shown
 * escaped first (src/model/terminal-text.ts), so what is measured is what the terminal gets. Only a
 * prefix is sanitised, so a megabyte-long value costs no more than a short one.
 */
export function cutText(text: string, max: number): string {
  if (max <= 0) return '';
  const clean = sanitizeLine(text.length > max ? text.slice(0, max + 1) : text);
  if (clean.length <= max) return clean;
  if (max === 1) return '…';
  // Never leave half of a surrogate pair before the ellipsis.
  const end = isHighSurrogate(clean.charCodeAt(max - 2)) ? max - 2 : max - 1;
  return `${clean.slice(0, end)}…`;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Cuts with an ellipsis or pads to exactly `width` cells. */
export function fitCell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const cut = cutText(text, width);
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}
