/**
 * Entries of one protocol out of a mixed list, typed as that protocol's entry: captures hold DNS
 * next to HTTP now, and a test about one protocol looks at its entries only.
 */
import type { Entry } from '../../src/model/entry.ts';

export type ProtocolName = Entry['protocol']['name'];
export type EntryOf<N extends ProtocolName> = Extract<Entry, { readonly protocol: { readonly name: N } }>;

export function entriesOf<N extends ProtocolName>(entries: readonly Entry[], protocol: N): EntryOf<N>[] {
  return entries.filter((e): e is EntryOf<N> => e.protocol.name === protocol);
}
