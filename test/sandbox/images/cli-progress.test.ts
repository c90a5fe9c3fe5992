/**
 * `npm run sandbox` (test/sandbox/cli.ts) prepares the images before the cluster starts and says
 * so, one line per step; a Ctrl-C while it builds leaves no half-built image in the cache.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sweepStaleCgroups } from '../../helpers/memory-cgroup.ts';
import { skipFor } from '../../helpers/requirements.ts';
import { requireSandbox } from '../index.ts';
import { sweepStaleSandboxes } from '../net.ts';
import { CATALOG } from './catalog.ts';
import { requireImages } from './store.ts';

const skip = skipFor(requireSandbox() ?? requireImages());
if (skip) process.stderr.write(`skipping the npm run sandbox image progress tests: ${skip}\n`);

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const scratch = skip ? '' : mkdtempSync(join(tmpdir(), `ks-${process.pid}-cli-images-`));
const started: ChildProcess[] = [];

afterEach(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  if (!skip) {
    await sweepStaleSandboxes();
    sweepStaleCgroups();
  }
});
after(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

/** cli.ts as `npm run sandbox` runs it, leader of its own process group (a terminal's job), all output in one stream. */
function sandboxCli(cache: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sandbox/cli.ts'], {
    cwd: REPO,
    env: { ...process.env, KSHARK_SANDBOX_IMAGES: cache },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, probe: () => boolean, show: () => string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${show()}`);
    await sleep(50);
  }
}

test('npm run sandbox builds the images first, one line per step, then starts the cluster; the next run reuses them', { skip }, async () => {
  const cache = join(scratch, 'cache');
  for (const run of ['first', 'second']) {
    const cli = sandboxCli(cache);
    await until('the KUBECONFIG line', () => /export KUBECONFIG=/.test(cli.output()), cli.output);
    const lines = cli.output().split('\n');
    const at = (pattern: RegExp): number => {
      const i = lines.findIndex((l) => pattern.test(l));
      assert.ok(i >= 0, `no line ${pattern} in:\n${cli.output()}`);
      return i;
    };
    const preparing = at(/^preparing the sandbox images \(built once from this machine's Debian packages, reused from then on\) \.\.\.$/);
    const starting = at(/^starting the sandbox cluster/);
    if (run === 'first') {
      const building = at(new RegExp(`^  building ${CATALOG.length} sandbox images from this machine's Debian packages into ${cache}: once, later runs reuse them$`));
      const built = CATALOG.map((d, i) => at(new RegExp(`^  built ${d.ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(${i + 1}/${CATALOG.length}\\): `)));
      assert.deepEqual([preparing, building, ...built, starting], [...Array(CATALOG.length + 3).keys()].map((i) => preparing + i), cli.output());
    } else {
      const reusing = at(new RegExp(`^  reusing ${CATALOG.length} sandbox images from ${cache}$`));
      assert.deepEqual([preparing, reusing, starting], [preparing, preparing + 1, preparing + 2], cli.output());
    }
    process.kill(-cli.child.pid!, 'SIGINT');
    assert.equal(await cli.exited, 0, cli.output());
  }
});

test('Ctrl-C while npm run sandbox builds the images: it stops, and the cache holds whole images only', { skip }, async () => {
  const cache = join(scratch, 'interrupted');
  const cli = sandboxCli(cache);
  await until('the first image built', () => /built node:24-slim \(1\//.test(cli.output()), cli.output);
  assert.ok(readdirSync(cache).some((n) => n.startsWith('.build-')), 'the next image is being built');
  process.kill(-cli.child.pid!, 'SIGINT');
  assert.equal(await cli.exited, 0, cli.output());
  assert.doesNotMatch(cli.output(), /starting the sandbox cluster/);
  assert.deepEqual(readdirSync(cache).filter((n) => n.startsWith('.')), [], 'no half-built image left');
  const left = readdirSync(cache).filter((n) => /^[0-9a-f]{64}$/.test(n));
  assert.ok(left.length >= 1 && left.length < CATALOG.length, `some images built, not all: ${left.join(' ')}`);
  for (const folder of left) assert.ok(existsSync(join(cache, folder, 'image.json')), `${folder} is whole`);
});
