/** DNS over UDP (RFC 1035 §4.2.1): one message per datagram, queries and responses told by QR. */
import type { EntryError } from '../../../model/entry-envelope.ts';
import type { Direction } from '../../tcp/stream.ts';
import type { DatagramDissector, DatagramFlowHandler, DatagramFlowInfo, DissectContext, FlowCloseReason } from '../dissector.ts';
import { DnsExchanges } from './exchanges.ts';
import { sniffDnsDatagram } from './sniff.ts';

/** DNS, multicast DNS, LLMNR. */
export const DNS_PORTS: readonly number[] = Object.freeze([53, 5353, 5355]);

class DnsFlow implements DatagramFlowHandler {
  readonly #exchanges: DnsExchanges;

  constructor(flow: DatagramFlowInfo, ctx: DissectContext) {
    this.#exchanges = new DnsExchanges(ctx, { idPrefix: `u${flow.index}`, transport: 'udp', a: flow.a, b: flow.b });
  }

  datagram(dir: Direction, payload: Uint8Array, tsUs: number): void {
    this.#exchanges.expire(tsUs);
    this.#exchanges.message(dir, payload, tsUs);
  }

  close(reason: FlowCloseReason, _tsUs: number): void {
    this.#exchanges.close(closeError(reason));
  }

  oldestPendingUs(): number {
    return this.#exchanges.oldestPendingUs();
  }
}

function closeError(reason: FlowCloseReason): EntryError {
  switch (reason) {
    case 'end-of-capture':
      return { type: 'timeout', msg: 'no response before the capture ended' };
    case 'idle':
      return { type: 'timeout', msg: 'no response before the flow went idle' };
    case 'evicted':
      return { type: 'pair-not-found', msg: 'flow forgotten (too many UDP flows) before the response' };
    case 'dropped':
      return { type: 'dissection', msg: 'flow given up before the response' };
  }
}

export const dnsDatagramDissector: DatagramDissector = Object.freeze({
  id: 'dns',
  protocol: 'dns',
  ports: DNS_PORTS,
  sniff: (payload: Uint8Array) => sniffDnsDatagram(payload),
  open: (flow: DatagramFlowInfo, ctx: DissectContext): DatagramFlowHandler => new DnsFlow(flow, ctx),
});
