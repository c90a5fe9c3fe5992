/**
 * gRPC and HTTP/2 in a real terminal: an NDJSON file of calls built as the HTTP/2 dissector builds
 * them (test/helpers/entries.ts) is opened with `kubectl shark read FILE.ndjson` in tmux (a private
 * socket) at 120x30 and 80x24. The list shows named gRPC rows (call or stream, Service/Method, the
 * status name, the longest whole at 120 columns) beside an HTTP/2 row; the detail pane of a call
 * shows the call, its messages and its trailers; `grpc && grpc_status != 0` typed in the filter bar
 * keeps the failed calls; the service map has a gRPC edge with its error shares. `read -o text`
 * prints the same calls one line each. Skipped, with the reason, without tmux.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { buildGrpcEntry, buildHttp2Entry, rawMessage, schemaMessage, type GrpcEntrySpec } from '../helpers/entries.ts';
import { LAUNCHER, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SOCKET = `shark-grpc-${process.pid}`;

const src = { name: 'frontend', namespace: 'shop' };
const dst = { name: 'carts', namespace: 'shop' };
const START_US = 1_796_540_000_000_000;

/** Eight calls and one plain HTTP/2 request, a second apart, as `read -o json` would have written them. */
function entries(): HttpEntry[] {
  const call = (i: number, spec: GrpcEntrySpec): HttpEntry => buildGrpcEntry({ id: `1-${i}`, src, dst, timestampUs: START_US + i * 1_000_000, streamId: 2 * i + 1, elapsedMs: 2 + i, ...spec });
  return [
    call(0, { rpc: 'GetCart', requestMessages: [schemaMessage({ cartId: '7' }, 'shop.v1.GetCartRequest')], responseMessages: [rawMessage([{ no: 1, wire: 'len', string: 'alice' }, { no: 2, wire: 'len', message: [{ no: 1, wire: 'varint', value: 42 }] }], 14)] }),
    call(1, { rpc: 'AddItem', grpcStatus: 5, grpcMessage: 'no item 9' }),
    call(2, { rpc: 'AddItem', grpcStatus: 8, grpcMessage: 'quota' }),
    call(3, { rpc: 'Checkout', grpcStatus: 14, grpcMessage: 'payment down' }),
    call(4, { rpc: 'Watch', requestMessageCount: 1, responseMessageCount: 1200, responseMessages: [rawMessage([{ no: 1, wire: 'varint', value: 1 }], 2)] }),
    call(5, { rpc: 'GetCart' }),
    call(6, { rpc: 'Checkout', grpcStatus: 16 }),
    call(7, { rpc: 'GetCart', grpcStatus: 9 }),
    buildHttp2Entry({ id: '1-8', src, dst, timestampUs: START_US + 8_000_000, streamId: 17, url: '/healthz' }),
  ];
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

async function waitForScreen(session: string, what: string, accept: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = tmux('capture-pane', '-p', '-t', session);
    if (accept(screen)) return screen;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${screen}`);
}

const rowsOf = (screen: string): string[] => screen.split('\n').filter((l) => / (gRPC|HTTP\/2|HTTP…) /.test(l));

test('TUI: gRPC rows, a call detail, a grpc_status filter and the gRPC edge of the map', { skip: skipFor(hasTmux ? null : 'tmux is not installed (apt-get install -y tmux)'), timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shark-grpc-'));
  const file = join(dir, 'calls.ndjson');
  writeFileSync(file, entries().map((e) => JSON.stringify(e)).join('\n') + '\n');
  try {
    tmux('new-session', '-d', '-s', 'wide', '-x', '120', '-y', '30', `cd ${REPO_ROOT} && ${LAUNCHER} read ${file}; echo "EXIT:$?"; sleep 60`);
    const list = await waitForScreen('wide', 'nine entries', (s) => s.includes('entries 9/9') && rowsOf(s).length === 9);
    const rows = rowsOf(list);
    assert.match(rows[0]!, /gRPC +frontend -> carts +call +shop\.v1\.Cart\/GetCart +OK +2\.0ms/);
    assert.match(rows[1]!, /call +shop\.v1\.Cart\/AddItem +NOT_FOUND /);
    assert.match(rows[2]!, /call +shop\.v1\.Cart\/AddItem +RESOURCE_EXHAUSTED /, 'the longest name whole at 120 columns');
    assert.match(rows[3]!, /shop\.v1\.Cart\/Checkout +UNAVAILABLE /);
    assert.match(rows[4]!, /stream +shop\.v1\.Cart\/Watch \(1 → 1,2… +OK /, "the counts of a stream, cut with the path");
    assert.match(rows[6]!, /shop\.v1\.Cart\/Checkout +UNAUTHENTICATED /);
    assert.match(rows[8]!, /HTTP\/2 +frontend -> carts +GET +\/healthz +200 /, 'HTTP/2 whole in the protocol column');
    assert.ok(list.split('\n').every((l) => l.length <= 120));

    // The first call's detail: the call, its trailers, its messages decoded.
    tmux('send-keys', '-t', 'wide', 'g');
    tmux('send-keys', '-t', 'wide', 'Enter');
    const detail = await waitForScreen('wide', 'the detail pane', (s) => s.includes('gRPC call'));
    for (const want of ['shop.v1.Cart/GetCart  0 OK', 'Service: shop.v1.Cart', 'Method: GetCart', 'Status: 0 OK', 'Deadline: none', 'Request messages: 1']) {
      assert.ok(detail.includes(want), `detail shows ${want}:\n${detail}`);
    }
    tmux('send-keys', '-t', 'wide', 'G');
    const end = await waitForScreen('wide', 'the messages', (s) => s.includes('Response message 1 of 1'));
    assert.match(end, /Request message 1 of 1 \(protobuf shop\.v1\.GetCartRequest, 14 B\)\n +\{\n +"cartId": "7"/);
    assert.match(end, /Response message 1 of 1 \(protobuf, no schema, 14 B\)\n +1: "alice"\n +2 \{\n +1: 42\n +\}/);

    // The map: a gRPC edge and an HTTP/2 edge; 4 of 8 calls failed on the client's side
    // (NOT_FOUND, RESOURCE_EXHAUSTED, UNAUTHENTICATED, FAILED_PRECONDITION), 1 on the server's.
    tmux('send-keys', '-t', 'wide', 'Escape');
    await waitForScreen('wide', 'the list again', (s) => s.includes('enter details'));
    tmux('send-keys', '-t', 'wide', 'm');
    const map = await waitForScreen('wide', 'the map', (s) => s.includes('CALLER -> CALLEE'));
    assert.match(map, /gRPC 8 serr 13%/, `the edge label:\n${map}`);
    assert.match(map, /frontend -> carts +gRPC +8 +50% +13% +0 /);
    assert.match(map, /frontend -> carts +HTTP\/2 +1 +0% +0% +0 /);

    // Kubeshark's idiom for failed calls, typed in the filter bar.
    tmux('send-keys', '-t', 'wide', 'Tab');
    await waitForScreen('wide', 'the list again', (s) => s.includes('enter details'));
    tmux('send-keys', '-t', 'wide', '/');
    tmux('send-keys', '-t', 'wide', '-l', 'grpc && grpc_status != 0');
    tmux('send-keys', '-t', 'wide', 'Enter');
    const filtered = await waitForScreen('wide', 'the failed calls', (s) => s.includes('5 matched'));
    const failed = rowsOf(filtered);
    assert.deepEqual(failed.map((r) => /(NOT_FOUND|RESOURCE_EXHAUSTED|UNAVAILABLE|UNAUTHENTICATED|FAILED_PRECONDITION)/.exec(r)?.[1]), ['NOT_FOUND', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'UNAUTHENTICATED', 'FAILED_PRECONDITION']);

    // 80 columns: the row keeps its call and a status cut at nine cells.
    tmux('new-session', '-d', '-s', 'narrow', '-x', '80', '-y', '24', `cd ${REPO_ROOT} && ${LAUNCHER} read ${file}; echo "EXIT:$?"; sleep 60`);
    const narrow = await waitForScreen('narrow', 'nine entries', (s) => s.includes('entries 9/9'));
    const lines = narrow.split('\n');
    assert.ok(lines.every((l) => l.length <= 80));
    assert.ok(lines.some((l) => /shop\.v1\.Cart\/AddItem +RESOURCE… /.test(l)), narrow);
    assert.ok(lines.some((l) => /shop\.v1\.Cart\/GetCart +OK /.test(l)), narrow);
  } finally {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read -o text: one line per call, Service/Method and the status name, as the row says', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shark-grpc-'));
  const file = join(dir, 'calls.ndjson');
  writeFileSync(file, entries().map((e) => JSON.stringify(e)).join('\n') + '\n');
  try {
    const result = await runShark(['read', file, '-o', 'text']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 9);
    assert.match(lines[0]!, /frontend:40000 -> carts:8080 {2}call {2}shop\.v1\.Cart\/GetCart {2}OK {2}2\.0ms {2}19 B$/);
    assert.match(lines[1]!, / {2}call {2}shop\.v1\.Cart\/AddItem {2}NOT_FOUND {2}/);
    assert.match(lines[4]!, / {2}stream {2}shop\.v1\.Cart\/Watch \(1 → 1,200 msgs\) {2}OK {2}/);
    assert.match(lines[8]!, / {2}GET {2}\/healthz {2}200 {2}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
