/**
 * Draws a laid-out service graph on a character grid with box-drawing characters (pure), and cuts
 * a window out of it for the terminal. Lines are kept as direction bits per cell so that crossing
 * and branching edges join into ├ ┬ ┼ instead of overwriting each other.
 */
import { isFailing } from '../pipeline/service-graph.ts';
import type { GraphLayout, Point } from './graph-layout.ts';

export type CellStyle = 'blank' | 'node' | 'edge' | 'label' | 'error' | 'selected';

export interface Segment {
  readonly text: string;
  readonly style: CellStyle;
}

/** What is highlighted: a node id or an edge index (into ServiceGraph.edges). */
export type MapSelection = { readonly kind: 'node'; readonly id: string } | { readonly kind: 'edge'; readonly index: number } | undefined;

const UP = 1;
const RIGHT = 2;
const DOWN = 4;
const LEFT = 8;
const LINE_CHARS = ' │─└││┌├─┘─┴┐┤┬┼';

interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly masks: Uint8Array;
  readonly chars: (string | undefined)[];
  readonly styles: CellStyle[];
}

function link(canvas: Canvas, a: Point, b: Point, style: CellStyle): void {
  const inside = (p: Point): boolean => p.x >= 0 && p.y >= 0 && p.x < canvas.width && p.y < canvas.height;
  const mark = (p: Point, bit: number): void => {
    if (!inside(p)) return;
    const at = p.y * canvas.width + p.x;
    canvas.masks[at] |= bit;
    if (canvas.styles[at] !== 'selected' && canvas.styles[at] !== 'error') canvas.styles[at] = style;
  };
  if (a.y === b.y) {
    const [from, to] = a.x <= b.x ? [a, b] : [b, a];
    for (let x = from.x; x < to.x; x += 1) {
      mark({ x, y: a.y }, RIGHT);
      mark({ x: x + 1, y: a.y }, LEFT);
    }
  } else {
    const [from, to] = a.y <= b.y ? [a, b] : [b, a];
    for (let y = from.y; y < to.y; y += 1) {
      mark({ x: a.x, y }, DOWN);
      mark({ x: a.x, y: y + 1 }, UP);
    }
  }
}

/** Orthogonal route through the points: the bend sits beside the caller on the first leg (a shared
 *  trunk for fan-out), beside the callee on the last leg, and half-way on the legs between. */
function route(canvas: Canvas, points: readonly Point[], style: CellStyle): void {
  for (let i = 0; i + 1 < points.length; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    if (a.y === b.y || a.x === b.x) {
      link(canvas, a, b, style);
      continue;
    }
    const sign = b.x >= a.x ? 1 : -1;
    const bendX = i === 0 ? a.x + sign : i + 2 === points.length ? b.x - sign : Math.round((a.x + b.x) / 2);
    link(canvas, a, { x: bendX, y: a.y }, style);
    link(canvas, { x: bendX, y: a.y }, { x: bendX, y: b.y }, style);
    link(canvas, { x: bendX, y: b.y }, b, style);
  }
}

function put(canvas: Canvas, x: number, y: number, text: string, style: CellStyle): void {
  for (let i = 0; i < text.length; i += 1) {
    if (x + i < 0 || x + i >= canvas.width || y < 0 || y >= canvas.height) continue;
    canvas.chars[y * canvas.width + x + i] = text[i];
    canvas.styles[y * canvas.width + x + i] = style;
  }
}

export function drawGraph(layout: GraphLayout, selection: MapSelection): Segment[][] {
  const width = Math.max(1, layout.width);
  const height = Math.max(1, layout.height);
  const canvas: Canvas = { width, height, masks: new Uint8Array(width * height), chars: new Array(width * height), styles: new Array(width * height).fill('blank') };
  for (const path of layout.edges) {
    const isSelected = selection?.kind === 'edge' && selection.index === path.index;
    const style: CellStyle = isSelected ? 'selected' : isFailing(path.edge) ? 'error' : 'edge';
    route(canvas, path.points, style);
    const end = path.points[path.points.length - 1];
    const before = path.points[path.points.length - 2];
    put(canvas, end.x, end.y, before !== undefined && before.x > end.x ? '◀' : '▶', style);
  }
  for (const path of layout.edges) {
    const isSelected = selection?.kind === 'edge' && selection.index === path.index;
    put(canvas, path.labelAt.x, path.labelAt.y, path.label, isSelected ? 'selected' : isFailing(path.edge) ? 'error' : 'label');
  }
  for (const box of layout.nodes) {
    const style: CellStyle = selection?.kind === 'node' && selection.id === box.id ? 'selected' : 'node';
    const inner = box.width - 2;
    put(canvas, box.left, box.top, `┌${'─'.repeat(inner)}┐`, style);
    put(canvas, box.left, box.top + 1, `│${` ${box.label} `.padEnd(inner)}│`, style);
    put(canvas, box.left, box.top + 2, `└${'─'.repeat(inner)}┘`, style);
  }
  const rows: Segment[][] = [];
  for (let y = 0; y < height; y += 1) {
    const row: Segment[] = [];
    for (let x = 0; x < width; x += 1) {
      const at = y * width + x;
      const char = canvas.chars[at] ?? LINE_CHARS[canvas.masks[at]];
      const style = canvas.styles[at];
      const last = row[row.length - 1];
      if (last !== undefined && last.style === style) row[row.length - 1] = { text: last.text + char, style };
      else row.push({ text: char, style });
    }
    rows.push(row);
  }
  return rows;
}

/** The part of drawn rows inside a window: rows [top, top + height), columns [left, left + width). */
export function cropRows(rows: readonly (readonly Segment[])[], top: number, left: number, width: number, height: number): Segment[][] {
  return rows.slice(top, top + height).map((row) => {
    const out: Segment[] = [];
    let x = 0;
    for (const segment of row) {
      const start = Math.max(left, x);
      const end = Math.min(left + width, x + segment.text.length);
      if (end > start) out.push({ text: segment.text.slice(start - x, end - x), style: segment.style });
      x += segment.text.length;
    }
    return out;
  });
}

/** Smallest scroll offset (from 0) that shows [start, start + size) in a window of `view` cells. */
export function scrollToShow(start: number, size: number, view: number, total: number): number {
  const maxOffset = Math.max(0, total - view);
  const wanted = start + size > view ? Math.min(start, start + size - view) : 0;
  return Math.max(0, Math.min(maxOffset, wanted));
}
