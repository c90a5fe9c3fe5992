import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHead, type HeaderField, type HeadResult } from './head.ts';

function parse(text: string, previous?: readonly HeaderField[]): HeadResult {
  return parseHead(text, text.length, previous);
}

function fieldsOf(text: string, previous?: readonly HeaderField[]): readonly HeaderField[] {
  const r = parse(text, previous);
  assert.ok(r.ok);
  return r.head.fields;
}

/** The request line as `split(' ')` and `join(' ')` read it (the parser before issue 17). */
function splitRequestLine(line: string): { method: string; target: string; version: string } {
  const parts = line.split(' ');
  return {
    method: parts[0]!,
    version: parts.length >= 3 ? parts[parts.length - 1]! : '',
    target: parts.length >= 3 ? parts.slice(1, -1).join(' ') : (parts[1] ?? ''),
  };
}

test('request lines: method, target and version as a split at spaces and a join of the middle read them', () => {
  for (const line of ['GET / HTTP/1.1', 'GET', 'GET /', 'GET /a b HTTP/1.1', 'OPTIONS HTTP/1.1', 'GET  / HTTP/1.1', 'GET / HTTP/1.1 ', 'M a b c d']) {
    const r = parse(`${line}\r\nHost: x\r\n\r\n`);
    assert.ok(r.ok, line);
    const { method, target, version } = r.head;
    assert.deepEqual({ method, target, version }, splitRequestLine(line), line);
  }
  assert.deepEqual(parse(' GET / HTTP/1.1\r\n\r\n'), { ok: false, reason: 'bad request line' });
});

test('field values are trimmed as String#trim trims them (tabs, NBSP from latin1 0xA0, vertical tab)', () => {
  const text = 'GET / HTTP/1.1\r\nA:  x \t\r\nB:\t\u00a0y\u00a0\r\nC:\r\nD: \u000bz w\u000c\r\n\r\n';
  assert.deepEqual(
    fieldsOf(text).map((f) => [f.name, f.value]),
    [['A', 'x'], ['B', 'y'], ['C', ''], ['D', 'z w']],
  );
});

test('the fields of the message before: the same result, and a field written the same way is the same object', () => {
  const first = fieldsOf('GET /a HTTP/1.1\r\nHost: shop\r\nUser-Agent: curl/8\r\nX-Request-Id: 1\r\nAccept: */*\r\n\r\n');
  const text = 'GET /b HTTP/1.1\r\nHost: shop\r\nUser-Agent: curl/8\r\nX-Request-Id: 2\r\nAccept: */*\r\n\r\n';
  const second = fieldsOf(text, first);
  assert.deepEqual(second, fieldsOf(text));
  assert.equal(second[0], first[0], 'Host: the same name and value');
  assert.equal(second[1], first[1]);
  assert.notEqual(second[2], first[2], 'another value');
  assert.equal(second[2]!.name, first[2]!.name);
  assert.equal(second[2]!.key, first[2]!.key);
  assert.equal(second[3], first[3]);
});

test('the fields of the message before never change what is read: names, case, spacing, order and folds that differ', () => {
  // A fixed xorshift: the same heads every run.
  let seed = 7;
  const random = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const names = ['Host', 'host', 'HOST', 'Accept', 'Content-Type', 'X-Id', 'Set-Cookie', ' Host', 'Host ', 'A'];
  const values = ['', 'x', ' x', 'x ', '\tx\t', 'application/json', 'a b', '\u00a0v', 'shop'];
  const head = (): string => {
    const lines = ['GET / HTTP/1.1'];
    const count = random(6);
    for (let i = 0; i < count; i++) {
      // Half the time the line the message before had here, as a client repeating itself.
      const name = random(2) === 0 ? names[i % 3]! : names[random(names.length)]!;
      const value = random(2) === 0 ? values[i % 2]! : values[random(values.length)]!;
      lines.push(`${name}:${value}`);
      if (random(8) === 0) lines.push(` folded ${values[random(values.length)]}`);
      if (random(12) === 0) lines.push('no colon here');
    }
    return `${lines.join(random(4) === 0 ? '\n' : '\r\n')}\r\n\r\n`;
  };
  let previous: readonly HeaderField[] = [];
  let shared = 0;
  for (let n = 0; n < 3000; n++) {
    const text = head();
    const alone = parse(text);
    const after = parse(text, previous);
    assert.deepEqual(after, alone, JSON.stringify(text));
    if (after.ok) {
      shared += after.head.fields.filter((f, i) => f === previous[i]).length;
      previous = after.head.fields;
    }
  }
  assert.ok(shared > 100, `fields shared with the message before: ${shared}`);
});
