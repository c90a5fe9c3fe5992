/**
 * XML and HTML bodies. In a start tag:
 * - an attribute with a sensitive name has its value replaced (`<session token="x">`);
 * - a tag labelled by a sensitive `name` or `key` attribute, or of `type="password"`, has its
 *   `value` and `content` attributes replaced (`<input type="hidden" name="csrf_token" value="x">`,
 *   `<meta name="csrf-token" content="x">`, `<property name="password" value="x"/>`);
 * - an element with a sensitive name (`<password>`, `<wsse:Password>`) or label
 *   (`<entry key="api.secret">`, `<textarea name="private_key">`) has its whole content replaced,
 *   up to the matching end tag or the end of a cut text (HTML void elements have no content);
 * - a `<script>` element's text goes through the JSON scanner (inline state such as
 *   `{"csrfToken": "x"}`).
 * The `value` and `content` of a tag cut off by the end of the text are replaced whatever its
 * label: the label may have come after them. Comments, CDATA sections, declarations and processing instructions are
 * skipped; text outside tags is kept.
 *
 * A scanner of our own, not an XML or HTML parser: none ships in the agent bundle, and parsers
 * reject or repair exactly the cut (--max-body) and invalid documents that still have to lose
 * their secrets, and re-serialising would change the bytes around them. Linear in the text, never
 * throws.
 */
import { redactJson } from './json-redact.ts';
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';

/** HTML elements that never have content or an end tag. */
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

interface Attribute {
  readonly name: string;
  readonly valueStart: number;
  readonly valueEnd: number;
}

interface StartTag {
  readonly name: string;
  readonly attributes: readonly Attribute[];
  /** Index after ">" (the text length when the tag is cut). */
  readonly end: number;
  readonly selfClosing: boolean;
  readonly cut: boolean;
}

