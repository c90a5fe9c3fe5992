/**
 * Honest silence in `read`: captures of traffic we do not dissect (real TLS recorded by
 * test/fixtures/undissected/record.sh, which also recorded Redis and PostgreSQL, dissected since) say what they hold in the
 * stderr summary, the TUI's empty list and its header; a filter that matches nothing says how many
 * entries it was offered. The TUI runs in a real terminal (tmux, a private socket).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAUNCHER, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/undissected');

const EXPECTED: readonly { readonly file: string; readonly summary: string }[] = [
  { file: 'tls.pcap', summary: '2 connections, 0 entries, 0 unpaired requests, 0 gaps (0 bytes), 0 malformed packets; not dissected: 2 TLS connections' },
];

for (const { file, summary } of EXPECTED) {
  test(`read ${file}: no entries, and the summary says what was not dissected`, async () => {
    const res = await runShark(['read', '-o', 'json', join(FIXTURES, file)]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '', 'no entries');
    assert.ok(res.stderr.trimEnd().endsWith(summary), `summary:\n${res.stderr}`);
  });
}

test('read dns.pcap (recorded with the others): DNS over UDP and TCP are entries now, nothing is left undissected', async () => {
  const res = await runShark(['read', '-o', 'json', join(FIXTURES, 'dns.pcap')]);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { protocol: { name: string; version: string } });
  assert.deepEqual(entries.map((e) => `${e.protocol.name}/${e.protocol.version}`).sort(), ['dns/tcp', 'dns/udp']);
  assert.ok(res.stderr.trimEnd().endsWith('1 connections, 2 entries, 0 unpaired requests, 0 gaps (0 bytes), 0 malformed packets'), `summary:\n${res.stderr}`);
});

test('read postgresql.pcap (recorded with the others): PostgreSQL is dissected now, nothing is left undissected', async () => {
  const res = await runShark(['read', '-o', 'json', join(FIXTURES, 'postgresql.pcap')]);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { id: string; request: { kind: string; query: string }; response: { commandTags: string[]; encryptionAnswer?: string } | null });
  // psql with sslmode=disable, then sslmode=prefer (an SSLRequest the server answers N).
  assert.deepEqual(entries.map((e) => `${e.id} ${e.request.kind} ${e.request.query} ${e.response?.encryptionAnswer ?? e.response?.commandTags.join(',') ?? '-'}`), [
    '0-0 startup  ', '0-1 simple-query select 1 SELECT 1', '0-2 terminate  -',
    '1-0 ssl-request  N', '1-1 startup  ', '1-2 simple-query select 2 SELECT 1', '1-3 terminate  -',
  ]);
  assert.ok(res.stderr.trimEnd().endsWith('2 connections, 7 entries, 0 unpaired requests, 0 gaps (0 bytes), 0 malformed packets'), `summary:\n${res.stderr}`);
});

test('read redis.pcap (recorded with the others): Redis is dissected now, one entry per command, nothing left undissected', async () => {
  const res = await runShark(['read', '-o', 'json', join(FIXTURES, 'redis.pcap')]);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { protocol: { abbr: string }; request: { command: string; key: string }; response: { type: string; value: string } });
  assert.deepEqual(entries.map((e) => `${e.protocol.abbr} ${e.request.command} ${e.request.key} -> ${e.response.type} ${e.response.value}`), [
    'REDIS SET cart:42 -> Simple String OK',
    'REDIS GET cart:42 -> Bulk String {"items":3}',
  ]);
  assert.ok(res.stderr.trimEnd().endsWith('2 connections, 2 entries, 0 unpaired requests, 0 gaps (0 bytes), 0 malformed packets'), `summary:\n${res.stderr}`);
});

test('read h2c.pcap (recorded with the others): HTTP/2 is dissected now, one entry per stream, nothing left undissected', async () => {
  const res = await runShark(['read', '-o', 'json', join(FIXTURES, 'h2c.pcap')]);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { protocol: { abbr: string }; request: { url: string }; response: { status: number } });
  assert.deepEqual(entries.map((e) => `${e.protocol.abbr} ${e.request.url} ${e.response.status}`).sort(), ['HTTP/2 /cart 200', 'HTTP/2 /catalogue 200']);
  assert.ok(res.stderr.trimEnd().endsWith('2 connections, 2 entries, 0 unpaired requests, 0 gaps (0 bytes), 0 malformed packets'), `summary:\n${res.stderr}`);
});

test('read --filter that matches nothing: seen vs matched, so it does not read as an empty capture', async () => {
  const capture = join(sharedPcapsDir(), 'http/espn-browse-multiconn.pcapng');
  const none = await runShark(['read', '-o', 'json', capture, '--filter', 'response.status == 599']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /75 entries, .*; by protocol: HTTP 61 entries, DNS 14 entries; 75 seen, 0 matched the filter\n$/);
  const some = await runShark(['read', '-o', 'json', capture, '--filter', 'request.path.endsWith(".jpg")']);
  const matched = some.stdout.split('\n').filter((l) => l !== '').length;
  assert.ok(matched > 0);
  assert.match(some.stderr, new RegExp(`; 75 seen, ${matched} matched the filter\\n$`));
  // Without a filter, no such part.
  assert.doesNotMatch((await runShark(['read', '-o', 'json', capture])).stderr, /seen/);
});

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SOCKET = `shark-undissected-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

async function screenOf(command: string, columns: number, rows: number, accept: RegExp): Promise<string> {
  const session = `s${Date.now()}`;
  tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), `${command}; sleep 60`);
  const deadline = Date.now() + 20_000;
  let screen = '';
  try {
    while (Date.now() < deadline) {
      screen = tmux('capture-pane', '-p', '-t', session);
      if (accept.test(screen)) return screen;
      await sleep(100);
    }
    assert.fail(`timed out waiting for ${accept}; screen:\n${screen}`);
  } finally {
    spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', session]);
  }
}

test('TUI on a TLS capture: the empty list and the header say "not dissected", not "Waiting for traffic"', { skip: skipFor(hasTmux ? null : 'tmux is not installed (apt-get install -y tmux)') }, async (t) => {
  t.after(() => spawnSync('tmux', ['-L', SOCKET, 'kill-server']));
  const read = `cd ${FIXTURES} && env -u CI TERM=xterm-256color ${LAUNCHER} read`;
  let screen = await screenOf(`${read} tls.pcap`, 120, 30, /No entries/);
  const lines = screen.split('\n');
  assert.match(lines[0]!, /^kubectl-shark tls\.pcap │ targets 1 │ .*not dissected: 2 TLS connections/);
  assert.ok(lines.some((l) => l.trim() === 'No entries; not dissected: 2 TLS connections'), screen);
  assert.doesNotMatch(screen, /Waiting for traffic/);
  // 80x24: the empty list still says it whole.
  screen = await screenOf(`${read} tls.pcap`, 80, 24, /No entries/);
  assert.match(screen, /No entries; not dissected: 2 TLS connections/);
  // A filter that matches nothing in a capture with entries: seen vs matched in the list and header.
  const espn = join(sharedPcapsDir(), 'http/espn-browse-multiconn.pcapng');
  screen = await screenOf(`cd ${REPO_ROOT} && env -u CI ${LAUNCHER} read ${espn} --filter 'response.status == 599'`, 160, 30, /No entry matches/);
  assert.match(screen, /filter: response\.status == 599 \(75 seen, 0 matched\)/);
  assert.match(screen, /No entry matches the filter \(75 seen, 0 matched the filter\)\./);
});
