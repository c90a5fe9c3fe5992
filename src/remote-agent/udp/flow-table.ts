/**
 * UDP flows: datagrams between one pair of addresses and ports, in either direction, grouped so a
 * flow is looked at once (its protocol guessed from the first datagram) and counted once. Bounded
 * like TCP reassembly: flows idle past a timeout (capture time) are forgotten, and past the cap
 * the least recently active flow is. A flow forgotten and seen again is a new flow. What a flow
 * holds (its guess, a datagram dissector's handler) is told when it is forgotten: idle, evicted,
 * or at the end of the capture.
 */
import type { UdpDatagram } from '../ip/packet.ts';

export interface UdpFlowLimits {
  /** Flows remembered at once. */
  readonly maxFlows: number;
  /** A flow without datagrams for this long (capture time) is forgotten. */
  readonly idleTimeoutUs: number;
}

/**
 * A DNS client picks a new source port per query, so a busy pod makes a flow per lookup: 16,384
 * flows (a few MiB) over 30 s covers hundreds of lookups a second; past it only `udpFlows`
 * over-counts (an evicted flow seen again is counted again), never `datagrams`.
 */
export const DEFAULT_UDP_FLOW_LIMITS: UdpFlowLimits = Object.freeze({ maxFlows: 16_384, idleTimeoutUs: 30_000_000 });

/** One datagram as its flow sees it. */
export interface FlowDatagram<T> {
  /** What `open` made for the flow's first datagram. */
  readonly flow: T;
  /** True for the flow's first datagram (since it was last forgotten). */
  readonly isNew: boolean;
  /** True when the datagram comes from the side that sent the flow's first datagram. */
  readonly fromOpener: boolean;
}

/** Why a flow was forgotten. */
export type FlowEndReason = 'idle' | 'evicted' | 'end-of-capture';

interface Flow<T> {
  readonly value: T;
  readonly openerKey: string;
  lastUs: number;
}

export class UdpFlowTable<T> {
  readonly #open: (first: UdpDatagram) => T;
  readonly #forget: ((value: T, reason: FlowEndReason, tsUs: number) => void) | undefined;
  readonly #limits: UdpFlowLimits;
  /** In order of last activity, oldest first (a datagram moves its flow to the end). */
  readonly #flows = new Map<string, Flow<T>>();

  /** `forget`: called once per flow when it is forgotten (never for a flow still held). */
  constructor(open: (first: UdpDatagram) => T, limits: Partial<UdpFlowLimits> = {}, forget?: (value: T, reason: FlowEndReason, tsUs: number) => void) {
    this.#open = open;
    this.#forget = forget;
    this.#limits = { ...DEFAULT_UDP_FLOW_LIMITS, ...limits };
  }

  get size(): number {
    return this.#flows.size;
  }

  datagram(d: UdpDatagram): FlowDatagram<T> {
    this.#expire(d.tsUs);
    const from = `${d.srcIp}|${d.srcPort}`;
    const to = `${d.dstIp}|${d.dstPort}`;
    // Either direction gives the same key: the two ends in a fixed order.
    const key = from < to ? `${from}|${to}` : `${to}|${from}`;
    let flow = this.#flows.get(key);
    const isNew = flow === undefined;
    if (flow === undefined) {
      if (this.#flows.size >= this.#limits.maxFlows) {
        const [oldestKey, oldest] = this.#flows.entries().next().value!;
        this.#flows.delete(oldestKey);
        this.#forget?.(oldest.value, 'evicted', d.tsUs);
      }
      flow = { value: this.#open(d), openerKey: from, lastUs: d.tsUs };
    } else {
      this.#flows.delete(key);
      flow.lastUs = Math.max(flow.lastUs, d.tsUs);
    }
    this.#flows.set(key, flow);
    return { flow: flow.value, isNew, fromOpener: flow.openerKey === from };
  }

  /** The values of the flows held, least recently active first. */
  *values(): IterableIterator<T> {
    for (const flow of this.#flows.values()) yield flow.value;
  }

  /** Forgets the flows idle past the timeout at `nowUs` (live capture: time passes without datagrams). */
  expireIdle(nowUs: number): void {
    this.#expire(nowUs);
  }

  /** End of capture: forgets every flow. */
  closeAll(tsUs: number): void {
    const all = [...this.#flows.values()];
    this.#flows.clear();
    for (const flow of all) this.#forget?.(flow.value, 'end-of-capture', tsUs);
  }

  #expire(nowUs: number): void {
    for (const [key, flow] of this.#flows) {
      if (nowUs - flow.lastUs < this.#limits.idleTimeoutUs) return;
      this.#flows.delete(key);
      this.#forget?.(flow.value, 'idle', nowUs);
    }
  }
}
