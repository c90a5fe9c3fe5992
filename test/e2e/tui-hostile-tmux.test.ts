/**
 * The TUI on the hostile capture (test/fixtures/hostile) in a real terminal: tmux, on a private
 * server (`tmux -L`), runs `kubectl shark read hostile-http.pcapng`; the test walks the list, the
 * detail, the raw JSON and the service map, then copies one request as curl. tmux is the witness:
 * it takes OSC 0/2 as the pane title and, with set-clipboard on, OSC 52 as a paste buffer, and
 * pipe-pane records every byte the TUI wrote. The hostile rows must be on screen, escaped, and
 * the only terminal command they cause is our own clipboard write, carrying the exact command.
 * Skipped, with the reason printed, when tmux is missing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { curlCommand } from '../../src/remote-agent/dissect/http1/curl-command.ts';
import { LAUNCHER, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { HOSTILE_PCAP } from '../fixtures/hostile/hostile-traffic.ts';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SOCKET = `shark-hostile-${process.pid}`;
const SESSION = 'hostile';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION);
const paneTitle = (): string => tmux('display-message', '-p', '-t', SESSION, '#{pane_title}').trim();
const buffers = (): string[] => tmux('list-buffers', '-F', '#{buffer_name}').split('\n').filter((name) => name !== '');

/** One key at a time: keys that arrive in one read reach Ink as one input string. */
async function press(...keys: string[]): Promise<void> {
  for (const key of keys) {
    tmux('send-keys', '-t', SESSION, key);
    await sleep(60);
  }
}

