/**
 * The CLI's compile cache (cmd/compile-cache.ts, issue 17): a start writes V8's code for its modules
 * under $XDG_CACHE_HOME/kubectl-shark/compile, and a cache directory that cannot be created changes
 * nothing the user sees (same output, same exit code, nothing on stderr).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runShark } from '../helpers/run-cli.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const work = mkdtempSync(join(tmpdir(), 'shark-compile-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));
const capture = join(sharedPcapsDir(), 'http', 'dvwa-login-keepalive-post.pcapng');
const { NODE_COMPILE_CACHE: _chosen, NODE_DISABLE_COMPILE_CACHE: _disabled, ...baseEnv } = process.env;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

test('read writes its compile cache under $XDG_CACHE_HOME/kubectl-shark/compile', async () => {
  const cacheHome = join(work, 'cache-home');
  const result = await runShark(['read', capture, '-o', 'json', '-q'], { env: { ...baseEnv, XDG_CACHE_HOME: cacheHome } });
  assert.equal(result.code, 0, result.stderr);
  const cached = filesUnder(join(cacheHome, 'kubectl-shark', 'compile'));
  // The bundle's files read loads (main and ~two dozen chunks: scripts/build-cli.ts) and the
  // dependencies it imports: 42 when measured.
  assert.ok(cached.length > 20, `${cached.length} modules cached`);
});

test('a cache directory that cannot be made changes neither output nor exit code', async () => {
  const notADirectory = join(work, 'a-file');
  writeFileSync(notADirectory, '');
  const plain = await runShark(['read', capture, '-o', 'json', '-q'], { env: { ...baseEnv, NODE_DISABLE_COMPILE_CACHE: '1' } });
  const unwritable = await runShark(['read', capture, '-o', 'json', '-q'], { env: { ...baseEnv, XDG_CACHE_HOME: notADirectory } });
  assert.equal(unwritable.code, 0, unwritable.stderr);
  assert.equal(unwritable.stderr, '');
  assert.ok(plain.stdout.length > 0);
  assert.equal(unwritable.stdout, plain.stdout);
});
