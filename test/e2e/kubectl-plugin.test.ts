/**
 * kubectl finds plugins named kubectl-<name> on PATH. With a symlink to bin/kubectl-shark on PATH (what
 * `npm link` creates), the real kubectl must list the plugin and run `kubectl shark read x.pcap -o json`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { LAUNCHER, parseNdjson, runCommand } from '../helpers/run-cli.ts';
import { REPO_ROOT, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

function findKubectl(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const kubectl = findKubectl();
const pcaps = sharedPcapsDir();
const skip = !kubectl ? 'kubectl is not installed on this machine' : false;
const pathDir = mkdtempSync(join(tmpdir(), 'shark-path-'));
after(() => rmSync(pathDir, { recursive: true, force: true }));

test('the real kubectl runs `kubectl shark read x.pcap -o json`', { skip }, async () => {
  symlinkSync(LAUNCHER, join(pathDir, 'kubectl-shark'));
  // Only our folder plus the system folders: the plugin must not depend on npm's PATH additions.
  const env = { ...process.env, PATH: [pathDir, '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter) };

  const list = await runCommand(kubectl!, ['plugin', 'list'], { env });
  assert.match(list.stdout, /kubectl-shark/, list.stderr);

  const res = await runCommand(kubectl!, ['shark', 'read', join(pcaps!, 'http/wordpress-comment-post.pcapng'), '-o', 'json'], { env });
  assert.equal(res.code, 0, res.stderr);
  const entries = parseNdjson<Entry>(res.stdout);
  assert.deepEqual(
    entries.map((e) => [e.request.method, e.request.path, e.response?.status]),
    [
      ['POST', '/wp-comments-post.php', 302],
      ['GET', '/', 200],
    ],
  );
});

test("README's word on `kubectl plugin list` warnings: one file seen through two PATH entries (as /bin -> /usr/bin)", { skip }, async () => {
  // A folder and a link to it, both on PATH: what /bin and /usr/bin are on merged-/usr systems.
  const real = join(pathDir, 'usr-bin');
  const link = join(pathDir, 'bin');
  mkdirSync(real);
  symlinkSync(real, link);
  symlinkSync(LAUNCHER, join(real, 'kubectl-shark'));
  const env = { ...process.env, PATH: [real, link, '/usr/bin'].join(delimiter) };
  const list = await runCommand(kubectl!, ['plugin', 'list'], { env });
  const said = list.stdout + list.stderr;
  assert.match(said, new RegExp(`${link}/kubectl-shark is overshadowed by a similarly named plugin: ${real}/kubectl-shark`));
  assert.match(said, /error: one plugin warning was found/);
  assert.equal(list.code, 1);
  // The check README gives: both names are one file.
  const resolved = execFileSync('readlink', ['-f', join(link, 'kubectl-shark'), join(real, 'kubectl-shark')], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(resolved.length, 2);
  assert.equal(resolved[0], resolved[1]);
  // README quotes kubectl's words and gives that check.
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  assert.match(readme, /`\/bin\/kubectl-shark is overshadowed by a similarly named plugin: \/usr\/bin\/kubectl-shark`/);
  assert.match(readme, /`error: one plugin warning was found`/);
  assert.match(readme, /`readlink -f \/bin\/kubectl-shark \/usr\/bin\/kubectl-shark`/);
});
