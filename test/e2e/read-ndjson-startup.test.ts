/**
 * What `read F.ndjson --filter Q` loads (issue 17, goal 2): saved entries are already dissected, so
 * reading them compiles neither the capture pipeline nor the dissectors behind it (start-up was a
 * third of the CPU of filtering 200 MB of NDJSON); a capture file still loads them. Checked on the
 * real launcher with the load hook of test/helpers/module-load-log.ts, the bundled CLI's files mapped
 * back to their sources (test/helpers/loaded-sources.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadedSources } from '../helpers/loaded-sources.ts';
import { runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const HOOK = join(REPO_ROOT, 'test', 'helpers', 'module-load-log.ts');
const work = mkdtempSync(join(tmpdir(), 'shark-ndjson-startup-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The capture pipeline and the stream dissectors' registry (which loads every dissector). */
const CAPTURE_PIPELINE = /^src\/remote-agent\/(capture-pipeline|dissect\/registry)\.ts$/;

async function readLoading(name: string, args: readonly string[]): Promise<{ loaded: string[]; stdout: string }> {
  const log = join(work, `${name}.modules`);
  const result = await runShark(args, {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${HOOK}`.trim(), SHARK_MODULE_LOG: log },
  });
  assert.equal(result.code, 0, result.stderr);
  return { loaded: loadedSources(readFileSync(log, 'utf8').split('\n').filter((line) => line !== '')), stdout: result.stdout };
}

test('read F.ndjson --filter loads neither the capture pipeline nor the dissectors; a capture does', async () => {
  const capture = join(sharedPcapsDir(), 'http', 'dvwa-login-keepalive-post.pcapng');
  const fromCapture = await readLoading('capture', ['read', capture, '-o', 'json', '-q']);
  assert.ok(fromCapture.loaded.some((url) => CAPTURE_PIPELINE.test(url)), 'the pattern names what a capture loads');
  const lines = fromCapture.stdout.split('\n').filter((line) => line !== '');
  assert.ok(lines.length > 1, `entries of ${capture}: ${lines.length}`);
  const saved = join(work, 'saved.ndjson');
  writeFileSync(saved, `${lines.join('\n')}\n`);
  const id = (JSON.parse(lines[0]!) as { id: string }).id;

  const fromNdjson = await readLoading('ndjson', ['read', saved, '-o', 'json', '-q', '--filter', `id == ${JSON.stringify(id)}`]);
  assert.ok(fromNdjson.loaded.some((url) => url === 'cmd/read.ts'), `the hook saw read itself: ${fromNdjson.loaded.length} modules`);
  assert.deepEqual(fromNdjson.loaded.filter((url) => CAPTURE_PIPELINE.test(url)), [], 'reading NDJSON loaded the capture pipeline');
  assert.deepEqual(fromNdjson.stdout, `${lines[0]}\n`, 'the filter still reads the saved entries');
});
