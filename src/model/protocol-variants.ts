/**
 * One descriptor from a protocol family's and its variants' (ProtocolVariant in
 * protocol-descriptor.ts): what the registry (src/remote-agent/dissect/descriptors.ts) lists under
 * the family's name. Per entry, the first variant that applies gives the row, and every variant that
 * applies adds its detail sections, redaction and held text to the family's; KFL gets the family's
 * vocabulary and every variant's. Protocol-neutral: it names no protocol.
 */
import type { EntryEnvelope } from './entry-envelope.ts';
import type { DetailSection, KflVocabulary, PayloadRedactor, ProtocolDescriptor, ProtocolVariant, RowSummary } from './protocol-descriptor.ts';

export function withVariants<E extends EntryEnvelope>(family: ProtocolDescriptor<E>, variants: readonly ProtocolVariant<NoInfer<E>>[]): ProtocolDescriptor<E> {
  if (variants.length === 0) return family;
  return Object.freeze({
    ...family,
    summarize(entry: E): RowSummary {
      for (const variant of variants) if (variant.summarize !== undefined && variant.appliesTo(entry)) return variant.summarize(entry);
      return family.summarize(entry);
    },
    represent(entry: E): readonly DetailSection[] {
      let sections = family.represent(entry);
      for (const variant of variants) if (variant.represent !== undefined && variant.appliesTo(entry)) sections = variant.represent(entry, sections);
      return sections;
    },
    kfl: mergeVocabularies(family.kfl, variants.map((v) => v.kfl).filter((k): k is KflVocabulary => k !== undefined)),
    // The agent's hot path: no allocation per entry.
    redact(entry: E, redactor: PayloadRedactor): E {
      const out = family.redact(entry, redactor);
      for (const variant of variants) {
        if (variant.redact === undefined) continue;
        let applies = false;
        try {
          applies = variant.appliesTo(out);
        } catch {
          // A hostile getter on the entry: the family's redaction is what can be done.
        }
        if (applies) variant.redact(out, redactor);
      }
      return out;
    },
    ...(family.heldChars !== undefined || variants.some((v) => v.heldChars !== undefined)
      ? {
          heldChars(entry: E): number {
            let chars = family.heldChars?.(entry) ?? 0;
            for (const variant of variants) if (variant.heldChars !== undefined && variant.appliesTo(entry)) chars += variant.heldChars(entry);
            return chars;
          },
        }
      : {}),
  });
}

/**
 * The family's vocabulary and its variants', in that order. A name defined twice is not resolved
 * here: KFL's merge refuses it (src/kfl/fields.ts), naming the family.
 */
function mergeVocabularies(family: KflVocabulary, variants: readonly KflVocabulary[]): KflVocabulary {
  const all = [family, ...variants];
  const readers = new Map<string, (entry: unknown) => unknown>();
  for (const vocabulary of all) for (const [path, reader] of vocabulary.readers ?? []) if (!readers.has(path)) readers.set(path, reader);
  return Object.freeze({
    words: Object.freeze(all.flatMap((v) => v.words)),
    variables: Object.freeze(all.flatMap((v) => v.variables)),
    paths: Object.freeze(all.flatMap((v) => v.paths ?? [])),
    caseInsensitiveMaps: Object.freeze(all.flatMap((v) => v.caseInsensitiveMaps ?? [])),
    openMaps: Object.freeze(all.flatMap((v) => v.openMaps ?? [])),
    readers,
  });
}
