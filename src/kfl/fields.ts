/**
 * What names mean: protocol words, KFL2 flat variables (aliases into the entry), the entry paths we
 * know, and "did you mean" for near misses. The envelope's names are here; each protocol's words,
 * variables, paths and map rules come from its descriptor (src/remote-agent/dissect/descriptors.ts),
 * merged once at load, duplicates rejected. Names follow Kubeshark's entry JSON and KFL2.
 */
import type { KflProtocolFields, KflVocabulary, KflWord } from '../model/protocol-descriptor.ts';
import { DESCRIPTOR_LIST } from '../remote-agent/dissect/descriptors.ts';
import { DIRECT_READERS } from './direct.ts';
import type { Getter, Obj, Predicate } from './values.ts';
import { isObject, readKey } from './values.ts';

// ---- protocol words -------------------------------------------------------------------------

/** The entry's protocol object, or null. */
function protocolOf(root: unknown): Obj | null {
  const p = isObject(root) ? root.protocol : null;
  return isObject(p) ? p : null;
}

// Literal property names (not p[field]) keep each reader's property access monomorphic.
const byName =
  (name: string): Predicate =>
  (root) =>
    protocolOf(root)?.name === name;
const byAbbr =
  (abbr: string): Predicate =>
  (root) =>
    protocolOf(root)?.abbr === abbr;

/**
 * Words of protocols we do not dissect yet (Kubeshark's and KFL2's): each compares the entry's
 * protocol with the word, false today and right once a descriptor defines the word (which then
 * replaces it). Also the link-level words of KFL2.
 */
const FUTURE_WORDS: ReadonlyArray<readonly [string, Predicate]> = [
  ['ws', byAbbr('WS')],
  ['postgresql', byName('postgresql')],
  ['postgres', byName('postgresql')],
  ...['dns', 'redis', 'kafka', 'amqp', 'mysql', 'mongodb', 'ldap', 'radius', 'diameter', 'tcp', 'udp', 'sctp', 'icmp']
    .map((w): [string, Predicate] => [w, byName(w)]),
  ...['conn', 'flow', 'tcp_conn', 'udp_conn', 'tcp_flow', 'udp_flow'].map((w): [string, Predicate] => [w, byName(w)]),
];

/** Words of the envelope, whatever the protocol. */
const ENVELOPE_WORDS: ReadonlyArray<readonly [string, Predicate]> = [['tls', (root) => isObject(root) && root['tls'] === true]];

// ---- aliases (KFL2 flat variables) ------------------------------------------------------------

export type Alias =
  | { readonly kind: 'path'; readonly path: readonly string[] }
  | { readonly kind: 'computed'; readonly get: Getter };

const path = (dotted: string): Alias => ({ kind: 'path', path: dotted.split('.') });

function endpointField(root: unknown, side: 'src' | 'dst', field: 'name' | 'namespace' | 'pod' | 'service'): unknown {
  const endpoint = readKey(root, side);
  // Entries named from a cluster carry `pod` and `service`; others (capture files) only `name`.
  if ((field === 'pod' || field === 'service') && !(isObject(endpoint) && field in endpoint)) return readKey(endpoint, 'name');
  return readKey(endpoint, field);
}

const endpointAlias = (side: 'src' | 'dst', field: 'pod' | 'service'): Alias => ({
  kind: 'computed',
  get: (root) => endpointField(root, side, field),
});

/** [src.<field>, dst.<field>] without empty or missing ones (KFL2's namespaces, pods, services). */
function bothSides(field: 'name' | 'namespace' | 'pod' | 'service'): Getter {
  return (root) => {
    const out: string[] = [];
    for (const side of ['src', 'dst'] as const) {
      const v = endpointField(root, side, field);
      if (typeof v === 'string' && v !== '') out.push(v);
    }
    return out;
  };
}

/**
 * Per-protocol KFL2 variables for dissectors we do not have yet: known names, always null until a
 * descriptor defines the name (which then replaces it).
 */
