/**
 * Why a pod's traffic is there but not shown: the one line `tap` gives, once per pod, when its
 * agent counts exchanges lost (ProtocolTally.lost), and again in the end-of-tap summary with the
 * final count. Today only HTTP/2 counts them (src/remote-agent/dissect/http2/connection.ts): a
 * stream whose request header block could not be decoded, because HPACK's dynamic table is per
 * connection and the capture did not see it built (the connection was open before the tap, or
 * bytes were lost in the capture), or whose request was not captured at all. Calls on connections
 * the capture sees open are read whole, so the line says what to do: get new connections.
 */
import { countOf } from '../model/count-text.ts';
import type { ProtocolTallies } from '../model/protocol-tally.ts';
import { protocolLabel } from '../remote-agent/dissect/descriptors.ts';

/** "pod shop/web-1: 12 HTTP/2 streams not shown: ...; what to do". `key` is "namespace/pod", not yet display-safe. */
export function lostExchangesLine(key: string, protocol: string, lost: number): string {
  if (protocol === 'http') {
    return (
      `pod ${key}: ${countOf(lost, 'HTTP/2 stream', 'HTTP/2 streams')} not shown: their request headers could not be read ` +
      '(HTTP/2 compresses headers with state kept per connection, so connections that were open before the tap started, ' +
      'or that lost bytes in the capture, cannot be decoded); calls on connections opened from now on are shown: ' +
      'restart the client or wait for it to reconnect'
    );
  }
  const label = protocolLabel(protocol);
  return `pod ${key}: ${countOf(lost, `${label} exchange`, `${label} exchanges`)} not shown: not captured whole`;
}

/**
 * "120 HTTP/2 streams not shown (connections open before the tap: new ones are shown)", the lost
 * exchanges of every protocol in short, for the TUI's empty list; "" when none.
 */
export function lostExchangesBrief(tallies: ProtocolTallies | undefined): string {
  return Object.entries(tallies ?? {})
    .filter(([, t]) => (t.lost ?? 0) > 0)
    .map(([name, t]) =>
      name === 'http'
        ? `${countOf(t.lost!, 'HTTP/2 stream', 'HTTP/2 streams')} not shown (headers unreadable on connections open before the tap: new ones are shown)`
        : `${countOf(t.lost!, `${protocolLabel(name)} exchange`, `${protocolLabel(name)} exchanges`)} not shown (not captured whole)`,
    )
    .join('; ');
}
