import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tarGzFolder } from './agent-bundle.ts';

const root = mkdtempSync(join(tmpdir(), 'shark-bundle-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('the archive unpacks with tar -xzf into the same files and modes', () => {
  const src = join(root, 'src');
  const deep = join(src, 'node_modules', '@koromix', 'koffi-linux-x64', 'a-rather-long-folder-name-to-pass-one-hundred-bytes', 'linux_x64');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(src, 'agent.js'), 'console.log("hi")\n');
  writeFileSync(join(deep, 'koffi.node'), Buffer.alloc(70_000, 7));
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(src, 'empty'), '');
  const out = join(root, 'out');
  mkdirSync(out);
  execFileSync('tar', ['-xzf', '-', '-C', out], { input: tarGzFolder(src) });
  assert.equal(readFileSync(join(out, 'agent.js'), 'utf8'), 'console.log("hi")\n');
  assert.deepEqual(readFileSync(join(out, deep.slice(src.length), 'koffi.node')), Buffer.alloc(70_000, 7));
  assert.equal(statSync(join(out, 'run.sh')).mode & 0o777, 0o755);
  assert.equal(statSync(join(out, 'empty')).size, 0);
  const listing = execFileSync('tar', ['-tzf', '-'], { input: tarGzFolder(src), encoding: 'utf8' });
  assert.match(listing, /^agent\.js$/m);
});

test('the same files give the same bytes (so the hash names the bundle), later or elsewhere', async () => {
  const src = join(root, 'same');
  mkdirSync(join(src, 'lib'), { recursive: true });
  writeFileSync(join(src, 'agent.js'), 'x\n');
  writeFileSync(join(src, 'lib', 'a.node'), Buffer.alloc(3000, 1));
  const first = tarGzFolder(src);
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(tarGzFolder(src), first, 'a second later: identical');
  const copy = join(root, 'copy');
  execFileSync('cp', ['-a', src, copy]);
  assert.deepEqual(tarGzFolder(copy), first, 'a copy keeping times: identical');
  writeFileSync(join(src, 'agent.js'), 'y\n');
  assert.notDeepEqual(tarGzFolder(src), first, 'other content: other bytes');
});

test('a symlink in the bundle is refused (the folder must be self-contained)', () => {
  const src = join(root, 'linked');
  mkdirSync(src);
  symlinkSync('/etc/hostname', join(src, 'link'));
  assert.throws(() => tarGzFolder(src), /not a plain file/);
});