const FUTURE_NAMES: readonly string[] = [
  'dns_questions', 'dns_answers', 'dns_question_types', 'dns_request', 'dns_response', 'dns_request_length',
  'dns_response_length', 'dns_total_size', 'dns_resolutions', 'grpc_method', 'grpc_status', 'tls_summary', 'tls_info',
  'tls_request_size', 'tls_response_size', 'tls_total_size', 'tcp_method', 'tcp_payload', 'tcp_error_type',
  'tcp_error_message', 'udp_length', 'udp_checksum', 'udp_payload', 'sctp_checksum', 'sctp_chunk_type', 'sctp_length',
  'icmp_type', 'icmp_version', 'icmp_length', 'ws_opcode', 'ws_request', 'ws_response', 'ws_request_payload_data',
  'ws_request_payload_length', 'ws_response_payload_length', 'redis_type', 'redis_command', 'redis_key',
  'redis_request_size', 'redis_response_size', 'redis_total_size', 'kafka_api_key', 'kafka_api_key_name',
  'kafka_client_id', 'kafka_size', 'kafka_request', 'kafka_response', 'kafka_request_summary', 'kafka_request_size',
  'kafka_response_size', 'amqp_method', 'amqp_summary', 'amqp_request', 'amqp_response', 'amqp_request_length',
  'amqp_response_length', 'amqp_total_size', 'ldap_type', 'ldap_summary', 'ldap_request', 'ldap_response',
  'ldap_request_length', 'ldap_response_length', 'ldap_total_size', 'radius_code', 'radius_code_name', 'radius_request',
  'radius_response', 'radius_request_authenticator', 'radius_request_length', 'radius_response_length',
  'radius_total_size', 'diameter_method', 'diameter_summary', 'diameter_request', 'diameter_response',
  'diameter_request_length', 'diameter_response_length', 'diameter_total_size', 'mongodb_command', 'mongodb_database',
  'mongodb_collection', 'mongodb_opcode', 'mongodb_request_size', 'mongodb_response_size', 'mongodb_total_size',
  'mongodb_success', 'mongodb_error_code', 'mongodb_error_message', 'mongodb_error_code_name', 'mysql_command',
  'mysql_query', 'mysql_database', 'mysql_statement_id', 'mysql_request_size', 'mysql_response_size', 'mysql_total_size',
  'mysql_success', 'mysql_error_code', 'mysql_error_message', 'postgresql_command', 'postgresql_query',
  'postgresql_database', 'postgresql_user', 'postgresql_request_size', 'postgresql_response_size',
  'postgresql_total_size', 'postgresql_success', 'postgresql_error_code', 'postgresql_error_message', 'conn_state',
  'conn_local_pkts', 'conn_local_bytes', 'conn_remote_pkts', 'conn_remote_bytes', 'conn_l7_detected', 'conn_group_id',
  'flow_state', 'flow_local_pkts', 'flow_local_bytes', 'flow_remote_pkts', 'flow_remote_bytes', 'flow_local_pps',
  'flow_local_bps', 'flow_remote_pps', 'flow_remote_bps', 'flow_l7_detected', 'flow_group_id', 'local_labels',
  'local_annotations', 'remote_labels', 'remote_annotations', 'node', 'node_name', 'node_ip', 'node_id',
  'local_node_name', 'remote_node_name', 'local_process_name', 'remote_process_name', 'src.dns', 'dst.dns',
  'local_resolution_status', 'remote_resolution_status', 'capture_backend', 'capture_source_code', 'capture', 'index',
  'stream', 'worker', 'conn_id', 'flow_id', 'has_pcap',
];

const nothing: Getter = () => null;

