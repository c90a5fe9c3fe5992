/**
 * RESP values as text for entries: bytes from the wire are hostile, so what is not printable
 * UTF-8 is escaped the way redis-cli quotes it (`\r`, `\n`, `\t`, `\x07`, `\\`), and aggregates
 * are written compactly (`[a, b]`, `{k: v}`) within a character budget.
 */
import { isAggregate, type RespNode, type RespValue } from './resp-value.ts';

const DECODER = new TextDecoder('utf-8', { fatal: false });
/** Printable ASCII up to this many bytes is made with String.fromCharCode (arguments are bounded). */
const ASCII_DIRECT_BYTES = 4096;

/** Bytes as text: printable UTF-8 kept, control bytes, DEL, invalid UTF-8 and C1 controls escaped. */
export function printable(bytes: Uint8Array): string {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x5c) break;
    i++;
  }
  // Printable ASCII (most keys and values): made directly, the decoder is slower on short strings.
  if (i === n) return n <= ASCII_DIRECT_BYTES ? String.fromCharCode.apply(null, bytes as unknown as number[]) : DECODER.decode(bytes);
  return escaped(bytes);
}

/** Bytes with something to escape, redis-cli style. */
function escaped(bytes: Uint8Array): string {
  const text = DECODER.decode(bytes);
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 0xfffd) out += '\\ufffd';
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** The text of a scalar value (strings escaped); aggregates as `render` writes them. */
export function scalarText(v: RespValue): string {
  switch (v.kind) {
    case 'simple':
    case 'error':
    case 'integer':
    case 'double':
    case 'bignum':
      return v.text;
    case 'boolean':
      return v.value ? 'true' : 'false';
    case 'null':
      return '(nil)';
    case 'bulk':
    case 'bulkError':
    case 'verbatim':
      return printable(v.bytes) + (v.truncated ? '…' : '');
    default:
      return render(v, 4096);
  }
}

/**
 * A value as one line of at most about `maxChars` characters: scalars as their text, arrays, sets
 * and pushes as `[a, b]`, maps as `{k: v}`, elements not kept or past the budget as `…`.
 */
export function render(v: RespNode, maxChars: number): string {
  const parts: string[] = [];
  let used = 0;
  const put = (s: string): boolean => {
    if (used >= maxChars) return false;
    const cut = s.length > maxChars - used ? `${s.slice(0, maxChars - used)}…` : s;
    parts.push(cut);
    used += cut.length;
    return used < maxChars;
  };
  const walk = (x: RespValue, depth: number): boolean => {
    if (!isAggregate(x)) return put(scalarText(x));
    const [open, close] = x.kind === 'map' ? ['{', '}'] : x.kind === 'set' ? ['(', ')'] : ['[', ']'];
    if (!put(open)) return false;
    const per = x.kind === 'map' ? 2 : 1;
    const shown = x.items.length;
    for (let i = 0; i < shown; i++) {
      if (i > 0 && !put(x.kind === 'map' && i % 2 === 1 ? ': ' : ', ')) return false;
      if (depth >= 8 ? !put('…') : !walk(x.items[i]!, depth + 1)) return false;
    }
    if (shown < x.length * per && !put(shown > 0 ? ', …' : '…')) return false;
    return put(close);
  };
  walk(v, 0);
  return parts.join('');
}
