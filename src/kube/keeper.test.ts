/**
 * The keeper runs with the pinned Node against a fake /proc and a temp folder: it must stay while an
 * agent of its container runs, ignore other containers' agents and itself, remove each agent folder
 * as soon as its agent is gone (and a never-used one once it is old), and exit 0 once idle, leaving
 * no folder of its container.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { agentFolderPrefix, KEEPER_SCRIPT, keeperCommand } from './keeper.ts';

const root = mkdtempSync(join(tmpdir(), 'shark-keeper-'));
after(() => rmSync(root, { recursive: true, force: true }));

function fakeProcess(proc: string, pid: number, argv: string[]): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
}

/** An agent folder as the upload makes it: `<tmp>/kubectl-shark-<container>.<random>` with agent.js. */
function agentFolder(tmp: string, container: string, random: string): string {
  const dir = join(tmp, `${agentFolderPrefix(container)}${random}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'agent.js'), '');
  return dir;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls (the keeper looks every 50 ms; a loaded machine may be slower to start it). */
async function eventually(what: string, check: () => boolean, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    assert.ok(Date.now() < deadline, what);
    await sleep(20);
  }
}

test('the keeper command is node -e with its container\'s folder prefix; the script parses', () => {
  const cmd = keeperCommand('shark-ab12c');
  assert.deepEqual([cmd[0], cmd[1], cmd[3]], ['node', '-e', 'kubectl-shark-shark-ab12c.']);
  assert.equal(cmd.length, 4);
  assert.doesNotThrow(() => new Function('require', 'process', KEEPER_SCRIPT));
});

test('stays while its agents run; removes a folder once its agent is gone; exits 0 once idle, leaving no folder', async () => {
  const proc = join(root, 'proc');
  const tmp = join(root, 'tmp');
  const one = agentFolder(tmp, 'shark-x1', 'AAAAAAAAAA');
  const two = agentFolder(tmp, 'shark-x1', 'BBBBBBBBBB');
  // Another container's agent folder (same pod, shared PID namespace) is not ours to touch.
  const other = agentFolder(tmp, 'shark-x2', 'CCCCCCCCCC');
  fakeProcess(proc, 4242, ['node', `${one}/agent.js`, 'capture']);
  fakeProcess(proc, 4243, ['node', `${two}/agent.js`, 'capture']);
  fakeProcess(proc, 4244, ['node', `${other}/agent.js`, 'capture']);
  fakeProcess(proc, 1, ['sleep', 'infinity']);

  const child = spawn(process.execPath, ['-e', KEEPER_SCRIPT, agentFolderPrefix('shark-x1'), '1500', '50', proc, tmp], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await sleep(900);
  assert.equal(child.exitCode, null, 'the keeper stays while its agents run');
  assert.ok(existsSync(one) && existsSync(two));
  // Ours, not the app's: the first OOM victim of the pod, at the lowest CPU priority.
  assert.equal(readFileSync(`/proc/${child.pid}/oom_score_adj`, 'utf8').trim(), '1000');
  assert.equal(getPriority(child.pid), 19);

  // The first agent ends: its folder goes at the next look, the other stays.
  rmSync(join(proc, '4242'), { recursive: true });
  await eventually('the ended agent\'s folder is removed at the next look', () => !existsSync(one));
  assert.ok(existsSync(two), 'the running agent\'s folder stays');
  assert.equal(child.exitCode, null);

  rmSync(join(proc, '4243'), { recursive: true });
  const removedAt = Date.now();
  await eventually('the last folder is removed', () => !existsSync(two));
  assert.equal(child.exitCode, null, 'still there: idle for less than 1500 ms');
  const code = await exited;
  const idle = Date.now() - removedAt;
  assert.equal(code, 0);
  assert.ok(idle >= 1400 && idle < 5000, `exited ${idle} ms after the last agent went`);
  assert.ok(existsSync(other), 'another container\'s folder is left alone');
});

test('an upload no agent ever used is removed once it is older than the idle time, not before', async () => {
  const proc = join(root, 'proc-fresh');
  const tmp = join(root, 'tmp-fresh');
  mkdirSync(proc, { recursive: true });
  const stale = agentFolder(tmp, 'shark-x3', 'DDDDDDDDDD');
  const old = (Date.now() - 120_000) / 1000;
  utimesSync(stale, old, old);
  const fresh = agentFolder(tmp, 'shark-x3', 'EEEEEEEEEE');
  // A long idle time: the keeper stays; only the stale folder may go.
  const child = spawn(process.execPath, ['-e', KEEPER_SCRIPT, agentFolderPrefix('shark-x3'), '60000', '50', proc, tmp], { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 5000;
    while (existsSync(stale) && Date.now() < deadline) await sleep(50);
    assert.equal(existsSync(stale), false, 'an old unused upload is swept');
    assert.ok(existsSync(fresh), 'a fresh upload waits for its agent');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await new Promise((r) => child.on('exit', r)), 0);
  assert.equal(existsSync(fresh), false, 'on SIGTERM every folder of the container goes');
});

test('exits after the idle time when no agent ever comes', async () => {
  const proc = join(root, 'proc-empty');
  mkdirSync(proc, { recursive: true });
  const child = spawn(process.execPath, ['-e', KEEPER_SCRIPT, agentFolderPrefix('shark-x4'), '200', '50', proc, join(root, 'tmp-none')], { stdio: 'ignore' });
  assert.equal(await new Promise((r) => child.on('exit', r)), 0);
});

test('with the real /proc and the default TMPDIR it sees a real agent process of its container', async () => {
  const tmp = join(root, 'tmp-real');
  const dir = agentFolder(tmp, 'shark-x5', 'FFFFFFFFFF');
  writeFileSync(join(dir, 'agent.js'), 'setTimeout(() => {}, 1500);');
  const agent = spawn(process.execPath, [join(dir, 'agent.js')], { stdio: 'ignore' });
  const keeper = spawn(process.execPath, ['-e', KEEPER_SCRIPT, agentFolderPrefix('shark-x5'), '300', '50'], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
  const agentDone = new Promise((r) => agent.on('exit', r));
  const keeperDone = new Promise((r) => keeper.on('exit', r));
  await agentDone;
  assert.equal(keeper.exitCode, null, 'alive while the agent ran');
  assert.equal(await keeperDone, 0);
  assert.equal(existsSync(dir), false);
});