/** KFL2 variables of the envelope, whatever the protocol. */
const ENVELOPE_ALIASES: ReadonlyArray<readonly [string, Alias]> = [
  ['elapsed_time', { kind: 'computed', get: (root) => {
    const ms = readKey(root, 'elapsedTime');
    return typeof ms === 'number' ? ms * 1000 : null;
  } }],
  ['src.pod.name', endpointAlias('src', 'pod')],
  ['src.pod.namespace', path('src.namespace')],
  ['dst.pod.name', endpointAlias('dst', 'pod')],
  ['dst.pod.namespace', path('dst.namespace')],
  ['src.service.name', endpointAlias('src', 'service')],
  ['src.service.namespace', path('src.namespace')],
  ['dst.service.name', endpointAlias('dst', 'service')],
  ['dst.service.namespace', path('dst.namespace')],
  ['namespaces', { kind: 'computed', get: bothSides('namespace') }],
  ['pods', { kind: 'computed', get: bothSides('pod') }],
  ['services', { kind: 'computed', get: bothSides('service') }],
  // KFL2's tls is `capture_source == "ebpf_tls"`; a pcap does not say how it was captured otherwise.
  ['capture_source', { kind: 'computed', get: (root) => (isObject(root) && root['tls'] === true ? 'ebpf_tls' : 'unspecified') }],
];

/** Longest alias names have three segments (`src.service.namespace`). */
export const MAX_ALIAS_SEGMENTS = 3;

// ---- entry paths ------------------------------------------------------------------------------

/** Envelope paths (src/model/entry-envelope.ts); a protocol's own come from its descriptor. */
const ENVELOPE_PATHS: readonly string[] = [
  'id', 'protocol', 'protocol.name', 'protocol.version', 'protocol.abbr',
  ...['src', 'dst'].flatMap((s) => [s, `${s}.ip`, `${s}.port`, `${s}.name`, `${s}.namespace`, `${s}.pod`, `${s}.service`]),
  'timestamp', 'startTime', 'elapsedTime', 'requestSize', 'responseSize', 'tls', 'request', 'response',
  'error', 'error.type', 'error.msg',
];

/** Everything the descriptors add to KFL, merged with the envelope's names. */
export interface Vocabulary {
  readonly words: ReadonlyMap<string, Predicate>;
  readonly aliases: ReadonlyMap<string, Alias>;
  readonly paths: readonly string[];
  readonly caseInsensitiveMaps: ReadonlySet<string>;
  readonly openMaps: readonly string[];
  readonly readers: ReadonlyMap<string, Getter>;
}

/** A descriptor's word reads only the entry's protocol object, as KflWord promises (a missing field reads undefined). */
function wordPredicate(matches: KflWord['matches']): Predicate {
  return (root) => {
    const p = protocolOf(root);
    return p !== null && matches(p as KflProtocolFields);
  };
}

/**
 * Merges the envelope's names with every protocol's (in registry order). A word or variable
 * defined twice (by two protocols, or by a protocol and the envelope) is an error: one name, one
 * meaning. Names of protocols not yet dissected give way to a descriptor that defines them.
 */
