/**
 * Label and field selectors with the grammar of apimachinery's labels.Parse and
 * fields.ParseSelector; parse errors become 400 BadRequest like on a real apiserver.
 */
import { badRequest } from './errors.ts';

export type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

type Token = { kind: 'id'; text: string } | { kind: 'op'; text: string } | { kind: 'end' };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (two === '==' || two === '!=') {
      tokens.push({ kind: 'op', text: two });
      i += 2;
      continue;
    }
    if ('=!(),<>'.includes(c)) {
      tokens.push({ kind: 'op', text: c });
      i += 1;
      continue;
    }
    let j = i;
    while (j < input.length && !/\s/.test(input[j]!) && !'=!(),<>'.includes(input[j]!)) j += 1;
    tokens.push({ kind: 'id', text: input.slice(i, j) });
    i = j;
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): void {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const ok = (slash < 0 || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) && name.length <= 63 && QUALIFIED_NAME.test(name);
  if (!ok) {
    throw badRequest(
      `unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  }
}

function checkValue(key: string, value: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw badRequest(
      `unable to parse requirement: values[0][${key}]: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
  }
}

/** Parses `a=b,c!=d,e,!f,g in (x,y),h notin (z),i>3`; throws a 400 StatusError when it cannot. */
export function parseLabelSelector(input: string): LabelRequirement[] {
  const tokens = tokenize(input);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const fail = (msg: string): never => {
    throw badRequest(`unable to parse requirement: ${msg}`);
  };
  const reqs: LabelRequirement[] = [];
  if (peek().kind === 'end') return reqs;
  for (;;) {
    let t = next();
    if (t.kind === 'op' && t.text === '!') {
      t = next();
      if (t.kind !== 'id') fail(`found '${t.kind === 'op' ? t.text : ''}', expected: identifier after '!'`);
      const key = (t as { text: string }).text;
      checkKey(key);
      reqs.push({ key, op: '!', values: [] });
    } else {
      if (t.kind !== 'id') fail(`found '${t.kind === 'op' ? t.text : ''}', expected: !, identifier, or 'end of string'`);
      const key = (t as { text: string }).text;
      checkKey(key);
      const o = peek();
      if (o.kind === 'end' || (o.kind === 'op' && o.text === ',')) {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (o.kind === 'id' && (o.text === 'in' || o.text === 'notin')) {
        next();
        const open = next();
        if (!(open.kind === 'op' && open.text === '(')) fail(`found '${open.kind === 'end' ? '' : open.text}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.kind === 'id') {
            values.push(v.text);
            next();
          } else {
            values.push('');
          }
          const sep = next();
          if (sep.kind === 'op' && sep.text === ')') break;
          if (!(sep.kind === 'op' && sep.text === ',')) fail(`found '${sep.kind === 'end' ? '' : sep.text}', expected: ',', ')' or identifier`);
        }
        for (const v of values) checkValue(key, v);
        reqs.push({ key, op: o.text, values: [...new Set(values)].sort() });
      } else if (o.kind === 'op' && ['=', '==', '!=', '<', '>'].includes(o.text)) {
        next();
        const v = peek();
        let value = '';
        if (v.kind === 'id') {
          value = v.text;
          next();
        } else if (o.text === '<' || o.text === '>') {
          fail(`found '${v.kind === 'end' ? '' : v.text}', expected: identifier`);
        }
        if (o.text === '<' || o.text === '>') {
          if (!/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
          reqs.push({ key, op: o.text === '<' ? 'lt' : 'gt', values: [value] });
        } else {
          checkValue(key, value);
          reqs.push({ key, op: o.text === '!=' ? '!=' : '=', values: [value] });
        }
      } else {
        fail(`found '${'text' in o ? o.text : ''}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const after = next();
    if (after.kind === 'end') break;
    if (!(after.kind === 'op' && after.text === ',')) fail(`found '${after.text}', expected: ',' or 'end of string'`);
  }
  return reqs;
}

export function matchesLabels(reqs: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const want = Number(r.values[0]);
        return r.op === 'gt' ? n > want : n < want;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on separators not escaped with a backslash; `\,` `\=` `\\` unescape in values. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i += 1;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(input: string): FieldRequirement[] {
  if (input.trim() === '') return [];
  return splitUnescaped(input, ',').map((term) => {
    const m = /^([^=!]*?)(!=|==|=)(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    return { field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: unescapeValue(m[3]!) };
  });
}

/** Checks the fields against the resource's supported ones (400 `field label not supported`) and returns a matcher. */
export function fieldMatcher<T>(
  reqs: readonly FieldRequirement[],
  fields: Record<string, (obj: T) => string>,
): (obj: T) => boolean {
  for (const r of reqs) {
    if (!Object.hasOwn(fields, r.field)) throw badRequest(`field label not supported: ${r.field}`);
  }
  return (obj) =>
    reqs.every((r) => {
      const v = fields[r.field]!(obj);
      return r.op === '=' ? v === r.value : v !== r.value;
    });
}
