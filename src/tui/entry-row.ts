/**
 * Pure rendering of one entry as list-row cells, and the column layout for a terminal width.
 * No Ink here: the list component only places these strings.
 */
import type { Endpoint, Entry } from '../model/entry.ts';
import { formatBytes } from '../model/byte-units.ts';
import { sanitizeLine } from '../model/terminal-text.ts';

export type StatusClass = 'info' | 'success' | 'redirect' | 'client-error' | 'server-error' | 'none';

export interface RowCells {
  readonly time: string;
  readonly protocol: string;
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly status: string;
  readonly statusClass: StatusClass;
  readonly latency: string;
  readonly sizes: string;
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

export function statusClassOf(status: number | undefined): StatusClass {
  if (status === undefined || status <= 0) return 'none';
  if (status < 200) return 'info';
  if (status < 300) return 'success';
  if (status < 400) return 'redirect';
  if (status < 500) return 'client-error';
  return 'server-error';
}

export function rowCells(entry: Entry): RowCells {
  const response = entry.response;
  return {
    time: formatClock(entry),
    protocol: entry.protocol.abbr,
    route: `${endpointLabel(entry.src)} -> ${endpointLabel(entry.dst)}`,
    method: entry.request.method,
    path: entry.request.url,
    status: response ? String(response.status) : entry.error ? 'ERR' : '-',
    statusClass: statusClassOf(response?.status),
    latency: response ? formatLatency(entry.elapsedTime) : '-',
    sizes: `${formatBytes(entry.requestSize)}/${response ? formatBytes(entry.responseSize) : '-'}`,
  };
}

export type ColumnName = keyof Omit<RowCells, 'statusClass'>;

export interface Column {
  readonly name: ColumnName;
  readonly title: string;
  readonly width: number;
  readonly align: 'left' | 'right';
}

const FIXED: readonly Column[] = [
  { name: 'time', title: 'TIME (UTC)', width: 12, align: 'left' },
  { name: 'protocol', title: 'PROTO', width: 5, align: 'left' },
  { name: 'route', title: 'SRC -> DST', width: 0, align: 'left' },
  { name: 'method', title: 'METHOD', width: 7, align: 'left' },
  { name: 'path', title: 'PATH', width: 0, align: 'left' },
  { name: 'status', title: 'STAT', width: 4, align: 'right' },
  { name: 'latency', title: 'LATENCY', width: 8, align: 'right' },
  { name: 'sizes', title: 'REQ/RESP', width: 15, align: 'right' },
];

/** Dropped, in this order, when route and path would get fewer than MIN_FLEXIBLE cells together. */
const DROPPABLE: readonly ColumnName[] = ['sizes', 'protocol', 'latency'];
const MIN_FLEXIBLE = 24;

/** Widths for a terminal width: fixed columns keep theirs, route and path share the rest (2 : 3). */
export function layoutColumns(totalWidth: number): readonly Column[] {
  let columns = FIXED;
  const flexibleOf = (set: readonly Column[]): number => totalWidth - set.reduce((sum, column) => sum + column.width, 0) - (set.length - 1);
  for (const name of DROPPABLE) {
    if (flexibleOf(columns) >= MIN_FLEXIBLE) break;
    columns = columns.filter((column) => column.name !== name);
  }
  const flexible = Math.max(10, flexibleOf(columns));
  const route = Math.max(5, Math.floor((flexible * 2) / 5));
  const path = Math.max(5, flexible - route);
  return columns.map((column) => (column.name === 'route' ? { ...column, width: route } : column.name === 'path' ? { ...column, width: path } : column));
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

/** Cuts with an ellipsis or pads to exactly `width` cells. */
export function fitCell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const cut = cutText(text, width);
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}
