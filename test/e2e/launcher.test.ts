/**
 * bin/kubectl-shark prefers the Node 24 pinned in node_modules and falls back to a system node >= 22,
 * with a clear message otherwise. Exercised on a copy of the launcher outside the checkout, so the
 * pinned runtime is absent and only the PATH we give decides.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LAUNCHER, runCommand } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';

const work = mkdtempSync(join(tmpdir(), 'shark-launcher-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A fake install: the launcher and a main.js that prints the runtime's version. */
function fakeInstall(): string {
  const root = join(work, `install-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'dist', 'cmd'), { recursive: true });
  copyFileSync(LAUNCHER, join(root, 'bin', 'kubectl-shark'));
  writeFileSync(join(root, 'dist', 'cmd', 'main.js'), 'console.log("runtime " + process.version);\n');
  return join(root, 'bin', 'kubectl-shark');
}

/** A PATH holding the shell tools the launcher needs, plus optionally one `node`. */
function toolPath(node?: string): string {
  const dir = mkdtempSync(join(work, 'path-'));
  for (const tool of ['readlink', 'dirname', 'sh']) {
    const found = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    symlinkSync(found, join(dir, tool));
  }
  if (node) symlinkSync(node, join(dir, 'node'));
  return dir;
}

function nodeMajor(node: string): number {
  return Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
}

test('the checkout launcher runs on the pinned Node 24', async () => {
  const res = await runCommand(LAUNCHER, ['--version'], { env: { PATH: toolPath() } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout.trim(), /^\d+\.\d+\.\d+/);
  assert.equal(nodeMajor(join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node')), 24);
});

test('without the pinned runtime a system node >= 22 is used, an older one is refused with a hint', async (t) => {
  const pinned = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  const ok = await runCommand(fakeInstall(), [], { env: { PATH: toolPath(pinned) } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /runtime v24\./);

  let system: string | undefined;
  try {
    system = execFileSync('sh', ['-c', 'PATH=/usr/local/bin:/usr/bin:/bin command -v node'], { encoding: 'utf8' }).trim();
  } catch {
    system = undefined;
  }
  if (system && nodeMajor(system) < 22) {
    const old = await runCommand(fakeInstall(), [], { env: { PATH: toolPath(system) } });
    assert.equal(old.code, 2);
    assert.match(old.stderr, /needs Node\.js 22 or newer, found v\d+/);
    assert.match(old.stderr, /npm ci/);
    t.diagnostic(`system ${system} (Node ${nodeMajor(system)}) refused as expected`);
  } else {
    t.diagnostic(`no system node older than 22 here (${system ?? 'none'}): the refusal is covered by the next test's message path only`);
  }
});

test('no node at all: exit 2 and what to do', async () => {
  const res = await runCommand(fakeInstall(), [], { env: { PATH: toolPath() } });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /no Node\.js runtime found/);
});
