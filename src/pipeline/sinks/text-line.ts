/** One human-readable line per entry, for `read -o text` (and `demo -o text`). */
import { formatBytes } from '../../model/byte-units.ts';
import type { Endpoint, Entry } from '../../model/entry.ts';
import { sanitizeLine } from '../../model/terminal-text.ts';
import { summarizeEntry } from '../../remote-agent/dissect/descriptors.ts';

function endpointLabel(e: Endpoint): string {
  const host = e.name !== '' ? e.name : e.ip.includes(':') ? `[${e.ip}]` : e.ip;
  return `${host}:${e.port}`;
}

function formatLatency(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(1)}ms`;
}

/**
 * Time, both ends, then the call as its protocol descriptor summarises it (verb, target, outcome
 * or the error, payload size). Every field can come from traffic (or NDJSON input): the line is
 * display-safe and one line.
 */
export function formatEntryLine(entry: Entry): string {
  const time = entry.startTime.slice(11, 23);
  const summary = summarizeEntry(entry);
  const status = summary.outcome !== '' ? summary.outcome : (entry.error?.type ?? '-');
  const size = summary.payloadBytes !== undefined ? formatBytes(summary.payloadBytes) : '';
  const line = [
    time,
    `${endpointLabel(entry.src)} -> ${endpointLabel(entry.dst)}`,
    summary.verb,
    summary.target,
    status,
    formatLatency(entry.elapsedTime),
    size,
  ].join('  ');
  return sanitizeLine(line);
}
