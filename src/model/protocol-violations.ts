/**
 * Bad input met by each dissector, by protocol name (CaptureStats.protocolViolations, counted in
 * src/remote-agent/protocol-counters.ts), as summaries say it.
 */
import { countOf } from './count-text.ts';
import { labelOf, type ProtocolCounts } from './undissected.ts';

/** "3 HTTP protocol violations, 1 DNS protocol violation" (largest first, then by id); "" when none. */
export function formatViolations(byProtocol: ProtocolCounts): string {
  return Object.entries(byProtocol)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, n]) => countOf(n, `${labelOf(id)} protocol violation`, `${labelOf(id)} protocol violations`))
    .join(', ');
}
