/**
 * The DNS entry: one query and its response (RFC 1035 §4), over UDP or TCP. Field names follow
 * Kubeshark's DNS entries (request.opCode, request.questions[i].{name,type,class}, response.code,
 * response.answers[i] with ip/cname/ns/ptr/mx/txts/soa/srv/opt/uri), so Kubeshark users' KFL and jq
 * keep working; what Kubeshark lacks (the id, the header flags, the numeric rcode, CAA, SVCB/HTTPS,
 * raw data of other types) is added under names of its own. docs/entries.md describes the shape.
 *
 * Imports only src/model (the descriptor, KFL and the TUI load it without the parser).
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export interface DnsQuestion {
  /** Presentation form: labels joined by ".", bytes outside printable ASCII as \DDD; the root is ".". */
  name: string;
  /** Mnemonic (`A`, `AAAA`, `ANY`), `TYPE<n>` for a number without one (RFC 3597). */
  type: string;
  /** `IN`, `CH`, `HS`, `NONE`, `ANY`, else `CLASS<n>`. */
  class: string;
}

/** Header flags (RFC 1035 §4.1.1, RFC 4035 §3.2): the same in a query and a response. */
export interface DnsFlags {
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  authenticData: boolean;
  checkingDisabled: boolean;
}

export interface DnsMx {
  preference: number;
  name: string;
}

export interface DnsSoa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface DnsSrv {
  priority: number;
  weight: number;
  port: number;
  name: string;
}

export interface DnsUri {
  priority: number;
  weight: number;
  target: string;
}

export interface DnsCaa {
  flags: number;
  tag: string;
  value: string;
}

/** SVCB and HTTPS (RFC 9460): parameters shown raw, by key name and hex value. */
export interface DnsSvcb {
  priority: number;
  target: string;
  params: { key: string; value: string }[];
}

/** The EDNS(0) pseudo-record (RFC 6891): what its class and TTL fields mean there. */
export interface DnsOpt {
  udpPayloadSize: number;
  extendedRcode: number;
  version: number;
  dnssecOk: boolean;
  /** Options by code (`NSID`, `COOKIE`, `ECS`... or `OPTION<n>`), data in hex. */
  options: { code: number; name: string; data: string }[];
}

/**
 * A resource record: the common fields and the type's data in the field Kubeshark names for it.
 * Exactly one data field is present, or `rdata` for a type without one (and for data that does
 * not parse as its type says).
 */
export interface DnsRecord {
  name: string;
  type: string;
  /** For OPT, `CLASS<udp payload size>` (the field means the size there; see `opt`). */
  class: string;
  /** For OPT, the raw 32 bits (extended rcode, version, flags; see `opt`). */
  ttl: number;
  /** A and AAAA. */
  ip?: string;
  cname?: string;
  ns?: string;
  ptr?: string;
  mx?: DnsMx;
  /** TXT and SPF character-strings, bytes outside printable ASCII as \DDD. */
  txts?: string[];
  soa?: DnsSoa;
  srv?: DnsSrv;
  uri?: DnsUri;
  caa?: DnsCaa;
  svcb?: DnsSvcb;
  opt?: DnsOpt;
  /** Any other type: the data in hex (its first RDATA_HEX_BYTES bytes; `rdLength` is the whole). */
  rdata?: string;
  rdLength?: number;
}

/** The query. */
export interface DnsRequest {
  /** The 16-bit message id (the pairing key with the flow). */
  id: number;
  /** `Query`, `Inverse Query`, `Status`, `Notify`, `Update`, `DSO`, else `Opcode <n>` (Kubeshark's words). */
  opCode: string;
  flags: DnsFlags;
  questions: DnsQuestion[];
  /** Records a query may carry (EDNS OPT, TSIG, UPDATE prerequisites). */
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** The response (for a zone transfer over TCP, every message of it, records in order). */
export interface DnsResponse {
  id: number;
  /**
   * Kubeshark's rcode text (`No Error`, `Non-Existent Domain`, `Server Failure`...), so its
   * `response.code == "No Error"` filters keep working; `rcode` is the number, `rcodeName` the
   * IANA mnemonic (`NOERROR`, `NXDOMAIN`, `SERVFAIL`) that dig and the list row show.
   */
  code: string;
  rcode: number;
  rcodeName: string;
  flags: DnsFlags;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** Messages the response came in: 1, more for a zone transfer (AXFR/IXFR over TCP). */
  messages: number;
}

export type DnsEntry = EntryEnvelope<'dns', DnsRequest, DnsResponse>;

/** Bytes of data kept (as hex) for a record of a type without a parsed form. */
export const RDATA_HEX_BYTES = 1024;

interface RcodeNames {
  readonly mnemonic: string;
  readonly text: string;
}

/** RFC 1035 §4.1.1, RFC 2136, RFC 6891 (IANA "DNS RCODEs"): mnemonic and Kubeshark's text. */
const RCODES: Readonly<Record<number, RcodeNames>> = Object.freeze({
  0: { mnemonic: 'NOERROR', text: 'No Error' },
  1: { mnemonic: 'FORMERR', text: 'Format Error' },
  2: { mnemonic: 'SERVFAIL', text: 'Server Failure' },
  3: { mnemonic: 'NXDOMAIN', text: 'Non-Existent Domain' },
  4: { mnemonic: 'NOTIMP', text: 'Not Implemented' },
  5: { mnemonic: 'REFUSED', text: 'Query Refused' },
  6: { mnemonic: 'YXDOMAIN', text: 'Name Exists when it should not' },
  7: { mnemonic: 'YXRRSET', text: 'RR Set Exists when it should not' },
  8: { mnemonic: 'NXRRSET', text: 'RR Set that should exist does not' },
  9: { mnemonic: 'NOTAUTH', text: 'Server Not Authoritative for zone' },
  10: { mnemonic: 'NOTZONE', text: 'Name not contained in zone' },
  11: { mnemonic: 'DSOTYPENI', text: 'DSO-TYPE Not Implemented' },
  16: { mnemonic: 'BADVERS', text: 'Bad OPT Version' },
  17: { mnemonic: 'BADKEY', text: 'Bad Key' },
  18: { mnemonic: 'BADTIME', text: 'Bad Time' },
  19: { mnemonic: 'BADMODE', text: 'Bad TKEY Mode' },
  20: { mnemonic: 'BADNAME', text: 'Duplicate Key Name' },
  21: { mnemonic: 'BADALG', text: 'Algorithm not supported' },
  22: { mnemonic: 'BADTRUNC', text: 'Bad Truncation' },
  23: { mnemonic: 'BADCOOKIE', text: 'Bad Cookie' },
});

/** The IANA mnemonic of an rcode (`NXDOMAIN`), `RCODE<n>` for one without. */
export function rcodeMnemonic(rcode: number): string {
  return RCODES[rcode]?.mnemonic ?? `RCODE${rcode}`;
}

/** Kubeshark's text for an rcode (`Non-Existent Domain`), `Unknown` for one without (as Kubeshark). */
export function rcodeText(rcode: number): string {
  return RCODES[rcode]?.text ?? 'Unknown';
}
