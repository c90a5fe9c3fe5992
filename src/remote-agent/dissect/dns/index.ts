/** DNS over UDP and TCP: the dissectors the registries list (dissect/registry.ts, capture-pipeline.ts). */
export { dnsDatagramDissector, DNS_PORTS } from './udp.ts';
export { dnsStreamDissector } from './tcp.ts';
