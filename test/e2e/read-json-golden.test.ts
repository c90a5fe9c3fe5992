/**
 * Guard for the read path's optimisations (issue 17): `kubectl shark read F -o json` must write the
 * same bytes, and the same summary on stderr, for every capture of the corpus (test/fixtures/pcaps),
 * the demo recording and a few generated captures (the read benchmark's shapes, plus reordered and
 * retransmitted segments), as the code did when the digests in read-json-golden.json were recorded.
 *
 * After a deliberate change of the output, record the digests again with
 *   SHARK_RECORD_GOLDEN=1 node --import tsx --test test/e2e/read-json-golden.test.ts
 * and say in the commit why the bytes changed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { CAPTURE_PRESETS, writeHttpCapture, type HttpCaptureOptions } from '../bench/make-http-capture.ts';
import { runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT, VENDORED_PCAPS_DIR, captureFilesUnder } from '../helpers/shared-pcaps.ts';

const GOLDEN = join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'read-json-golden.json');
const RECORD = process.env['SHARK_RECORD_GOLDEN'] === '1';

interface Digest {
  readonly stdoutSha256: string;
  readonly stdoutBytes: number;
  readonly lines: number;
  readonly stderrSha256: string;
  readonly code: number | null;
}

/** Generated captures (a few MB each), named by what they exercise. */
const GENERATED: Readonly<Record<string, HttpCaptureOptions>> = {
  'generated/default-3MiB.pcap': { targetBytes: 3 * 1024 * 1024, seed: 11 },
  'generated/issue-3MiB.pcap': { ...CAPTURE_PRESETS.issue, targetBytes: 3 * 1024 * 1024, seed: 12 },
  'generated/small-2MiB.pcap': { ...CAPTURE_PRESETS.small, targetBytes: 2 * 1024 * 1024, seed: 13 },
  'generated/damaged-3MiB.pcap': { ...CAPTURE_PRESETS.issue, targetBytes: 3 * 1024 * 1024, seed: 14, reorderRatio: 0.03, duplicateRatio: 0.03 },
};


const tmp = mkdtempSync(join(tmpdir(), 'shark-golden-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const cases: { name: string; path: () => string }[] = [
  ...[...captureFilesUnder(VENDORED_PCAPS_DIR), ...captureFilesUnder(join(REPO_ROOT, 'assets', 'demo'))].map((path) => ({
    name: relative(REPO_ROOT, path),
    path: () => path,
  })),
  ...Object.entries(GENERATED).map(([name, opts]) => ({
    name,
    path: () => {
      const path = join(tmp, name.replace('/', '-'));
      writeHttpCapture(path, opts);
      return path;
    },
  })),
];

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

const golden: Record<string, Digest> = RECORD ? {} : (JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, Digest>);

for (const c of cases) {
  test(`read -o json of ${c.name} writes the recorded bytes`, async () => {
    const res = await runShark(['read', c.path(), '-o', 'json']);
    // Warnings name the input: compare them without the checkout's or the temporary directory.
    const stderr = res.stderr.split(tmp).join('<tmp>').split(REPO_ROOT).join('<repo>');
    const got: Digest = {
      stdoutSha256: sha256(res.stdoutBytes),
      stdoutBytes: res.stdoutBytes.length,
      lines: res.stdout.split('\n').length - 1,
      stderrSha256: sha256(stderr),
      code: res.code,
    };
    if (RECORD) {
      golden[c.name] = got;
      return;
    }
    assert.deepEqual(got, golden[c.name], `${c.name}: stderr now:\n${stderr.slice(-2000)}`);
  });
}

// Last, so that when recording it checks what the tests above recorded.
test('the golden file covers exactly the captures there are', () => {
  assert.deepEqual(Object.keys(golden).sort(), cases.map((c) => c.name).sort());
});

after(() => {
  if (RECORD) writeFileSync(GOLDEN, `${JSON.stringify(golden, null, 1)}\n`);
});
