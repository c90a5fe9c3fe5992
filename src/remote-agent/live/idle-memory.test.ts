/**
 * Giving idle memory back (idle-memory.ts): which mappings are named (read-only file mappings only,
 * never data), and what a real process gives back (as root, with its own copy of node, as in the
 * pod's capture container: pages another process maps stay resident).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Libc } from './libc.ts';
import { MADV_PAGEOUT, readOnlyFileMappings, releaseIdleMemory } from './idle-memory.ts';
import { NODE, REPO_ROOT } from '../../../test/helpers/capture.ts';
import { missingRoot, skipFor } from '../../../test/helpers/requirements.ts';

const MAPS = [
  '00400000-00746000 r--p 00000000 103:02 1234 /opt/node/bin/node',
  '0074a000-03044000 r-xp 0034a000 103:02 1234 /opt/node/bin/node',
  '06b56000-06b7d000 rw-p 06755000 103:02 1234 /opt/node/bin/node',
  '06b7d000-06bb0000 rw-p 00000000 00:00 0 ',
  '0a7d1000-0b1f0000 rw-p 00000000 00:00 0                          [heap]',
  '7f1c2a000000-7f1c2a400000 rw-s 00000000 00:08 4410124            socket:[4410124]',
  '7f1c2b000000-7f1c2b028000 r--p 00000000 103:02 77 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f1c2b028000-7f1c2b1bd000 r-xp 00028000 103:02 77 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f1c2b400000-7f1c2b500000 r--s 00000000 103:02 99 /dev/shm/shared-readonly',
  '7f1c2b600000-7f1c2b700000 r--p 00000000 103:02 88 /tmp/with space/lib x.so (deleted)',
  '7f1c2b800000-7f1c2b801000 rwxp 00000000 103:02 66 /tmp/jit-code',
  '7ffd4e5f0000-7ffd4e5f2000 r-xp 00000000 00:00 0                  [vdso]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0          [vsyscall]',
  'not a maps line',
  '',
].join('\n');

test('only read-only private file mappings are named: never the heaps, the ring, writable or shared ones', () => {
  const named = readOnlyFileMappings(MAPS).map((m) => `${m.start.toString(16)}+${m.length.toString(16)} ${m.path}`);
  assert.deepEqual(named, [
    '400000+346000 /opt/node/bin/node',
    '74a000+28fa000 /opt/node/bin/node',
    '7f1c2b000000+28000 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f1c2b028000+195000 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f1c2b600000+100000 /tmp/with space/lib x.so (deleted)',
  ]);
});

test('each named mapping gets MADV_PAGEOUT, a refusal is counted and the rest go on, then the C heap is trimmed', () => {
  const calls: string[] = [];
  const libc = {
    madvise: (address: bigint, length: number, advice: number) => {
      calls.push(`${address.toString(16)} ${length} ${advice}`);
      return address === 0x74a000n ? -1 : 0;
    },
    mallocTrim: () => {
      calls.push('trim');
      return null;
    },
  } as Pick<Libc, 'madvise' | 'mallocTrim'> as Libc;
  const report = releaseIdleMemory(libc, MAPS);
  assert.deepEqual(calls, [`400000 ${0x346000} ${MADV_PAGEOUT}`, `74a000 ${0x28fa000} ${MADV_PAGEOUT}`, `7f1c2b000000 ${0x28000} ${MADV_PAGEOUT}`, `7f1c2b028000 ${0x195000} ${MADV_PAGEOUT}`, `7f1c2b600000 ${0x100000} ${MADV_PAGEOUT}`, 'trim']);
  assert.deepEqual(report, { mappings: 4, bytes: 0x346000 + 0x28000 + 0x195000 + 0x100000, refused: 1, cHeapTrimmed: null });
});

// Paging out file pages is allowed to the file's owner: root owns node here.
const rootSkip = skipFor(missingRoot('paging out the pages of a root-owned node executable'));

/** VmRSS, RssFile and RssAnon of a process, MiB. */
function rssOf(pid: number): { rss: number; file: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), file: kb('RssFile'), anon: kb('RssAnon') };
}

test('a node process that gave its idle memory back holds far fewer pages of its executable, and works on', { skip: rootSkip, timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-idle-memory-'));
  try {
    // Its own node, as in the pod: the test runner's node maps the same executable's pages otherwise.
    const node = join(dir, 'node');
    copyFileSync(realpathSync(NODE), node);
    const script = [
      `const { releaseIdleMemory } = await import(${JSON.stringify(join(REPO_ROOT, 'src/remote-agent/live/idle-memory.ts'))});`,
      // Work that touches much of the executable (the TypeScript loader already did), then wait.
      `process.stdout.write('ready\\n');`,
      `process.stdin.once('data', () => { const r = releaseIdleMemory(); process.stdout.write(JSON.stringify(r) + '\\n');`,
      `  process.stdin.once('data', () => { process.stdout.write(String([1, 2, 3].map((x) => x * 2).reduce((a, b) => a + b)) + '\\n'); process.exit(0); }); });`,
    ].join('\n');
    const child = spawn(node, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      rest += d;
      const parts = rest.split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
    const line = async (n: number): Promise<string> => {
      for (let i = 0; i < 600 && lines.length < n; i++) await sleep(50);
      assert.ok(lines.length >= n, `line ${n} from the child: ${JSON.stringify(lines)}`);
      return lines[n - 1]!;
    };
    assert.equal(await line(1), 'ready');
    await sleep(500);
    const before = rssOf(child.pid!);
    child.stdin.write('release\n');
    const report = JSON.parse(await line(2)) as ReturnType<typeof releaseIdleMemory>;
    const after = rssOf(child.pid!);
    t.diagnostic(`release ${JSON.stringify(report)}; RSS ${before.rss.toFixed(1)} -> ${after.rss.toFixed(1)} MB (file ${before.file.toFixed(1)} -> ${after.file.toFixed(1)}, anon ${before.anon.toFixed(1)} -> ${after.anon.toFixed(1)})`);
    assert.ok(report.mappings >= 2 && report.refused === 0, `mappings paged out: ${JSON.stringify(report)}`);
    assert.equal(report.cHeapTrimmed === null, false, 'glibc here: malloc_trim answers');
    assert.ok(after.file < before.file / 2, `file-backed RSS ${before.file.toFixed(1)} -> ${after.file.toFixed(1)} MB: less than half stays`);
    assert.ok(before.rss - after.rss >= 15, `RSS ${before.rss.toFixed(1)} -> ${after.rss.toFixed(1)} MB: at least 15 MB given back`);
    // The pages it needs again are read back: it computes and answers.
    child.stdin.write('go on\n');
    assert.equal(await line(3), '12');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
