/**
 * The Go inspection of a real binary built here, then of the same binary with hostile changes where
 * the inspection trusts the file: the .go.buildinfo header and version, and the two crypto/tls
 * symbols' address and size. Only a plan, a reason or ElfError may come out, quickly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildGoTls, requireGo } from '../../../../test/helpers/go-tls.ts';
import { skipFor } from '../../../../test/helpers/requirements.ts';
import { ElfError, parseElf, SHT_SYMTAB } from '../elf.ts';
import { GO_READ, GO_WRITE, goVersion, inspectGoBinary } from './go-binary.ts';

const skip = skipFor(requireGo());
let dir = '';
let binary: Buffer = Buffer.alloc(0);

before(() => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'ks-go-binary-'));
  binary = readFileSync(buildGoTls(dir));
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('Go binary inspection', { skip }, () => {
  it('reads the version `go version BINARY` prints, and plans both functions', async () => {
    const elf = parseElf(binary, 'go-tls');
    const want = execFileSync('go', ['version', join(dir, 'go-tls')], { encoding: 'utf8' }).trim().split(' ').at(-1);
    assert.equal(goVersion(elf), want);
    const r = await inspectGoBinary(elf);
    assert.ok(r.kind === 'go' && r.hookable);
    assert.deepEqual(
      r.functions.map((f) => f.symbol),
      [GO_WRITE, GO_READ],
    );
  });

  it('hostile .go.buildinfo bytes and symbol addresses or sizes: a plan, a reason or ElfError, nothing else', async () => {
    const elf = parseElf(binary, 'go-tls');
    const buildinfo = elf.section('.go.buildinfo');
    const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
    assert.ok(buildinfo && symtab);
    // Byte offsets of the two symbols' st_value and st_size fields in the file.
    const symbols = elf.symbols('.symtab');
    const fields = [GO_WRITE, GO_READ].flatMap((name) => {
      const i = symbols.findIndex((s) => s.name === name);
      assert.ok(i > 0);
      return [symtab.offset + i * 24 + 8, symtab.offset + i * 24 + 16];
    });
    const spots = fc.oneof(
      fc.integer({ min: buildinfo.offset, max: buildinfo.offset + 63 }),
      fc.constantFrom(...fields).chain((f) => fc.integer({ min: f, max: f + 7 })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(spots, fc.nat({ max: 255 })), { minLength: 1, maxLength: 6 }), async (changes) => {
        const saved = changes.map(([at]) => [at, binary[at] ?? 0] as const);
        for (const [at, value] of changes) binary[at] = value;
        try {
          const r = await inspectGoBinary(parseElf(binary, 'mutated'));
          if (r.kind === 'go' && r.hookable) for (const f of r.functions) assert.ok(f.returnOffsets.length > 0);
        } catch (err) {
          if (!(err instanceof ElfError)) throw err;
        } finally {
          for (const [at, value] of saved.reverse()) binary[at] = value;
        }
      }),
      { numRuns: 300 },
    );
  });
});
