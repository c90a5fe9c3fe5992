/**
 * The redaction corpus (test/fixtures/redaction-corpus: 110 exchanges carrying 134 secrets in 11
 * classes, recorded from python3 and curl talking to a real server) read back without root:
 * - `read corpus.pcap -o json` (and -o text): no secret, in any of its forms, anywhere in stdout;
 *   every neighbour in its own entry; every size field as with --no-redact;
 * - `read --no-redact`: every secret is there (the capture really carries them);
 * - the bundled agent reading the same capture (`agent.js capture --pcap`): no secret in its stdout;
 * - NDJSON written with --no-redact and read again: redacted, with a warning; reading redacted
 *   output again changes nothing (idempotent);
 * - `--redact-keys` adds names; a key without letters, or keys with --no-redact, exit 2.
 * The live agent on a real interface: test/e2e/agent-redaction-corpus.test.ts (root).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { NODE, REPO_ROOT } from '../helpers/capture.ts';
import { parseNdjson, runCommand, runShark } from '../helpers/run-cli.ts';
import { requireBuild } from '../helpers/tap.ts';
import { buildCorpus, countByClass, RECORDED_SEED } from '../fixtures/redaction-corpus/corpus.ts';
import { absentSecrets, entryOfCase, findLeaks, leakTable, lostNeighbours, missingEntries, sizeDifferences } from '../fixtures/redaction-corpus/verify.ts';

const skip = requireBuild() ?? false;
const PCAP = join(REPO_ROOT, 'test/fixtures/redaction-corpus/corpus.pcap');
const cases = buildCorpus(RECORDED_SEED);
const secretCount = cases.reduce((n, c) => n + c.secrets.length, 0);

/** Entries of `read -o json` or of agent frames. */
function entriesOf(stdout: string): Entry[] {
  return parseNdjson<Entry & { type?: string; entry?: Entry }>(stdout).flatMap((v) => (v.type === 'entry' && v.entry ? [v.entry] : v.type === undefined ? [v] : []));
}

async function read(args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string; entries: Entry[] }> {
  const res = await runShark(['read', ...args], input === undefined ? {} : { input: Buffer.from(input) });
  assert.equal(res.code, 0, res.stderr);
  return { stdout: res.stdout, stderr: res.stderr, entries: entriesOf(res.stdout) };
}

test('the corpus: at least 60 cases in every class, each with secrets and neighbours', () => {
  const counts = countByClass(cases);
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  assert.deepEqual(Object.entries(counts).filter(([, n]) => n < 5), [], 'classes with fewer than 5 cases');
  assert.deepEqual(cases.filter((c) => c.secrets.length === 0 || c.neighbours.length === 0).map((c) => c.id), []);
  assert.equal(new Set(cases.flatMap((c) => c.secrets)).size, secretCount, 'every secret is unique');
});

test('read redacts by default: no secret in -o json or -o text, neighbours and sizes intact', { skip, timeout: 120_000 }, async (t) => {
  const plain = await read([PCAP, '-o', 'json', '--no-redact', '-q']);
  assert.deepEqual(missingEntries(plain.entries, cases), [], 'cases without an entry (a stale corpus.pcap? see its README)');
  assert.deepEqual(absentSecrets(plain.stdout, cases), [], 'secrets the unredacted output lacks: the capture must carry them all');

  const redacted = await read([PCAP, '-o', 'json']);
  const leaks = findLeaks(redacted.stdout, cases);
  t.diagnostic(`${cases.length} cases, ${secretCount} secrets: ${leakTable(leaks, cases).join('; ')}`);
  assert.deepEqual(leaks.map((l) => `${l.id} ${l.secret} (form ${l.form})`), [], 'secrets in read -o json');
  assert.deepEqual(missingEntries(redacted.entries, cases), []);
  assert.deepEqual(lostNeighbours(redacted.entries, cases), [], 'neighbours redacted away');
  assert.deepEqual(sizeDifferences(redacted.entries, plain.entries, cases), [], 'size fields changed by redaction');
  assert.match(redacted.stderr, /110 entries/);

  const text = await runShark(['read', PCAP, '-o', 'text', '-q']);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.trim().split('\n').length, cases.length);
  assert.deepEqual(findLeaks(text.stdout, cases), [], 'secrets in read -o text');
});