export function mergeVocabulary(protocols: readonly { readonly name: string; readonly kfl: KflVocabulary }[]): Vocabulary {
  const words = new Map<string, Predicate>(ENVELOPE_WORDS);
  const aliases = new Map<string, Alias>(ENVELOPE_ALIASES);
  const owner = new Map<string, string>([...words.keys(), ...aliases.keys()].map((n) => [n, 'the envelope']));
  const claim = (name: string, by: string): void => {
    const before = owner.get(name);
    if (before !== undefined) throw new Error(`KFL name "${name}" is defined by ${before} and by ${by}`);
    owner.set(name, by);
  };
  const paths = [...ENVELOPE_PATHS];
  const caseInsensitiveMaps = new Set<string>();
  const openMaps: string[] = [];
  const readers = new Map<string, Getter>(DIRECT_READERS);
  for (const { name, kfl } of protocols) {
    const by = `protocol "${name}"`;
    for (const { word, matches } of kfl.words) {
      claim(word, by);
      words.set(word, wordPredicate(matches));
    }
    for (const variable of kfl.variables) {
      claim(variable.name, by);
      aliases.set(variable.name, variable.kind === 'path' ? path(variable.path) : { kind: 'computed', get: variable.get });
    }
    paths.push(...(kfl.paths ?? []));
    for (const map of kfl.caseInsensitiveMaps ?? []) caseInsensitiveMaps.add(map);
    openMaps.push(...(kfl.openMaps ?? []));
    // A path two protocols read is read the same way by either reader: the first is kept.
    for (const [dotted, reader] of kfl.readers ?? []) if (!readers.has(dotted)) readers.set(dotted, reader);
  }
  for (const [word, predicate] of FUTURE_WORDS) if (!owner.has(word)) words.set(word, predicate);
  for (const name of FUTURE_NAMES) if (!owner.has(name)) aliases.set(name, { kind: 'computed', get: nothing });
  return { words, aliases, paths: [...new Set(paths)], caseInsensitiveMaps, openMaps: [...caseInsensitiveMaps, ...openMaps], readers };
}

const VOCABULARY = mergeVocabulary(DESCRIPTOR_LIST);

/** Protocol words are booleans (`http`, `dns`, `tls`). */
export const PROTOCOL_WORDS: ReadonlyMap<string, Predicate> = VOCABULARY.words;
export const ALIASES: ReadonlyMap<string, Alias> = VOCABULARY.aliases;
/** Maps whose keys match in any case (HTTP header and cookie maps). */
export const CASE_INSENSITIVE_MAPS: ReadonlySet<string> = VOCABULARY.caseInsensitiveMaps;
/** Hand-written readers of the paths queries use most: the envelope's and the protocols'. */
export const ENTRY_READERS: ReadonlyMap<string, Getter> = VOCABULARY.readers;

/** Maps with arbitrary keys: no "unknown field" warning below them. */
const OPEN_MAPS: readonly string[] = VOCABULARY.openMaps;
const ENTRY_PATHS: readonly string[] = VOCABULARY.paths;

/** Every name a query may use: entry paths, aliases, protocol words (for "did you mean" and docs). */
export const KNOWN_FIELDS: readonly string[] = Object.freeze([...ENTRY_PATHS, ...ALIASES.keys(), ...PROTOCOL_WORDS.keys()]);

const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_FIELDS);

/**
 * For a static dotted path that is not known: the known name it is probably a typo of (edit
 * distance at most 2, ignoring case), or undefined. Paths below a map with arbitrary keys, or
 * below an alias (`node.name`), are never typos: entries may carry fields we do not list.
 */
export function suggestField(dotted: string): string | undefined {
  if (KNOWN_SET.has(dotted)) return undefined;
  for (const open of OPEN_MAPS) if (dotted.startsWith(`${open}.`)) return undefined;
  for (const known of ALIASES.keys()) if (dotted.startsWith(`${known}.`)) return undefined;
  return closest(dotted, KNOWN_FIELDS, 2);
}

/**
 * The candidate nearest to `word` (case-insensitive Levenshtein), if within `max` edits. Of
 * candidates equally near ignoring case, the one nearest as written wins: `request.opcod` is
 * MongoDB's `request.opcode`, not DNS's `request.opCode` (paths are matched with their case).
 */
export function closest(word: string, candidates: Iterable<string>, max: number): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = max + 1;
  let bestCased = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (Math.abs(c.length - w.length) > Math.min(max, bestDistance)) continue;
    const d = editDistance(w, c.toLowerCase(), Math.min(max, bestDistance) + 1);
    if (d > max || d > bestDistance) continue;
    const cased = editDistance(word, c, Number.MAX_SAFE_INTEGER);
    if (d < bestDistance || cased < bestCased) {
      best = c;
      bestDistance = d;
      bestCased = cased;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `limit`) once every path costs at least `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      row.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = row;
  }
  return prev[b.length]!;
}
