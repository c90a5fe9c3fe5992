import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curlCommand, shellQuote } from '../remote-agent/dissect/http1/curl-command.ts';
import { osc52Sequence } from './clipboard.ts';
import { bodyLines, detailLines, rawJsonLines, wrapLines } from './detail-lines.ts';
import { makeEntry } from './test-support.ts';
import { stringifyJson } from '../model/terminal-text.ts';

const texts = (lines: readonly { text: string }[]): string[] => lines.map((line) => line.text);

test('detail: request line, headers, query, pretty JSON body, timing and endpoints', () => {
  const lines = texts(detailLines(makeEntry({ requestHeaders: { Host: 'catalogue', Cookie: 'a=1' } })));
  assert.ok(lines.includes('GET /catalogue?size=5 HTTP/1.1'));
  assert.ok(lines.includes('Headers (2)'));
  assert.ok(lines.includes('  Host: catalogue'));
  assert.ok(lines.includes('Query (1)'));
  assert.ok(lines.includes('  size: 5'));
  assert.ok(lines.includes('HTTP/1.1 200 OK'));
  const body = lines.indexOf('Response body (application/json, 24 B)');
  assert.deepEqual(lines.slice(body + 1, body + 5), ['  {', '    "id": "1",', '    "name": "sock"', '  }']);
  assert.ok(lines.includes('  elapsed   13ms to the response'));
  assert.ok(lines.includes('  client    front-end (ns sock-shop) 10.0.0.1:40000'));
  assert.ok(lines.includes('  server    catalogue (ns sock-shop) 10.0.0.2:80'));
});

test('detail order: timing, endpoints, sizes at the top; request line and headers; response status and headers; then bodies', () => {
  const base = makeEntry({
    method: 'POST',
    url: '/orders',
    requestHeaders: { Host: 'orders', 'Content-Type': 'application/json' },
    requestBody: { text: '{"item":1}', mimeType: 'application/json' },
  });
  const entry = {
    ...base,
    src: { ...base.src, pod: 'front-end-7d9c', service: '' },
    dst: { ...base.dst, name: 'orders', pod: 'orders-5f6b', service: 'orders' },
    requestSize: 1340,
  };
  const lines = texts(detailLines(entry));
  const at = (prefix: string): number => {
    const index = lines.findIndex((text) => text.startsWith(prefix));
    assert.ok(index >= 0, `${prefix} in\n${lines.join('\n')}`);
    return index;
  };
  const order = ['  started   ', '  elapsed   ', '  client    ', '  server    ', '  sizes     ', 'Request', 'POST /orders HTTP/1.1', 'Headers (2)', '  Content-Type: application/json', 'Response', 'HTTP/1.1 200 OK', 'Request body (application/json, 10 B)', '  {', 'Response body (application/json, 24 B)'];
  const positions = order.map(at);
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, `in this order:\n${lines.join('\n')}`);
  assert.deepEqual(lines.slice(0, 5), [
    `  started   ${entry.startTime}`,
    '  elapsed   13ms to the response',
    '  client    front-end (pod front-end-7d9c, ns sock-shop) 10.0.0.1:40000',
    '  server    orders (pod orders-5f6b, ns sock-shop) 10.0.0.2:80',
    '  sizes     request 1.3 KiB (body 10 B), response 2.0 KiB (body 24 B)',
  ]);
  // The response's headers come before any body: the request body waits until both header blocks are shown.
  assert.ok(at('Request body') > lines.lastIndexOf('Headers (2)'));
});

test('detail: endpoints name their pod and service when they differ from the name; IPv6 in brackets; TLS', () => {
  const base = makeEntry();
  const entry = { ...base, tls: true, src: { ip: 'fd00::7', port: 5000, name: '', namespace: '' }, dst: { ...base.dst, name: 'catalogue', pod: 'catalogue-0', service: 'catalogue-svc' } };
  const lines = texts(detailLines(entry));
  assert.equal(lines[2], '  client    [fd00::7]:5000');
  assert.equal(lines[3], '  server    catalogue (pod catalogue-0, service catalogue-svc, ns sock-shop) 10.0.0.2:80, TLS');
});

test('detail: an unanswered request says why, at the top', () => {
  const lines = detailLines(makeEntry({ status: null }));
  assert.deepEqual(lines[1], { text: '  elapsed   - (no response)', tone: 'server-error' });
  assert.equal(lines[4]?.text, '  sizes     request 120 B (body 0 B), response -');
  assert.deepEqual(lines[5], { text: '  error     pair-not-found: no response', tone: 'server-error' });
  assert.ok(lines.some((line) => line.text === '  no response' && line.tone === 'server-error'));
});