test('spot checks: what stays around the secrets', { skip, timeout: 120_000 }, async () => {
  const { entries } = await read([PCAP, '-o', 'json', '-q']);
  const req = (id: string): Entry['request'] => entryOfCase(entries, id)!.request;
  const res = (id: string): NonNullable<Entry['response']> => entryOfCase(entries, id)!.response!;
  assert.deepEqual(req('c01').cookies, { sid: '[REDACTED]', nbc01x1: '[REDACTED]' }, 'cookie names stay, every value goes');
  assert.equal(req('q04').url, '/c/q04/blob/file.txt?sv=2022-11-02&sp=nbq04x1&se=2030-01-01T00%3A00%3A00Z&sr=b&sig=[REDACTED]');
  assert.equal(req('q08').queryString.code, 'nbq08x2', 'a "code" outside OAuth stays');
  assert.equal(res('f01').headers.Location, 'https://app.corpus.test/cb#access_token=[REDACTED]&token_type=[REDACTED]&expires_in=nbf01x1&state=nbf01x2');
  assert.equal(req('w01').headers['Sec-WebSocket-Protocol'], 'base64url.bearer.authorization.k8s.io.[REDACTED], v4.channel.k8s.io');
  assert.equal(res('w01').status, 101);
  assert.match(req('x05').postData!.text, /<property name="password" value="\[REDACTED\]"\/><property name="url" value="nbx05x1"\/>/);
  assert.match(req('g01').postData!.text, /login\(username: \\"\[REDACTED\]\\", password: \\"\[REDACTED\]\\"\) \{ nbg01x1: viewer/);
  assert.match(req('k02').postData!.text, /-----BEGIN RSA PRIVATE KEY-----\[REDACTED\]-----END RSA PRIVATE KEY-----/);
  assert.match(res('k03').content.text, /-----BEGIN CERTIFICATE-----\nMIIBnbk03x1/, 'a certificate is not a secret');
  assert.equal(res('o15').content.truncated, true, 'cut at --max-body');
});

test('the bundled agent reading the corpus capture sends no secret', { skip, timeout: 120_000 }, async (t) => {
  const agent = join(REPO_ROOT, 'dist/agent/agent.js');
  const res = await runCommand(NODE, [agent, 'capture', '--pcap', PCAP]);
  assert.equal(res.code, 0, res.stderr);
  const entries = entriesOf(res.stdout);
  assert.deepEqual(missingEntries(entries, cases), []);
  assert.deepEqual(findLeaks(res.stdout, cases).map((l) => `${l.id} ${l.secret}`), [], 'secrets in the agent stdout');
  assert.deepEqual(lostNeighbours(entries, cases), []);
  t.diagnostic(`${res.stdout.length} bytes of agent stdout, ${entries.length} entries, 0 of ${secretCount} secrets`);
});

test('NDJSON written with --no-redact is redacted again on reading; redacted output reads back unchanged', { skip, timeout: 120_000 }, async () => {
  const agent = join(REPO_ROOT, 'dist/agent/agent.js');
  const open = await runCommand(NODE, [agent, 'capture', '--no-redact', '--pcap', PCAP]);
  assert.equal(open.code, 0, open.stderr);
  assert.equal(absentSecrets(open.stdout, cases).length, 0);
  const again = await read(['-', '-o', 'json'], open.stdout);
  assert.deepEqual(findLeaks(again.stdout, cases).map((l) => l.id), []);
  assert.match(again.stderr, /standard input: written with redaction off \(--no-redact\), so the file holds secrets as captured; they are redacted in this output/);
  assert.deepEqual(lostNeighbours(again.entries, cases), []);

  const shown = await read(['-', '-o', 'json', '--no-redact'], open.stdout);
  assert.equal(absentSecrets(shown.stdout, cases).length, 0, '--no-redact shows them');
  assert.match(shown.stderr, /captured by an agent with redaction off/);

  const once = await read([PCAP, '-o', 'json', '-q']);
  const twice = await read(['-', '-o', 'json', '-q'], once.stdout);
  assert.equal(twice.stdout, once.stdout, 'redaction is idempotent');
});

test('--redact-keys adds names; bad keys and keys with --no-redact exit 2', { skip, timeout: 120_000 }, async () => {
  const { entries } = await read([PCAP, '-o', 'json', '-q', '--redact-keys', 'view,x-page', '--redact-keys', 'lang']);
  assert.equal(entryOfCase(entries, 'q02')!.request.queryString.view, '[REDACTED]');
  assert.equal(entryOfCase(entries, 'c02')!.request.headers['X-Page'], '[REDACTED]');
  assert.equal(entryOfCase(entries, 'q16')!.request.queryString.lang, '[REDACTED]');
  for (const [args, message] of [
    [['--redact-keys=pin,-_'], /--redact-keys: "-_" has no letter or digit/],
    [['--no-redact', '--redact-keys', 'tenant'], /--redact-keys has no effect with --no-redact/],
  ] as const) {
    const res = await runShark(['read', PCAP, ...args]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, message);
  }
});
