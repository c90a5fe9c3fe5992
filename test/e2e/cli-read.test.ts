/**
 * `kubectl shark read` through the real launcher: output format, ordering, summary, exit codes and
 * the bad-input cases the brief names (not a capture, unknown link type, truncated file, malformed
 * packet, bad flag, missing file, standard input) and inputs that are not regular files (a
 * directory, /dev/null, a FIFO, a file the user may not read).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { LAUNCHER, parseNdjson, runCommand, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { missingCommand, missingRoot, skipFor } from '../helpers/requirements.ts';

const pcaps = sharedPcapsDir();
const work = mkdtempSync(join(tmpdir(), 'shark-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function pcapHeader(linkType: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

function pcapRecord(tsSec: number, data: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(tsSec, 0);
  h.writeUInt32LE(data.length, 8);
  h.writeUInt32LE(data.length, 12);
  return Buffer.concat([h, data]);
}

test('json is the default when stdout is not a terminal; entries are ordered by timestamp; summary on stderr', async () => {
  const res = await runShark(['read', join(pcaps!, 'http/dvwa-login-keepalive-post.pcapng')]);
  assert.equal(res.code, 0, res.stderr);
  const entries = parseNdjson<HttpEntry>(res.stdout);
  assert.equal(entries.length, 8);
  for (let i = 1; i < entries.length; i++) {
    assert.ok(entries[i - 1]!.startTime <= entries[i]!.startTime, 'ordered by request start');
  }
  const login = entries.find((e) => e.request.method === 'POST');
  assert.equal(login?.request.path, '/dvwa/login.php');
  assert.equal(login?.response?.status, 302);
  assert.equal(typeof login?.src.port, 'number');
  assert.match(res.stderr, /54 packets, 29742 bytes, 2 connections, 8 entries, 0 unpaired requests, 0 gaps \(0 bytes\), 0 malformed packets/);
});

test('-o text prints one line per entry', async () => {
  const res = await runShark(['read', '-o', 'text', join(pcaps!, 'http/get-gzip-json.pcap')]);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, / GET .* 200 .* [0-9.]+ (B|KiB)$/, 'the response size in the one size style (formatBytes)');
});

test('"-" reads standard input', async () => {
  const input = readFileSync(join(pcaps!, 'http/pipelined-requests.pcap'));
  const res = await runShark(['read', '-', '-o', 'json'], { input });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(parseNdjson<HttpEntry>(res.stdout).length, 5);
});

test('a file that is not a capture: exit 2 and a message naming the file', async () => {
  const file = join(work, 'notes.txt');
  writeFileSync(file, 'these are not packets\n'.repeat(10));
  const res = await runShark(['read', file]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /notes\.txt/);
  assert.match(res.stderr, /not a (pcap|capture)/i);
  assert.equal(res.stdout, '');
});

test('an unknown link type: exit 2 and the type is named', async () => {
  const file = join(work, 'usb.pcap');
  writeFileSync(file, Buffer.concat([pcapHeader(189), pcapRecord(1, Buffer.alloc(64))]));
  const res = await runShark(['read', file]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /189/);
});

test('a truncated capture yields the entries before the cut, a warning and exit 0', async () => {
  const whole = readFileSync(join(pcaps!, 'http/pipelined-requests.pcap'));
  const full = parseNdjson<HttpEntry>((await runShark(['read', '-', '-o', 'json'], { input: whole })).stdout);
  // Cut in the middle of the last record.
  const file = join(work, 'cut.pcap');
  writeFileSync(file, whole.subarray(0, whole.length - 50));
  const res = await runShark(['read', file, '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /warning: .*cut\.pcap.*ends inside a record/);
  const entries = parseNdjson<HttpEntry>(res.stdout);
  assert.ok(entries.length >= full.length - 1 && entries.length > 0, `${entries.length} of ${full.length} entries survive the cut`);
});

test('a malformed packet is counted and skipped; the rest of the capture goes on', async () => {
  const file = join(work, 'malformed.pcap');
  const eth = (payload: Buffer): Buffer => Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), payload]);
  // An IPv4 header claiming IHL 15 (60 bytes) in a 10-byte packet, between two good ARP-free frames.
  const bad = eth(Buffer.from([0x4f, 0, 0, 10, 0, 0, 0, 0, 64, 6]));
  writeFileSync(file, Buffer.concat([pcapHeader(1), pcapRecord(1, bad), pcapRecord(2, bad)]));
  const res = await runShark(['read', file, '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /2 packets, .* 2 malformed packets/);
});

test('a bad flag exits 2 with usage help', async () => {
  const res = await runShark(['read', 'x.pcap', '--bogus-flag']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /bogus-flag/);
});

test('a --filter query starting with "-" is a query in every form; a -f without one is a usage error', async () => {
  const capture = join(REPO_ROOT, 'assets/demo/microservices.pcapng');
  // The query reads an HTTP field: it matches every HTTP entry (the demo's Redis and PostgreSQL ones have no status).
  const all = parseNdjson<Entry>((await runShark(['read', capture, '-o', 'json', '-q'])).stdout).filter(isHttpEntry);
  assert.ok(all.length > 0);
  const forms = [
    ['--filter', '-1 < response.status'],
    ['-f', '-1 < response.status'],
    ['--filter=-1 < response.status'],
    ['-f=-1 < response.status'],
  ];
  for (const form of forms) {
    const res = await runShark(['read', capture, '-o', 'json', ...form]);
    assert.equal(res.code, 0, `${JSON.stringify(form)}: ${res.stderr}`);
    assert.equal(parseNdjson<HttpEntry>(res.stdout).length, all.length, JSON.stringify(form));
    assert.match(res.stderr, new RegExp(`${all.length} matched the filter`));
  }
  const none = await runShark(['read', capture, '-o', 'json', '-f', '-1 > response.status']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, '', 'the query is applied, not ignored');
  const missing = await runShark(['read', capture, '-o', 'json', '-f']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^kubectl shark read: Not enough arguments following: f\nRun 'kubectl shark read --help' for usage.\n$/);
});

test('a bad --max-body exits 2', async () => {
  const res = await runShark(['read', '--max-body', 'lots', 'x.pcap']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--max-body/);
});

test('a missing file exits 1 and names it', async () => {
  const res = await runShark(['read', join(work, 'nope.pcap')]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /nope\.pcap: ENOENT/);
});

test('a directory: one line saying what, where and what to do, exit 2 (no stack trace)', async () => {
  const res = await runShark(['read', work, '-o', 'json']);
  assert.equal(res.code, 2, res.stderr);
  assert.equal(res.stderr, `kubectl shark read: ${work} is a directory, not a capture file: name the capture files in it (e.g. ${work}/*.pcap)\n`);
  assert.equal(res.stdout, '');
});

test('/dev/null is an empty capture: no entries, a warning, exit 0', async () => {
  const res = await runShark(['read', '/dev/null', '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, '');
  assert.match(res.stderr, /warning: \/dev\/null: empty input \(no packets, no entries\)/);
  assert.match(res.stderr, /read: 0 packets, 0 bytes, 0 connections, 0 entries/);
});

test('a FIFO reads as a stream, as its writer writes', async () => {
  const fifo = join(work, 'capture.fifo');
  execFileSync('mkfifo', [fifo]);
  const capture = readFileSync(join(REPO_ROOT, 'assets/demo/microservices.pcapng'));
  const expected = parseNdjson<HttpEntry>((await runShark(['read', '-', '-o', 'json', '-q'], { input: capture })).stdout);
  // The writer's open waits for the reader's; it writes in two halves with a pause between.
  const half = capture.length >> 1;
  const script = '{ head -c "$1" "$2"; sleep 0.3; tail -c +"$(($1 + 1))" "$2"; } > "$3"';
  const writer = runCommand('sh', ['-c', script, 'sh', String(half), join(REPO_ROOT, 'assets/demo/microservices.pcapng'), fifo]);
  const res = await runShark(['read', fifo, '-o', 'json']);
  assert.equal((await writer).code, 0);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(parseNdjson<HttpEntry>(res.stdout), expected);
});

const nobodySkip = skipFor(missingRoot('switching to an unprivileged user (setpriv)') ?? missingCommand('setpriv', 'util-linux'));
if (nobodySkip) process.stdout.write(`# unreadable-file test skipped: ${nobodySkip}\n`);

test('a file without read permission (read as an unprivileged user): exit 1, naming the file and what to check', { skip: nobodySkip }, async () => {
  const file = join(work, 'secret.pcap');
  copyFileSync(join(REPO_ROOT, 'assets/demo/microservices.pcapng'), file);
  chmodSync(file, 0o600);
  chmodSync(work, 0o755);
  const res = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', LAUNCHER, 'read', file, '-o', 'json']);
  assert.equal(res.code, 1, res.stderr);
  assert.equal(res.stderr, `kubectl shark read: cannot read ${file}: EACCES (check its permissions)\n`);
  // The same user reads it once it may.
  chmodSync(file, 0o644);
  const ok = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', LAUNCHER, 'read', file, '-o', 'json', '-q']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(parseNdjson<HttpEntry>(ok.stdout).length > 0);
});

test('--max-body limits kept body text while sizes count the whole body', async () => {
  const res = await runShark(['read', '--max-body', '1KiB', '-o', 'json', join(pcaps!, 'http/chunked-gzip-wireshark-org.pcap')]);
  assert.equal(res.code, 0, res.stderr);
  const [entry] = parseNdjson<HttpEntry>(res.stdout);
  assert.equal(entry!.response?.content.size, 97845);
  assert.equal(entry!.response?.bodySize, 26375);
  const kept = entry!.response!.content.text.length;
  assert.ok(kept <= 1024 && kept >= 1020, `${kept} characters kept (a UTF-8 sequence is never split)`);
  assert.equal(entry!.response?.content.truncated, true);
});

test('saved NDJSON can be read back and filtered again, with the same result as filtering the capture', async () => {
  const capture = join(pcaps!, 'http/espn-browse-multiconn.pcapng');
  const saved = await runShark(['read', capture, '-o', 'json']);
  const file = join(work, 'saved.ndjson');
  writeFileSync(file, saved.stdout);
  const query = 'response.status == 200 and request.path.endsWith(".jpg")';
  const direct = await runShark(['read', capture, '-o', 'json', '--filter', query]);
  const again = await runShark(['read', file, '-o', 'json', '--filter', query]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(parseNdjson<HttpEntry>(direct.stdout).length > 5);
  assert.equal(again.stdout, direct.stdout);
});
