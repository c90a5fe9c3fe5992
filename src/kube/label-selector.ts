/**
 * Checks a `-l` label selector before it is sent, with the grammar the API server parses it with
 * (apimachinery's labels.Parse, as kubectl relies on): comma-separated requirements, each `key`,
 * `!key`, `key=value` (`==`), `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key>3`, `key<3`.
 * Keys are qualified names (optional DNS-subdomain prefix and `/`), values label values; spaces
 * between tokens are allowed. The server would answer a mistake with a 400 whose text is hard to
 * read (and exit 1 after a round trip); this says where and what, and tap exits 2 (usage).
 */

export type SelectorCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

interface Token {
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly column: number;
  readonly kind: 'word' | 'op' | 'end';
}

const OPERATOR_CHARS = '=!(),<>';
const WHITESPACE = /\s/;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (WHITESPACE.test(c)) {
      i++;
      continue;
    }
    const pair = input.slice(i, i + 2);
    if (pair === '==' || pair === '!=') {
      tokens.push({ text: pair, column: i + 1, kind: 'op' });
      i += 2;
    } else if (OPERATOR_CHARS.includes(c)) {
      tokens.push({ text: c, column: i + 1, kind: 'op' });
      i++;
    } else {
      let j = i;
      while (j < input.length && !WHITESPACE.test(input[j]!) && !OPERATOR_CHARS.includes(input[j]!)) j++;
      tokens.push({ text: input.slice(i, j), column: i + 1, kind: 'word' });
      i = j;
    }
  }
  tokens.push({ text: '', column: input.length + 1, kind: 'end' });
  return tokens;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const INTEGER = /^-?\d+$/;

/** Why `key` is not a label key, or null. */
function keyProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix === '' || prefix.length > 253 || !prefix.split('.').every((l) => DNS_LABEL.test(l))) {
      return `the prefix ${JSON.stringify(prefix)} of label key ${JSON.stringify(key)} is not a DNS subdomain (lower case letters, digits, '-' and '.', like example.com)`;
    }
  }
  if (name === '' || name.length > 63 || !NAME.test(name)) {
    return `${JSON.stringify(key)} is not a label key: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (an optional prefix ends with '/')`;
  }
  return null;
}

/** Why `value` is not a label value, or null (the empty value is one). */
function valueProblem(value: string): string | null {
  if (value === '' || (value.length <= 63 && NAME.test(value))) return null;
  return `${JSON.stringify(value)} is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
}

function quoted(t: Token): string {
  return t.kind === 'end' ? 'the end' : `"${t.text}"`;
}

export function checkLabelSelector(input: string): SelectorCheck {
  const tokens = tokenize(input);
  let pos = 0;
  const next = (): Token => tokens[pos++]!;
  const peek = (): Token => tokens[pos]!;
  const fail = (column: number, problem: string): SelectorCheck => ({ ok: false, message: `${problem} (column ${column})` });
  if (peek().kind === 'end') return { ok: true };
  for (;;) {
    let keyToken = next();
    const negated = keyToken.kind === 'op' && keyToken.text === '!';
    if (negated) keyToken = next();
    if (keyToken.kind !== 'word') return fail(keyToken.column, `expected a label key${negated ? " after '!'" : ''}, found ${quoted(keyToken)}`);
    const badKey = keyProblem(keyToken.text);
    if (badKey) return fail(keyToken.column, badKey);
    const op = peek();
    const endsHere = op.kind === 'end' || op.text === ',';
    if (negated && !endsHere) return fail(op.column, `'!${keyToken.text}' takes no operator or value, found ${quoted(op)}`);
    if (!endsHere) {
      next();
      if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        const open = next();
        if (open.text !== '(' || open.kind !== 'op') return fail(open.column, `expected '(' after '${op.text}', found ${quoted(open)}`);
        let values = 0;
        for (;;) {
          const v = peek();
          if (v.kind === 'word') {
            next();
            const bad = valueProblem(v.text);
            if (bad) return fail(v.column, bad);
          }
          const sep = next();
          values++;
          if (sep.kind === 'op' && sep.text === ')') {
            if (values === 1 && v.kind !== 'word') return fail(sep.column, `'${op.text} ()' needs at least one value, like ${keyToken.text} ${op.text} (a,b)`);
            break;
          }
          if (!(sep.kind === 'op' && sep.text === ',')) return fail(sep.column, `expected ',' or ')' in the values of '${keyToken.text} ${op.text}', found ${quoted(sep)}`);
        }
      } else if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
        const v = peek();
        if (v.kind === 'word') {
          next();
          const bad = valueProblem(v.text);
          if (bad) return fail(v.column, bad);
        }
      } else if (op.kind === 'op' && (op.text === '<' || op.text === '>')) {
        const v = next();
        if (v.kind !== 'word' || !INTEGER.test(v.text)) return fail(v.column, `'${keyToken.text} ${op.text}' compares with a whole number, found ${quoted(v)}`);
      } else {
        return fail(op.column, `expected an operator (=, ==, !=, in, notin, <, >) or ',' after label key "${keyToken.text}", found ${quoted(op)}`);
      }
    }
    const after = next();
    if (after.kind === 'end') return { ok: true };
    if (after.text !== ',' || after.kind !== 'op') return fail(after.column, `expected ',' between requirements, found ${quoted(after)}`);
  }
}
