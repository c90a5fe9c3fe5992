/**
 * Writes a string as a KFL string literal: the inverse of the KFL lexer's decoding of `"..."`.
 * Queries built by the program (the service map's `dst.name == "x"`, a descriptor's row queries)
 * carry names from captured traffic and the cluster, so a quote or backslash in a name must not end
 * the literal or start an escape, and control characters, line separators and lone surrogates are
 * written as `\uXXXX` so the query stays one printable line that decodes back to exactly the name.
 * In src/model because protocol descriptors (which import only src/model) build queries too;
 * src/kfl/literal.ts re-exports it.
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/g;

export function kflString(text: string): string {
  return `"${text.replace(NEEDS_ESCAPE, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
}
