/**
 * bpf/tls.bpf.o is committed (the agent's pod has no compiler): it must be what bpf/build.sh makes
 * from the sources beside it, byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { skipFor, missingCommand } from '../helpers/requirements.ts';

const BPF = resolve(import.meta.dirname, '../../bpf');
const missing = missingCommand('clang', 'apt-get install clang libbpf-dev') ?? (spawnSync('test', ['-f', '/usr/include/bpf/bpf_helpers.h']).status === 0 ? null : 'libbpf-dev headers are not installed (/usr/include/bpf/bpf_helpers.h)');

describe('bpf/tls.bpf.o', { skip: skipFor(missing) }, () => {
  it('is exactly what bpf/build.sh builds from bpf/tls.bpf.c and bpf/tls.h', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-bpf-object-'));
    try {
      const out = join(dir, 'tls.bpf.o');
      const build = spawnSync(join(BPF, 'build.sh'), [out], { encoding: 'utf8' });
      assert.equal(build.status, 0, `bpf/build.sh failed:\n${build.stderr}`);
      const rebuilt = readFileSync(out);
      const committed = readFileSync(join(BPF, 'tls.bpf.o'));
      const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
      assert.ok(
        rebuilt.equals(committed),
        `bpf/tls.bpf.o (${committed.length} bytes) differs from a fresh build (${rebuilt.length} bytes, ${clang}): run bpf/build.sh and commit bpf/tls.bpf.o with its sources`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the build is deterministic (two builds, same bytes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-bpf-object-'));
    try {
      for (const name of ['a.o', 'b.o']) assert.equal(spawnSync(join(BPF, 'build.sh'), [join(dir, name)]).status, 0);
      assert.ok(readFileSync(join(dir, 'a.o')).equals(readFileSync(join(dir, 'b.o'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
