/**
 * `tap` in the TUI, in a real terminal (tmux), against the sandbox: the header names the context,
 * the namespace and the pod count; rows are named; q stops every agent and the per-pod summary is
 * printed once the screen is given back.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { demoShopFixture, requireSandbox, startSandbox } from '../sandbox/index.ts';
import { assertNoAgents, requireBuild } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const skip = skipFor(requireSandbox() ?? requireBuild() ?? (hasTmux ? null : 'tmux is not installed (apt-get install -y tmux)'));
const dir = mkdtempSync(join(tmpdir(), 'shark-taptui-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

async function waitFor(what: string, accept: () => boolean, read: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (accept()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}:\n${read()}`);
}

test('tap in the TUI: header with context, namespace and pods; named rows; q stops the agents and prints the summary', { skip }, async () => {
  const sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
  const session = `shark-taptui-${process.pid}-${Date.now()}`;
  const errFile = join(dir, 'stderr.txt');
  const rcFile = join(dir, 'rc.txt');
  try {
    tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '30', `KUBECONFIG=${sandbox.kubeconfig} ${LAUNCHER} tap -n shop 2>${errFile}; echo $? > ${rcFile}; sleep 60`);
    const screen = (): string => tmux('capture-pane', '-p', '-t', session);
    await waitFor('named rows', () => /front-end -> catalogue/.test(screen()) && /catalogue -> db/.test(screen()), screen);
    const s = screen();
    assert.match(s, /kubectl-shark tap \(every pod\) │ ctx sandbox · ns shop · 3 pods/);
    assert.match(s, /entries \d+\/\d+/);
    tmux('send-keys', '-t', session, 'q');
    await waitFor('the exit', () => {
      try {
        return readFileSync(rcFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    }, screen);
    assert.equal(readFileSync(rcFile, 'utf8').trim(), '0');
    const stderr = readFileSync(errFile, 'utf8');
    assert.match(stderr, /POD\s+STATE\s+ENTRIES/);
    assert.match(stderr, /shop\/front-end-\S+\s+ended/);
    assert.match(stderr, /total: \d+ entries from 3 pods/);
    const pods = ['front-end', 'catalogue', 'db'].map((d) => ['shop', /shop\/(\S+)/.exec(stderr.split('\n').find((l) => l.includes(`shop/${d}-`))!)![1]!] as const);
    await assertNoAgents(sandbox, pods);
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
    await sandbox.stop();
  }
});

test('tap in the TUI: an API server outage shows in the header with its countdown, and goes once it answers again', { skip }, async () => {
  const sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
  const session = `shark-taptui-outage-${process.pid}-${Date.now()}`;
  const errFile = join(dir, 'outage-stderr.txt');
  const rcFile = join(dir, 'outage-rc.txt');
  const total = (s: string): number => Number(/entries \d+\/(\d+)/.exec(s)?.[1] ?? -1);
  try {
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '30', `KUBECONFIG=${sandbox.kubeconfig} ${LAUNCHER} tap front-end -n shop 2>${errFile}; echo $? > ${rcFile}; sleep 60`);
    const screen = (): string => tmux('capture-pane', '-p', '-t', session);
    await waitFor('named rows', () => /front-end -> catalogue/.test(screen()), screen);
    await sandbox.stopApi();
    await waitFor('the outage in the header', () => /^kubectl-shark {2}API server unreachable since \d\d:\d\d:\d\d UTC, retrying (in \d s|now) {2}tap front-end/m.test(screen()), screen, 20_000);
    // The countdown moves.
    const first = /retrying (in \d s|now)/.exec(screen())![0];
    await waitFor('the countdown to move', () => /retrying (in \d s|now)/.exec(screen())?.[0] !== first, screen, 10_000);
    await sandbox.startApi();
    await waitFor('the header without the outage', () => !/API server unreachable/.test(screen()), screen, 30_000);
    const after = total(screen());
    await waitFor('new entries', () => total(screen()) > after, screen, 30_000);
    tmux('send-keys', '-t', session, 'q');
    await waitFor('the exit', () => {
      try {
        return readFileSync(rcFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    }, screen);
    assert.equal(readFileSync(rcFile, 'utf8').trim(), '0', readFileSync(errFile, 'utf8'));
    const stderr = readFileSync(errFile, 'utf8');
    assert.match(stderr, /API server https:\/\/127\.0\.0\.1:\d+ unreachable since/);
    assert.match(stderr, /answers again after \d+ s/);
    assert.match(stderr, /shop\/front-end-\S+\s+ended/);
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
    await sandbox.startApi();
    await sandbox.stop();
  }
});
