/**
 * What the soak benchmark reads while it runs, as pure functions of the text: a process's RSS
 * from /proc/PID/status, the request id an entry carries (the server's X-Request-Id answer
 * header), and the TUI header's counts from a captured screen.
 */

/** VmRSS of a /proc/PID/status text in KiB; null when absent (a zombie or kernel thread has none). */
export function vmRssKbOf(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m === null ? null : Number(m[1]);
}

/** nginx's $request_id: 32 lowercase hex digits. */
export const REQUEST_ID = /^[0-9a-f]{32}$/;

/**
 * The X-Request-Id response header of one NDJSON entry line, or null (a stats line, an entry
 * without a response, another header value). The line is parsed, not searched: a request header
 * or a body that happens to contain the text must not count.
 */
export function requestIdOfEntryLine(line: string): string | null {
  if (!line.startsWith('{')) return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  const headers = (v as { response?: { headers?: unknown } }).response?.headers;
  if (typeof headers !== 'object' || headers === null) return null;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'x-request-id' && typeof value === 'string' && REQUEST_ID.test(value)) return value;
  }
  return null;
}

const ID_HEADER = '"X-Request-Id":"';

/**
 * requestIdOfEntryLine at the NDJSON's rate (thousands of lines a second, read by the same starved
 * cores as the CLI): the header as the JSON sink writes it (`"X-Request-Id":"<id>"`) found after
 * `"response":` without parsing the line; other lines go through the full parse.
 */
export function fastRequestIdOfEntryLine(line: string): string | null {
  const response = line.indexOf('"response":{');
  const at = response < 0 ? -1 : line.indexOf(ID_HEADER, response);
  if (at >= 0) {
    const id = line.slice(at + ID_HEADER.length, at + ID_HEADER.length + 32);
    if (line.charCodeAt(at + ID_HEADER.length + 32) === 34 /* " */ && REQUEST_ID.test(id)) return id;
  }
  return requestIdOfEntryLine(line);
}

export interface TuiCounts {
  /** Entries in the list now (at most --max-entries). */
  readonly shown: number;
  readonly total: number;
  readonly evicted: number;
  readonly drops: number;
}

/** The header's `entries S/T │ ... drops D (evicted E)` of a captured screen, or null when not on it. */
export function tuiCountsOf(screen: string): TuiCounts | null {
  const entries = /entries (\d+)\/(\d+)/.exec(screen);
  if (entries === null) return null;
  const drops = /drops (\d+)/.exec(screen);
  const evicted = /\(evicted (\d+)\)/.exec(screen);
  return { shown: Number(entries[1]), total: Number(entries[2]), drops: drops === null ? 0 : Number(drops[1]), evicted: evicted === null ? 0 : Number(evicted[1]) };
}
