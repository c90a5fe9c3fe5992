/**
 * `kubectl shark read` on a real capture of hostile traffic (test/fixtures/hostile): text output
 * shows every control character escaped and sends none to the terminal; JSON output keeps the exact
 * data (compared with what the peers sent) while DEL and C1 are written as \u escapes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { stringifyJson } from '../../src/model/terminal-text.ts';
import { CLIENT_NAME, HOSTILE_EXCHANGES, HOSTILE_PCAP, SERVER_NAME } from '../fixtures/hostile/hostile-traffic.ts';
import { runShark } from '../helpers/run-cli.ts';

/**
 * Bytes a terminal acts on, in output meant for one: C0 but LF, DEL, C1 as UTF-8 (C2 80-9F), and
 * U+2028/U+2029 (E2 80 A8/A9), found on the raw bytes, not on a decoded string.
 */
function terminalControls(bytes: Buffer): string[] {
  const found: string[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x0a) || b === 0x7f) found.push(`0x${b.toString(16)} at ${i}`);
    else if (b === 0xc2 && bytes[i + 1]! >= 0x80 && bytes[i + 1]! <= 0x9f) found.push(`U+00${bytes[i + 1]!.toString(16)} at ${i}`);
    else if (b === 0xe2 && bytes[i + 1] === 0x80 && (bytes[i + 2] === 0xa8 || bytes[i + 2] === 0xa9)) found.push(`U+202${bytes[i + 2] === 0xa8 ? 8 : 9} at ${i}`);
  }
  return found;
}

test('read -o text on the hostile capture: every control character shown escaped, none written raw', async () => {
  const res = await runShark(['read', '-o', 'text', HOSTILE_PCAP]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(terminalControls(res.stdoutBytes), []);
  const lines = res.stdout.trimEnd().split('\n');
  assert.equal(lines.length, HOSTILE_EXCHANGES.length);
  // One line each, in the order sent, with what was sent visible.
  const shown = lines.map((line) => line.split('  ').slice(2, 4).join(' '));
  assert.deepEqual(shown, [
    "G'|id|' /shell?cmd=$(id)&x=`id`;ls|sh",
    '--next /-o/tmp/pwned?--output=/etc/passwd',
    'GET /\\u001b]0;path-title\\u0007/\\u001b[2J\\u001b[H',
    'POST /upload?t=%1b%5d0%3bquery-title%07&c1=%C2%9B2J&sh=%27%3Bid%3B%27',
    'GET /first',
    'GET /second\\u009b2J\\u007f',
    'PUT /blob',
    'GET /long',
  ]);
  for (const line of lines) assert.match(line, /client\\u001b\]0;name-title\\u0007:\d+ -> api\\u009b2J\\u001b\]52;c;bmFtZQ==\\u0007:800\d/);
});

test('read -o json on the hostile capture: the exact data, with DEL and C1 escaped too', async () => {
  const res = await runShark(['read', '-o', 'json', HOSTILE_PCAP]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(terminalControls(res.stdoutBytes), [], 'NDJSON written to a terminal carries no raw control');
  assert.match(res.stdout, /\\u009b2J/);
  assert.match(res.stdout, /\\u007f/);
  const entries = res.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Entry);
  assert.equal(entries.length, HOSTILE_EXCHANGES.length);
  entries.forEach((entry, i) => {
    const { what, request, response } = HOSTILE_EXCHANGES[i]!;
    assert.equal(entry.request.method, request.method, what);
    assert.equal(entry.request.url, request.target, what);
    for (const [name, value] of request.headers) assert.equal(entry.request.headers[name], value, `${what}: request header ${stringifyJson(name)}`);
    assert.deepEqual(bodyBytes(entry.request.postData), request.body ?? Buffer.alloc(0), `${what}: request body`);
    assert.equal(entry.response?.status, response.status, what);
    assert.equal(entry.response?.statusText, response.reason, what);
    for (const [name, value] of response.headers) assert.equal(entry.response?.headers[name], value, `${what}: response header ${stringifyJson(name)}`);
    assert.deepEqual(bodyBytes(entry.response?.content ?? null), response.body, `${what}: response body`);
    assert.equal(entry.src.name, CLIENT_NAME);
    assert.equal(entry.dst.name, SERVER_NAME);
  });
  // Percent-decoding in the query map brings controls back: kept exactly in JSON too.
  assert.equal(entries[3]!.request.queryString['t'], '\u001b]0;query-title\u0007');
  assert.equal(entries[3]!.request.queryString['c1'], '\u009b2J');
});

function bodyBytes(body: { text: string; encoding?: string } | null): Buffer {
  if (body === null) return Buffer.alloc(0);
  return Buffer.from(body.text, body.encoding === 'base64' ? 'base64' : 'utf8');
}
