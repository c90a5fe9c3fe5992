/**
 * WebSocket messages in a real terminal: tmux (a private socket) runs `kubectl shark read` on two
 * public WebSocket captures at 120x30. The list shows the upgrade as an HTTP row and each message as
 * a WS row (opcode, direction, payload preview, close code); the detail pane of a message shows its
 * frame table and its payload; the service map labels the edge WS and counts no message as
 * unanswered; a KFL filter typed in the TUI keeps only text messages. Skipped, with the reason,
 * without tmux.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { REPO_ROOT, VENDORED_PCAPS_DIR } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SOCKET = `shark-ws-${process.pid}`;
const CAPTURES = ['ping-pong-binary-fragments.pcap', 'text-messages-port12345.pcap'].map((f) => join(VENDORED_PCAPS_DIR, 'websocket', f));

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

async function waitForScreen(what: string, accept: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = tmux('capture-pane', '-p', '-t', 'ws');
    if (accept(screen)) return screen;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${screen}`);
}

const rowsOf = (screen: string): string[] => screen.split('\n').filter((l) => / (HTTP|WS) /.test(l));

test('TUI: WebSocket rows, a message detail, the WS edge of the map, a ws filter', { skip: skipFor(hasTmux ? null : 'tmux is not installed (apt-get install -y tmux)'), timeout: 90_000 }, async () => {
  try {
    tmux('new-session', '-d', '-s', 'ws', '-x', '120', '-y', '30', `cd ${REPO_ROOT} && ${LAUNCHER} read ${CAPTURES.join(' ')}; echo "EXIT:$?"; sleep 60`);
    const list = await waitForScreen('13 entries', (s) => s.includes('entries 13/13') && rowsOf(s).length === 13);
    const rows = rowsOf(list);
    assert.equal(rows.filter((r) => / HTTP /.test(r)).length, 2, 'the two upgrades are HTTP rows');
    assert.equal(rows.filter((r) => / WS /.test(r)).length, 11, 'each message is a WS row');
    const ws = rows.filter((r) => / WS /.test(r));
    assert.match(ws[0]!, /ping +← "Zeek" \(4 B\)/);
    assert.match(ws[1]!, /pong +→ "Zeek" \(4 B\)/);
    assert.match(ws[3]!, /binary +← "Hello there!" \(12 B\)/, 'the fragmented message, joined');
    assert.match(ws[4]!, /close +→ +1000/);
    assert.match(ws[6]!, /text +← "Welcome, 192\.168\.43\.1 !"/);

    // The last row is selected (follow): a server text message. Its detail pane.
    tmux('send-keys', '-t', 'ws', 'Enter');
    const detail = await waitForScreen('the detail pane', (s) => s.includes('Payload ('));
    for (const want of ['Server → client', 'text message, 1 frame', 'Opcode: text', 'Frames: 1', 'Payload on the wire: 53 B', 'Masked: no', 'Upgrade entry: 1-0']) {
      assert.ok(detail.includes(want), `detail shows ${want}:\n${detail}`);
    }
    assert.match(detail, /Payload \(text\/plain; charset=utf-8, 53 B\)\n +21:34:53 \('192\.168\.43\.1', 50999\) say: hello websocket/);

    // The service map: a WS edge beside the HTTP one, no message counted as unanswered.
    tmux('send-keys', '-t', 'ws', 'Escape');
    await waitForScreen('the list again', (s) => s.includes('enter details'));
    tmux('send-keys', '-t', 'ws', 'm');
    const map = await waitForScreen('the map', (s) => s.includes('CALLER -> CALLEE'));
    const edge = map.split('\n').find((l) => l.startsWith('192.168.43.1 -> 192.168.43.135') && / WS /.test(l));
    assert.ok(edge !== undefined, `a WS edge in the map:\n${map}`);
    assert.match(edge, / WS +5 +0% +0% +0 /, 'five messages, none unanswered');

    // A KFL filter typed in the TUI.
    tmux('send-keys', '-t', 'ws', 'Tab');
    await waitForScreen('the list again', (s) => s.includes('enter details'));
    tmux('send-keys', '-t', 'ws', '/');
    tmux('send-keys', '-t', 'ws', '-l', 'ws and ws_opcode == "text"');
    tmux('send-keys', '-t', 'ws', 'Enter');
    const filtered = await waitForScreen('the filtered list', (s) => s.includes('5 matched'));
    const kept = rowsOf(filtered);
    assert.equal(kept.length, 5);
    for (const r of kept) assert.match(r, / WS .* text /);
  } finally {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  }
});
