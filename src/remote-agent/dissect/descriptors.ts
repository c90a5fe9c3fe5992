/**
 * The registry of protocol descriptors: one line per protocol, read by KFL, the TUI, the pipeline,
 * redaction and the agent's hello frame (STYLE.md §9, "one typed, exhaustive registry"). The map is
 * typed by the Entry union (src/model/entry.ts), so a protocol added to the union without a line
 * here, or a line whose descriptor describes another entry shape, does not compile.
 *
 * Imports only `<protocol>/descriptor.ts` files and src/model (test/architecture/imports.test.ts):
 * whoever reads descriptors does not load a parser.
 *
 * A variant of a protocol that shares its name (gRPC among HTTP's) is composed with it here
 * (ProtocolVariant, src/model/protocol-variants.ts): the protocol's descriptor never imports it.
 *
 * Adding a protocol: its folder (entry.ts, descriptor.ts, the dissector), its entry type in the
 * union, and one line below; docs/entries.md says more.
 */
import type { Entry } from '../../model/entry.ts';
import type { DetailSection, LostExchanges, ProtocolDescriptor, RowSummary } from '../../model/protocol-descriptor.ts';
import { withVariants } from '../../model/protocol-variants.ts';
import { amqpDescriptor } from './amqp/descriptor.ts';
import { dnsDescriptor } from './dns/descriptor.ts';
import { grpcVariant } from './grpc/descriptor.ts';
import { httpDescriptor } from './http1/descriptor.ts';
import { kafkaDescriptor } from './kafka/descriptor.ts';
import { mongodbDescriptor } from './mongodb/descriptor.ts';
import { mysqlDescriptor } from './mysql/descriptor.ts';
import { postgresqlDescriptor } from './postgresql/descriptor.ts';
import { redisDescriptor } from './redis/descriptor.ts';
import { websocketDescriptor } from './websocket/descriptor.ts';

/** `protocol.name` of every entry we dissect: the union's tags. */
export type ProtocolName = Entry['protocol']['name'];

/** Each name to the descriptor of exactly its entries. */
export type DescriptorRegistry = { readonly [N in ProtocolName]: ProtocolDescriptor<Extract<Entry, { protocol: { name: N } }>> };

export const DESCRIPTORS: DescriptorRegistry = Object.freeze({
  // gRPC calls are HTTP/2 entries (Kubeshark's "http"): a variant of HTTP, chosen per entry.
  http: withVariants(httpDescriptor, [grpcVariant]),
  dns: dnsDescriptor,
  websocket: websocketDescriptor,
  redis: redisDescriptor,
  postgresql: postgresqlDescriptor,
  mysql: mysqlDescriptor,
  kafka: kafkaDescriptor,
  amqp: amqpDescriptor,
  mongodb: mongodbDescriptor,
});

/** Every descriptor, in registry order (for building vocabularies and capability lists). */
export const DESCRIPTOR_LIST: readonly ProtocolDescriptor<Entry>[] = Object.freeze(
  Object.values(DESCRIPTORS) as ProtocolDescriptor<Entry>[],
);

const BY_NAME: ReadonlyMap<string, ProtocolDescriptor<Entry>> = new Map(DESCRIPTOR_LIST.map((d) => [d.name, d]));

/**
 * The descriptor of an entry, by its `protocol.name`; undefined for an entry of a protocol we do
 * not dissect (NDJSON input, a hand-made entry), which callers show or count generically.
 */
export function descriptorOf(entry: Entry): ProtocolDescriptor<Entry> | undefined {
  const protocol: unknown = (entry as { readonly protocol?: unknown } | null)?.protocol;
  const name = protocol !== null && typeof protocol === 'object' ? (protocol as { readonly name?: unknown }).name : undefined;
  return typeof name === 'string' ? BY_NAME.get(name) : undefined;
}

/** How a protocol name reads for people: its descriptor's abbreviation (`HTTP`, `DNS`), else the name. */
export function protocolLabel(name: string): string {
  return BY_NAME.get(name)?.abbr ?? name;
}

/** What the lost tally of protocol `name` counts, for people; undefined when its descriptor does not say. */
export function lostExchangesOf(name: string): LostExchanges | undefined {
  return BY_NAME.get(name)?.lost;
}

/**
 * The registered protocols these dissectors emit entries of, in registry order: what an agent
 * running them advertises (its hello frame's `protocols`).
 */
export function dissectedProtocols(dissectors: readonly { readonly protocol: string }[]): readonly ProtocolName[] {
  return DESCRIPTOR_LIST.filter((d) => dissectors.some((x) => x.protocol === d.name)).map((d) => d.name);
}

/** The row of an entry no descriptor describes (or whose fields are not what its descriptor expects). */
const UNDESCRIBED: RowSummary = Object.freeze({ verb: '', target: '', outcome: '', outcomeClass: 'none', isError: false });

/**
 * The list-row summary of any entry. Entries from NDJSON input may be of a protocol we do not
 * dissect, or hold fields of other types than the dissector writes: they get an empty summary
 * rather than stopping the TUI or a sink.
 */
export function summarizeEntry(entry: Entry): RowSummary {
  const descriptor = descriptorOf(entry);
  if (descriptor === undefined) return UNDESCRIBED;
  try {
    return descriptor.summarize(entry);
  } catch {
    return UNDESCRIBED;
  }
}

/** The detail sections of any entry; none for one no descriptor can read (see summarizeEntry). */
export function representEntry(entry: Entry): readonly DetailSection[] {
  const descriptor = descriptorOf(entry);
  if (descriptor === undefined) return [];
  try {
    return descriptor.represent(entry);
  } catch {
    return [];
  }
}