async function waitFor(what: string, accept: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (accept()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${screen()}`);
}

async function waitForScreen(what: string, accept: (text: string) => boolean): Promise<string> {
  let text = '';
  await waitFor(what, () => accept((text = screen())));
  return text;
}

test('TUI in tmux on the hostile capture: rows and detail shown escaped; no title change, no clipboard write but our own copy', { skip: hasTmux ? false : 'tmux is not installed (apt-get install -y tmux)' }, async () => {
  const json = await runShark(['read', '-o', 'json', HOSTILE_PCAP]);
  const entries = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Entry);
  const work = mkdtempSync(join(tmpdir(), 'shark-hostile-tui-'));
  const rawFile = join(work, 'pane-output');
  // Once tmux is set up, the pane proves that it honours a title and a clipboard write here, waits
  // for the test to reset both and start recording, then runs the TUI.
  const script = [
    'tmux wait-for ready',
    `printf '\\033]0;probe-title\\007\\033]52;c;cHJvYmU=\\007'`,
    `tmux wait-for go`,
    `cd ${REPO_ROOT} && ${LAUNCHER} read ${HOSTILE_PCAP}`,
    `echo EXIT:$?`,
    'sleep 120',
  ].join('; ');
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', SESSION, '-x', '140', '-y', '45', 'sh', '-c', script);
  try {
    tmux('set-option', '-g', 'set-clipboard', 'on');
    tmux('wait-for', '-S', 'ready');
    await waitFor('the probe title', () => paneTitle() === 'probe-title');
    await waitFor('the probe clipboard write', () => buffers().length === 1);
    assert.equal(tmux('show-buffer'), 'probe');
    tmux('delete-buffer');
    tmux('select-pane', '-t', SESSION, '-T', 'sentinel-title');
    tmux('pipe-pane', '-t', SESSION, '-o', `cat >> ${rawFile}`);
    tmux('wait-for', '-S', 'go');

    let text = await waitForScreen('all eight rows', (s) => /entries 8\/8/.test(s) && /GET +\/long/.test(s));
    // Both ends of the (long, escaped) route, each shortened in the middle; the detail and the map
    // below show the names whole.
    assert.match(text, /client\\u0[^ ]*…[^ ]*\\u0007 -> api\\u009b[^ ]*…[^ ]*\\u0007 /);
    assert.match(text, /G'\|id\|' +\/shell\?cmd=\$\(id\)&x=`id`;ls\|sh/);
    assert.match(text, /--next +\/-o\/tmp\/pwned/);
    assert.match(text, /GET +\/\\u001b\]0;path-title\\u0007\/\\u001b\[2J/);
    assert.match(text, /GET +\/second\\u009b2J\\u007f/);

    await press('g', 'j', 'j', 'Enter');
    text = await waitForScreen('the detail of the escape-laden request', (s) => /^Headers \(\d+\)/m.test(s));
    assert.match(text, /^GET \/\\u001b\]0;path-title\\u0007\/\\u001b\[2J\\u001b\[H HTTP\/1\.1/m);
    assert.match(text, /^ {2}X-Clip: \\u001b\]52;c;aWQ7IGVjaG8gcHduZWQ=\\u0007$/m);
    assert.match(text, /^ {2}X-C1: \\u009b2J\\u009d0;c1-title\\u009c$/m);
    assert.match(text, /^ {2}X-Cr: visible\\u000dspoofed$/m);
    assert.match(text, /^ {2}X-Name\\u001b\[31m: red name$/m);
    assert.match(text, /^HTTP\/1\.1 200 OK\\u001b\]0;status-title\\u0007$/m);
    await press('G');
    text = await waitForScreen('the end of the detail', (s) => /^entry \S+, HTTP/m.test(s));
    assert.match(text, /hello \\u001b\]0;body-title\\u0007 \\u001b\[31mred\\u001b\[0m \\u009b2J/);
    await press('y');
    text = await waitForScreen('the raw JSON', (s) => /"X-Clip": "\\u001b\]52;c;aWQ7IGVjaG8gcHduZWQ=\\u0007"/.test(s));
    await press('y', 'Escape');
    await waitForScreen('the list again', (s) => /TIME \(UTC\)/.test(s));
    await press('G', 'Enter');
    await waitForScreen('the detail of the long request', (s) => /^GET \/long HTTP\/1\.1/m.test(s) && /X-Long: \\u001b\]0;long\\u0007A/.test(s));
    await press('G');
    await waitForScreen('the end of its 34 KB body', (s) => /^entry \S+, HTTP/m.test(s));
    await press('Escape', 'm');
    text = await waitForScreen('the service map', (s) => /CALLER -> CALLEE/.test(s));
    assert.match(text, /│ client\\u001b\]0;name-title\\u0007 │/);
    assert.match(text, /│ api\\u009b2J\\u001b\]52;c;bmFtZQ==\\u0007 │/);

    assert.equal(paneTitle(), 'sentinel-title', 'the window title was not changed by the traffic');
    assert.deepEqual(buffers(), [], 'no clipboard write came from the traffic');

    // Our own copy: exactly one clipboard write, carrying exactly the quoted command.
    await press('Tab');
    await waitForScreen('the list again', (s) => /TIME \(UTC\)/.test(s));
    await press('g', 'Enter');
    await waitForScreen('the detail of the first request', (s) => /^G'\|id\|' \/shell/m.test(s));
    await press('c');
    await waitForScreen('the curl box', (s) => /curl \(sent to the clipboard/.test(s));
    await waitFor('the copy in a tmux buffer', () => buffers().length === 1);
    const copied = tmux('show-buffer');
    assert.equal(copied, curlCommand(entries[0]!));
    // Pasted into sh, it hands curl the method as one argument instead of running `id`.
    const printed = execFileSync('sh', ['-c', `curl() { printf '%s\\n' "$@"; }; ${copied}`], { encoding: 'utf8' });
    assert.equal(printed.split('\n')[1], "G'|id|'");

    await press('q');
    await waitForScreen('the exit status', (s) => /EXIT:\d+/.test(s));
    assert.match(screen(), /EXIT:0/);
    assert.equal(paneTitle(), 'sentinel-title');

    const raw = readFileSync(rawFile);
    const osc = [...raw.toString('latin1').matchAll(/\u001b\]([^\u0007\u001b]*)(\u0007|\u001b\\)/g)].map((m) => m[1]!);
    assert.deepEqual(osc, [`52;c;${Buffer.from(copied).toString('base64')}`], 'the only OSC the TUI wrote is our copy');
    assert.equal(raw.filter((b) => b === 0x07).length, 1, 'BEL only ends our OSC 52');
    assert.equal(raw.indexOf(0x7f), -1, 'no DEL');
    const text8 = raw.toString('utf8');
    assert.doesNotMatch(text8, /[\u0080-\u009f]/, 'no C1 control');
    assert.doesNotMatch(text8, /\u001b[P_^X]/, 'no DCS, APC, PM or SOS string');
  } finally {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    rmSync(work, { recursive: true, force: true });
  }
});