test('bodies: binary as a base64 note, truncation marked, invalid JSON as text', () => {
  assert.deepEqual(texts(bodyLines({ text: 'AAEC', mimeType: 'image/png', encoding: 'base64', size: 3 })), [
    'Body (image/png, 3 B)',
    '  [binary body: 3 B, kept as base64; y shows the raw entry]',
  ]);
  const cut = bodyLines({ text: '{"a":', mimeType: 'application/json', truncated: true, size: 90_000 });
  assert.deepEqual(texts(cut), ['Body (application/json, 88 KiB)', '  {"a":', '  … truncated: only the first 5 B are kept']);
  assert.equal(cut[2].tone, 'warning');
});

test('raw JSON lines parse back to the entry', () => {
  const entry = makeEntry();
  assert.deepEqual(JSON.parse(texts(rawJsonLines(entry)).join('\n')), entry);
});

test('wrapping keeps every character and indents continuations', () => {
  const wrapped = texts(wrapLines([{ text: `  key: ${'x'.repeat(30)}`, tone: 'text' }], 20));
  assert.ok(wrapped.every((line) => line.length <= 20));
  assert.equal(wrapped[1].startsWith('    '), true);
  assert.equal(wrapped.map((line, i) => (i === 0 ? line : line.trimStart())).join(''), `  key: ${'x'.repeat(30)}`);
});

test('curl: method, URL from Host, headers, quoted body', () => {
  const entry = makeEntry({ method: 'POST', url: '/orders', requestHeaders: { Host: 'orders', 'Content-Type': 'application/json', 'Content-Length': '9' }, requestBody: { text: `{"n":"O'Brien"}`, mimeType: 'application/json' } });
  assert.equal(curlCommand(entry), `curl 'http://orders/orders' -H 'Content-Type: application/json' --data-binary '{"n":"O'\\''Brien"}'`);
});

test('curl: no Host header falls back to the server address; binary bodies are decoded by the shell', () => {
  const entry = makeEntry({ method: 'PUT', url: '/blob', requestHeaders: {}, requestBody: { text: 'AAEC', mimeType: 'application/octet-stream', encoding: 'base64' } });
  assert.equal(curlCommand(entry), `printf %s 'AAEC' | base64 -d | curl -X PUT 'http://10.0.0.2:80/blob' -H 'Content-Type:' --data-binary @-`);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('OSC 52 carries the text base64-encoded', () => {
  assert.equal(osc52Sequence('curl x'), '\u001b]52;c;Y3VybCB4\u0007');
});

test('detail lines are display-safe: controls escaped, Set-Cookie fields one a line, huge lines and bodies cut', () => {
  const base = makeEntry({
    url: '/p\u009b2J',
    requestHeaders: { Host: 'h', 'X-Big': 'v'.repeat(50_000) },
    responseBody: { text: `a\tb\r\nc\u001b]0;t\u0007\n${'line\n'.repeat(8000)}`, mimeType: 'text/plain' },
  });
  const entry = { ...base, response: { ...base.response!, headers: { 'Set-Cookie': 'a=1; Path=/\nb=2\u0085' } } };
  const lines = texts(detailLines(entry));
  for (const text of lines) assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f]/, stringifyJson(text));
  assert.ok(lines.includes('GET /p\\u009b2J HTTP/1.1'));
  assert.ok(lines.includes('  Set-Cookie: a=1; Path=/') && lines.includes('  Set-Cookie: b=2\\u0085'));
  const big = lines.find((text) => text.startsWith('  X-Big: '))!;
  assert.ok(big.length < 10_100 && big.endsWith('… (40009 more characters not shown)'), big.slice(-60));
  const body = lines.findIndex((text) => text.startsWith('Response body (text/plain, '));
  assert.deepEqual(lines.slice(body + 1, body + 3), ['  a       b', '  c\\u001b]0;t\\u0007']);
  assert.equal(lines.filter((text) => text === '  line').length, 4998);
  assert.ok(lines.includes('  … 3003 more lines not shown'));
});

test('the raw JSON view is display-safe and still parses back to the entry', () => {
  const entry = makeEntry({ url: '/\u009b\u007f\u001b', requestHeaders: { 'X-C1': '\u0085\u009d' } });
  const lines = texts(rawJsonLines(entry));
  for (const text of lines) assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f]/);
  assert.deepEqual(JSON.parse(lines.join('\n')), entry);
});
