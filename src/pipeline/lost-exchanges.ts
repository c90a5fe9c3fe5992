/**
 * Why a pod's traffic is there but not shown: the one line `tap` gives, once per pod, when its
 * agent counts exchanges lost (ProtocolTally.lost), and again in the end-of-tap summary with the
 * final count. What is counted, why, and what to do are the protocol's to say (its descriptor's
 * `lost`): today HTTP/2 streams whose headers could not be decoded because the capture joined the
 * connection after its header compression state was built.
 */
import { countOf } from '../model/count-text.ts';
import type { LostExchanges } from '../model/protocol-descriptor.ts';
import type { ProtocolTallies } from '../model/protocol-tally.ts';
import { lostExchangesOf, protocolLabel } from '../remote-agent/dissect/descriptors.ts';

/** A protocol whose descriptor does not say what its lost tally counts: exchanges, not captured whole. */
function lostOf(protocol: string): LostExchanges {
  const label = protocolLabel(protocol);
  return lostExchangesOf(protocol) ?? { one: `${label} exchange`, many: `${label} exchanges`, why: 'not captured whole', remedy: '', brief: 'not captured whole' };
}

/** "pod shop/web-1: 12 HTTP/2 streams not shown: why; what to do". `key` is "namespace/pod", not yet display-safe. */
export function lostExchangesLine(key: string, protocol: string, lost: number): string {
  const l = lostOf(protocol);
  return `pod ${key}: ${countOf(lost, l.one, l.many)} not shown: ${l.why}${l.remedy === '' ? '' : `; ${l.remedy}`}`;
}

/**
 * "120 HTTP/2 streams not shown (headers unreadable on connections open before the tap: new ones
 * are shown)", the lost exchanges of every protocol in short, for the TUI's empty list; "" when none.
 */
export function lostExchangesBrief(tallies: ProtocolTallies | undefined): string {
  return Object.entries(tallies ?? {})
    .filter(([, t]) => (t.lost ?? 0) > 0)
    .map(([name, t]) => {
      const l = lostOf(name);
      return `${countOf(t.lost!, l.one, l.many)} not shown (${l.brief})`;
    })
    .join('; ');
}
