/**
 * The keeper runs in this machine's sh (dash on Debian, as in node:24-slim) against a fake /proc and a temp folder: it must stay while an
 * agent of its container runs, ignore other containers' agents and itself, remove each agent folder
 * as soon as its agent is gone (and a never-used one once it is old), and exit 0 once idle, leaving
 * no folder of its container.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { agentFolderPrefix, KEEPER_NAME, KEEPER_SCRIPT, keeperCommand } from './keeper.ts';

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

/** The keeper as its container runs it: `sh -c <script> kubectl-shark-keeper <args>`. */
function startKeeper(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn('sh', ['-c', KEEPER_SCRIPT, KEEPER_NAME, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
}

test('the keeper command is sh -c with its container\'s folder prefix; the script parses', () => {
  const cmd = keeperCommand('shark-ab12c');
  assert.deepEqual([cmd[0], cmd[1], cmd[3], cmd[4]], ['sh', '-c', KEEPER_NAME, 'kubectl-shark-shark-ab12c.']);
  assert.equal(cmd.length, 5);
  const parsed = spawnSync('sh', ['-n', '-c', KEEPER_SCRIPT]);
  assert.equal(parsed.status, 0, parsed.stderr.toString());
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

  const child = startKeeper([agentFolderPrefix('shark-x1'), '1500', '50', proc, tmp]);
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
  const child = startKeeper([agentFolderPrefix('shark-x3'), '60000', '50', proc, tmp]);
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
  const child = startKeeper([agentFolderPrefix('shark-x4'), '200', '50', proc, join(root, 'tmp-none')]);
  assert.equal(await new Promise((r) => child.on('exit', r)), 0);
});

test('with the real /proc and the default TMPDIR it sees a real agent process of its container', async () => {
  const tmp = join(root, 'tmp-real');
  const dir = agentFolder(tmp, 'shark-x5', 'FFFFFFFFFF');
  writeFileSync(join(dir, 'agent.js'), 'setTimeout(() => {}, 1500);');
  const agent = spawn(process.execPath, [join(dir, 'agent.js')], { stdio: 'ignore' });
  const keeper = startKeeper([agentFolderPrefix('shark-x5'), '300', '50'], { ...process.env, TMPDIR: tmp });
  const agentDone = new Promise((r) => agent.on('exit', r));
  const keeperDone = new Promise((r) => keeper.on('exit', r));
  await agentDone;
  assert.equal(keeper.exitCode, null, 'alive while the agent ran');
  assert.equal(await keeperDone, 0);
  assert.equal(existsSync(dir), false);
});

test('names in other processes\' arguments are only compared: globs and command substitutions are not expanded or run', async () => {
  const proc = join(root, 'proc-hostile');
  const tmp = join(root, 'tmp-hostile');
  const mine = agentFolder(tmp, 'shark-x6', 'GGGGGGGGGG');
  const marker = join(root, 'hostile-ran');
  const prefix = agentFolderPrefix('shark-x6');
  fakeProcess(proc, 5001, ['node', `${mine}/agent.js`, 'capture']);
  // A process of the app may name anything: none of it may be run, expanded or removed.
  fakeProcess(proc, 5002, ['x', `${tmp}/${prefix}*/agent.js`, `${tmp}/${prefix}$(touch ${marker})/agent.js`, `${tmp}/${prefix}\`touch ${marker}\`/agent.js`, `${tmp}/${prefix}a\nb/agent.js`, `${tmp}/${prefix}../../agent.js`]);
  const child = startKeeper([prefix, '400', '50', proc, tmp]);
  await sleep(600);
  assert.equal(child.exitCode, null, 'stays while its agent runs');
  assert.ok(existsSync(mine));
  assert.equal(existsSync(marker), false, 'nothing from an argument was run');
  rmSync(join(proc, '5001'), { recursive: true });
  await eventually('its folder goes once its agent is gone', () => !existsSync(mine));
  child.kill('SIGTERM');
  assert.equal(await new Promise((r) => child.on('exit', r)), 0);
  assert.equal(existsSync(marker), false);
});

test('a shell of about a megabyte, not a node: SIGTERM ends it at once and leaves no sleep behind', async () => {
  const proc = join(root, 'proc-term');
  mkdirSync(proc, { recursive: true });
  // An interval of its own, to find its sleep among the machine's processes.
  const child = startKeeper([agentFolderPrefix('shark-x7'), '600000', '1777', proc, join(root, 'tmp-term')]);
  await sleep(500);
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  assert.ok(rssKb < 8 * 1024, `keeper RSS ${rssKb} kB`);
  const sleeping = (): boolean => spawnSync('pgrep', ['-f', '^sleep 1\\.777$']).status === 0;
  assert.ok(sleeping(), 'it sleeps between looks');
  const started = Date.now();
  child.kill('SIGTERM');
  assert.equal(await new Promise((r) => child.on('exit', r)), 0);
  assert.ok(Date.now() - started < 1500, `ended ${Date.now() - started} ms after SIGTERM`);
  await sleep(100);
  assert.equal(sleeping(), false, 'its sleep ended with it');
});
