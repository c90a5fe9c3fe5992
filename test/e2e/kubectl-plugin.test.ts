/**
 * kubectl finds plugins named kubectl-<name> on PATH. With a symlink to bin/kubectl-shark on PATH (what
 * `npm link` creates), the real kubectl must list the plugin and run `kubectl shark read x.pcap -o json`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { LAUNCHER, parseNdjson, runCommand } from '../helpers/run-cli.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

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