export function redactMarkup(text: string, isSensitive: IsSensitive): string {
  const n = text.length;
  let out = '';
  let last = 0;
  const replace = (start: number, end: number, replacement: string): void => {
    if (text.slice(start, end) === replacement) return;
    out += text.slice(last, start) + replacement;
    last = end;
  };
  let i = 0;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0 || lt + 1 >= n) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 33 /* ! */ || c === 63 /* ? */ || c === 47 /* / */) {
      i = skipMarkup(text, lt);
      continue;
    }
    if (!isNameStart(c)) {
      i = lt + 1;
      continue;
    }
    const tag = readStartTag(text, lt);
    const labelled = isLabelledSensitive(text, tag, isSensitive);
    for (const a of tag.attributes) {
      const hide =
        // A cut tag may have lost its label (`<input value="x" name="csrf_tok` cut): hide its values.
        ((labelled || tag.cut) && isValueAttribute(a.name)) ||
        (!a.name.startsWith('xmlns') && isSensitive(a.name));
      if (hide) replace(a.valueStart, a.valueEnd, REDACTED);
    }
    i = tag.end;
    if (tag.cut || tag.selfClosing) continue;
    if ((labelled || isSensitive(tag.name)) && !VOID_ELEMENTS.has(tag.name.toLowerCase())) {
      const close = closingTag(text, tag.name, tag.end);
      replace(tag.end, close, REDACTED);
      i = close;
    } else if (tag.name.length === 6 && tag.name.toLowerCase() === 'script') {
      const close = scriptEnd(text, tag.end);
      const script = text.slice(tag.end, close);
      const redacted = redactJson(script, isSensitive);
      if (redacted !== script) replace(tag.end, close, redacted);
      i = close;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** A sensitive `name`/`key` label, or an `<input type="password">`. */
function isLabelledSensitive(text: string, tag: StartTag, isSensitive: IsSensitive): boolean {
  for (const a of tag.attributes) {
    if (a.name.length > 4) continue; // only name, key and type matter here
    const lower = a.name.toLowerCase();
    if ((lower === 'name' || lower === 'key') && isSensitive(text.slice(a.valueStart, a.valueEnd))) return true;
    if (lower === 'type' && text.slice(a.valueStart, a.valueEnd).toLowerCase() === 'password') return true;
  }
  return false;
}

/** `value` or `content`, in any case. */
function isValueAttribute(name: string): boolean {
  const l = name.length;
  if (l !== 5 && l !== 7) return false;
  const lower = name.toLowerCase();
  return lower === 'value' || lower === 'content';
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 128;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

/** After a comment, CDATA section, declaration, processing instruction or end tag at `lt`. */
function skipMarkup(text: string, lt: number): number {
  const close = text.startsWith('<!--', lt) ? '-->' : text.startsWith('<![CDATA[', lt) ? ']]>' : text.startsWith('<?', lt) ? '?>' : '>';
  const at = text.indexOf(close, lt + 2);
  return at < 0 ? text.length : at + close.length;
}

function readStartTag(text: string, lt: number): StartTag {
  const n = text.length;
  let j = lt + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (isSpace(c) || c === 62 /* > */ || c === 47 /* / */) break;
    j++;
  }
  const name = text.slice(lt + 1, j);
  const attributes: Attribute[] = [];
  while (j < n) {
    const c = text.charCodeAt(j);
    if (isSpace(c)) {
      j++;
      continue;
    }
    if (c === 62) return { name, attributes, end: j + 1, selfClosing: false, cut: false };
    if (c === 47 /* / */) {
      if (text.charCodeAt(j + 1) === 62) return { name, attributes, end: j + 2, selfClosing: true, cut: false };
      j++;
      continue;
    }
    const nameStart = j;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (isSpace(d) || d === 61 /* = */ || d === 62 || d === 47) break;
      j++;
    }
    if (j === nameStart) {
      j++; // a stray "=" or quote: not an attribute
      continue;
    }
    const attrName = text.slice(nameStart, j);
    let k = j;
    while (k < n && isSpace(text.charCodeAt(k))) k++;
    if (k >= n || text.charCodeAt(k) !== 61) continue; // no value
    k++;
    while (k < n && isSpace(text.charCodeAt(k))) k++;
    const q = text.charCodeAt(k);
    if (q === 34 /* " */ || q === 39 /* ' */) {
      const close = text.indexOf(q === 34 ? '"' : "'", k + 1);
      const valueEnd = close < 0 ? n : close;
      attributes.push({ name: attrName, valueStart: k + 1, valueEnd });
      j = close < 0 ? n : close + 1;
    } else {
      let e = k;
      while (e < n && !isSpace(text.charCodeAt(e)) && text.charCodeAt(e) !== 62) e++;
      attributes.push({ name: attrName, valueStart: k, valueEnd: e });
      j = e;
    }
  }
  return { name, attributes, end: n, selfClosing: false, cut: true };
}

/**
 * Start of the end tag matching an element named `name` whose content starts at `from` (nested
 * elements of the same name counted, comments and CDATA skipped); the text length when missing.
 */
function closingTag(text: string, name: string, from: number): number {
  const n = text.length;
  const lower = name.toLowerCase();
  let depth = 1;
  let j = from;
  // The first ">" at or after a position; remembered so runs of "<name" without ">" stay linear.
  let nextGt = -1;
  while (j < n) {
    const lt = text.indexOf('<', j);
    if (lt < 0) return n;
    if (text.startsWith('<!--', lt) || text.startsWith('<![CDATA[', lt)) {
      j = skipMarkup(text, lt);
      continue;
    }
    const isEnd = text.charCodeAt(lt + 1) === 47;
    const at = isEnd ? lt + 2 : lt + 1;
    if (text.slice(at, at + lower.length).toLowerCase() === lower && isNameBoundary(text.charCodeAt(at + lower.length), at + lower.length >= n)) {
      if (isEnd) {
        if (--depth === 0) return lt;
      } else {
        if (nextGt < lt) nextGt = text.indexOf('>', lt);
        if (nextGt < 0) return n;
        if (text.charCodeAt(nextGt - 1) !== 47) depth++;
      }
    }
    j = lt + 1;
  }
  return n;
}

function isNameBoundary(c: number, atEnd: boolean): boolean {
  return atEnd || isSpace(c) || c === 62 || c === 47;
}

/** Start of "</script" (any case) after `from`, else the text length. */
function scriptEnd(text: string, from: number): number {
  const re = /<\/script/gi;
  re.lastIndex = from;
  const m = re.exec(text);
  return m === null ? text.length : m.index;
}
