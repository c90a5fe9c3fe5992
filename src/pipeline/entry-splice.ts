/**
 * `tap -o json` writes each entry as the agent sent it, but with the id the merger gave it and its
 * endpoints named from the cluster: `stringifyJson(entry)` after TapMerger. Serialising the whole
 * entry again cost a fifth of the CLI's time per entry (issue 17), while all that changes is its
 * head: `{"id":..,"protocol":..,"src":{..},"dst":{..},` in the agent's layout (FrameWriter writes
 * `stringifyJson(entry)`, and an Entry's first four fields are these). So the head is written anew
 * and the rest of the agent's text is kept as it came.
 *
 * When that gives the same bytes: the agent's text of the entry is what JSON.stringify makes of the
 * entry JSON.parse read from it (always so for our agent), and nothing but the id and the two
 * endpoints changed since (the caller's part: entries whose protocol relinks ids, or that a filter
 * redacts, are serialised whole). The head is checked against the entry as parsed, and the rest
 * must not hold the three changed keys again (JSON.parse keeps a repeated key's last value): else
 * null, and the caller serialises the entry.
 *
 * Frames come from pods: text that is not in the agent's layout is never trusted for bytes a
 * terminal acts on. Outside JSON strings only spaces, tabs and CRs may stand (a line holds no LF);
 * inside them no raw control character (JSON.parse rejects them), but DEL, C1 and U+2028/9 may, which
 * stringifyJson escapes: so a result with a tab, a CR, a DEL or any non-ASCII character is not used
 * (null). What may then differ from `stringifyJson(entry)` for an agent that is not ours: spaces
 * between tokens, escapes and number forms the parser reads alike, the order of integer-like keys.
 * The value is the same, and the bytes are as safe.
 */
import type { Entry } from '../model/entry.ts';

const ID_KEY = '{"id":';
const PROTOCOL_KEY = ',"protocol":';
const SRC_KEY = ',"src":';
const DST_KEY = ',"dst":';
/** A key the merger changes, anywhere in the text (global: searched from lastIndex). */
const CHANGED_KEY = /"(?:id|src|dst)":/g;

/** Where the agent's head ends in its text of `entry`, taken before the merger changes the entry. */
export interface AgentHead {
  /** Index of the `,"src":` after the protocol. */
  readonly protocolEnd: number;
  /** Index of the `,` after the dst object: the rest of the text from there is kept. */
  readonly end: number;
  readonly idLength: number;
}

/** The head of `text` if it is the head of `entry` (as parsed from it) in the agent's layout, else null. */
export function agentHead(text: string, entry: Entry): AgentHead | null {
  const id = JSON.stringify(entry.id);
  const protocol = JSON.stringify(entry.protocol);
  const head = `${ID_KEY}${id}${PROTOCOL_KEY}${protocol}${SRC_KEY}${JSON.stringify(entry.src)}${DST_KEY}${JSON.stringify(entry.dst)},`;
  if (!text.startsWith(head)) return null;
  const end = head.length - 1;
  // A second id, src or dst key: the parsed value is the last one, the head's is the first. One
  // regex pass (issue 17): three includes() scans cost ~5 µs on a 1.4 KB entry, the regex ~0.8 µs.
  CHANGED_KEY.lastIndex = end;
  if (CHANGED_KEY.test(text)) return null;
  return { protocolEnd: ID_KEY.length + id.length + PROTOCOL_KEY.length + protocol.length, end, idLength: id.length };
}

/**
 * The JSON text of `entry` now (its id and endpoints changed since `head` was taken), made from the
 * agent's `text`; null when it cannot be proven terminal-safe this cheaply (the caller serialises).
 */
export function splicedEntryJson(text: string, head: AgentHead, entry: Entry): string | null {
  const json = `${ID_KEY}${JSON.stringify(entry.id)}${text.slice(ID_KEY.length + head.idLength, head.protocolEnd)}${SRC_KEY}${JSON.stringify(entry.src)}${DST_KEY}${JSON.stringify(entry.dst)}${text.slice(head.end)}`;
  // ASCII only (a UTF-8 byte count equal to the length), and none of DEL, tab, CR.
  if (json.indexOf('\u007f') !== -1 || json.indexOf('\t') !== -1 || json.indexOf('\r') !== -1) return null;
  return Buffer.byteLength(json, 'utf8') === json.length ? json : null;
}
