/**
 * Names of DNS numbers as the entry shows them (IANA "Domain Name System (DNS) Parameters"):
 * record types, classes, opcodes and EDNS option codes. A number without a name reads as the
 * generic form RFC 3597 gives (`TYPE65280`, `CLASS3`).
 */

/** Record types with their mnemonics (RFC 1035, 3596, 2782, 6891, 4034, 8659, 9460, 7553 ...). */
const TYPES: Readonly<Record<number, string>> = Object.freeze({
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL',
  11: 'WKS', 12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB',
  24: 'SIG', 25: 'KEY', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR', 36: 'KX', 37: 'CERT',
  39: 'DNAME', 41: 'OPT', 42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC',
  48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA', 55: 'HIP',
  59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS',
  99: 'SPF', 108: 'EUI48', 109: 'EUI64', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR',
  253: 'MAILB', 254: 'MAILA', 255: 'ANY', 256: 'URI', 257: 'CAA',
});

export const TYPE = Object.freeze({
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41,
  SVCB: 64, HTTPS: 65, SPF: 99, IXFR: 251, AXFR: 252, URI: 256, CAA: 257,
});

const CLASSES: Readonly<Record<number, string>> = Object.freeze({ 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' });

/** Kubeshark's words for opcodes (RFC 1035, 1996, 2136, 8490). */
const OPCODES: Readonly<Record<number, string>> = Object.freeze({
  0: 'Query', 1: 'Inverse Query', 2: 'Status', 4: 'Notify', 5: 'Update', 6: 'DSO',
});

/** EDNS option codes (IANA "DNS EDNS0 Option Codes"). */
const OPTIONS: Readonly<Record<number, string>> = Object.freeze({
  3: 'NSID', 5: 'DAU', 6: 'DHU', 7: 'N3U', 8: 'ECS', 9: 'EXPIRE', 10: 'COOKIE', 11: 'TCP-KEEPALIVE',
  12: 'PADDING', 13: 'CHAIN', 14: 'KEY-TAG', 15: 'EDE', 18: 'REPORT-CHANNEL',
});

/** SVCB/HTTPS parameter keys (RFC 9460 §14.3.2). */
const SVC_PARAMS: Readonly<Record<number, string>> = Object.freeze({
  0: 'mandatory', 1: 'alpn', 2: 'no-default-alpn', 3: 'port', 4: 'ipv4hint', 5: 'ech', 6: 'ipv6hint',
});

export function typeName(n: number): string {
  return TYPES[n] ?? `TYPE${n}`;
}

export function className(n: number): string {
  return CLASSES[n] ?? `CLASS${n}`;
}

/**
 * Classes seen in real questions, by name: the assigned ones, NONE, ANY, and IN with the mDNS
 * unicast-response bit (RFC 6762 §5.4). The strict sniff wants one of these.
 */
const QUESTION_CLASSES: ReadonlySet<string> = new Set([...Object.values(CLASSES), className(0x8001)]);

export function isPlausibleQuestionClass(name: string): boolean {
  return QUESTION_CLASSES.has(name);
}

export function opcodeName(n: number): string {
  return OPCODES[n] ?? `Opcode ${n}`;
}

/** Opcodes in use (3 is unassigned, 7-15 too): what the strict sniff accepts. */
export function isAssignedOpcode(n: number): boolean {
  return OPCODES[n] !== undefined;
}

export function optionName(n: number): string {
  return OPTIONS[n] ?? `OPTION${n}`;
}

export function svcParamName(n: number): string {
  return SVC_PARAMS[n] ?? `key${n}`;
}
