/**
 * The ELF reader against the binutils/LLVM tools' reading of real files on this machine (libssl.so.3,
 * a C program and a BPF object compiled here), and against hostile bytes: mutated and truncated
 * real files must give ElfError and nothing else, quickly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type Elf, ElfError, openElfFile, parseElf, PT_LOAD, SHT_REL, SHT_RELA, STT_FILE, STT_SECTION } from './elf.ts';

/** Symbols nm leaves out unless asked (-a). */
const STT_FILE_OR_SECTION = new Set([STT_FILE, STT_SECTION]);

const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';

let dir = '';
let cProgram = '';
let bpfObject = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ks-elf-'));
  writeFileSync(
    join(dir, 'prog.c'),
    'static int counter;\nint exported_value = 7;\nstatic int bump(int n) { return counter += n; }\nint main(int argc, char **argv) { (void)argv; return bump(argc) > 100; }\n',
  );
  cProgram = join(dir, 'prog');
  execFileSync('clang', ['-O1', '-o', cProgram, join(dir, 'prog.c')]);
  writeFileSync(
    join(dir, 'maps.bpf.c'),
    [
      '#include <linux/bpf.h>',
      '#include <bpf/bpf_helpers.h>',
      'struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");',
      'struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } ring SEC(".maps");',
      'volatile const __u32 cfg_a = 1;',
      'SEC("uprobe/one") int one(void *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) *v += cfg_a; return 0; }',
      'SEC("uprobe/two") int two(void *ctx) { __u32 k = 1; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) *v += 1; bpf_ringbuf_output(&ring, &k, 4, 0); return 0; }',
      'char LICENSE[] SEC("license") = "GPL";',
      '',
    ].join('\n'),
  );
  bpfObject = join(dir, 'maps.bpf.o');
  execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-I/usr/include/x86_64-linux-gnu', '-c', join(dir, 'maps.bpf.c'), '-o', bpfObject]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** `nm` lines "value type name" of defined symbols, as a sorted list of "name value". */
function nmDefined(args: readonly string[]): string[] {
  return run('nm', [...args, '--defined-only', '--without-symbol-versions'])
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^([0-9a-f]+) (\S) (.+)$/.exec(l);
      assert.ok(m, `unexpected nm line ${l}`);
      return `${m[3]} ${BigInt(`0x${m[1]}`)}`;
    })
    .sort();
}

function withElf<T>(path: string, f: (elf: Elf) => T): T {
  const elf = openElfFile(path);
  try {
    return f(elf);
  } finally {
    elf.close();
  }
}

describe('ELF reader on real files', () => {
  it('reads the defined .dynsym symbols of libssl.so.3 as nm -D does', () => {
    const ours = withElf(LIBSSL, (elf) =>
      elf
        .symbols('.dynsym')
        .filter((s) => s.sectionIndex !== 0)
        .map((s) => `${s.name} ${s.value}`)
        .sort(),
    );
    const truth = nmDefined(['-D', LIBSSL]);
    assert.ok(truth.length > 400, `nm found ${truth.length} symbols`);
    assert.deepEqual(ours, truth);
  });

  it('finds SSL_write and friends by name, with their type, binding and size as readelf shows', () => {
    const found = withElf(LIBSSL, (elf) => elf.findSymbols('.dynsym', ['SSL_write', 'SSL_read', 'SSL_write_ex', 'SSL_read_ex', 'no_such_symbol']));
    assert.deepEqual([...found.keys()].sort(), ['SSL_read', 'SSL_read_ex', 'SSL_write', 'SSL_write_ex']);
    const readelf = run('readelf', ['--dyn-syms', '-W', LIBSSL]);
    for (const [name, sym] of found) {
      const line = readelf.split('\n').find((l) => new RegExp(` ${name}@@`).test(l));
      assert.ok(line, `readelf lists ${name}`);
      const [, value, size, type, bind] = line.trim().split(/\s+/) as string[];
      assert.equal(sym.value, Number.parseInt(value ?? '', 16), name);
      assert.equal(sym.size, Number(size), name);
      assert.equal(type, 'FUNC');
      assert.equal(sym.type, 2);
      assert.equal(bind, 'GLOBAL');
      assert.equal(sym.bind, 1);
    }
  });

  it('reads .symtab (locals included) of a program compiled here as nm does', () => {
    const ours = withElf(cProgram, (elf) => {
      assert.equal(elf.hasSymbolTable('.symtab'), true);
      return elf
        .symbols('.symtab')
        .filter((s) => s.sectionIndex !== 0 && !STT_FILE_OR_SECTION.has(s.type) && s.name !== '')
        .map((s) => `${s.name} ${s.value}`)
        .sort();
    });
    assert.deepEqual(ours, nmDefined([cProgram]));
    assert.ok(ours.some((l) => l.startsWith('bump ')) || ours.some((l) => l.startsWith('main ')));
  });

  it('says a stripped file has no .symtab', () => {
    const stripped = join(dir, 'prog-stripped');
    copyFileSync(cProgram, stripped);
    execFileSync('strip', ['-s', stripped]);
    withElf(stripped, (elf) => {
      assert.equal(elf.hasSymbolTable('.symtab'), false);
      assert.deepEqual(elf.symbols('.symtab'), []);
      assert.ok(elf.symbols('.dynsym').length > 0);
    });
  });

  it('reads the PT_LOAD headers readelf -l shows, and maps SSL_write to the file bytes objdump decodes there', () => {
    withElf(LIBSSL, (elf) => {
      const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD).map((p) => [p.offset, p.vaddr, p.filesz, p.memsz]);
      const truth = run('readelf', ['-lW', LIBSSL])
        .split('\n')
        .filter((l) => /^\s+LOAD\s/.test(l))
        .map((l) => l.trim().split(/\s+/).slice(1, 6))
        .map(([off, va, , fsz, msz]) => [off, va, fsz, msz].map((x) => Number.parseInt(x ?? '', 16)));
      assert.deepEqual(loads, truth);

      const sym = elf.findSymbols('.dynsym', ['SSL_write']).get('SSL_write');
      assert.ok(sym);
      const off = elf.fileOffsetOf(sym.value);
      assert.ok(off !== null);
      const ours = Buffer.from(elf.readAt(off, 8, 'SSL_write')).toString('hex');
      const dump = run('objdump', ['-d', `--start-address=0x${sym.value.toString(16)}`, `--stop-address=0x${(sym.value + 8).toString(16)}`, LIBSSL]);
      const hex = [...dump.matchAll(/^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)/gm)].map((m) => (m[1] ?? '').replaceAll(' ', '')).join('');
      assert.equal(ours.slice(0, hex.length), hex);
      assert.ok(hex.length >= 8);
      // An address in no segment's file bytes (the .bss end of the RW segment, or past all) has no offset.
      assert.equal(elf.fileOffsetOf(0x7fff_ffff_ffff), null);
    });
  });

  it('reads the GNU build-id note readelf -n shows', () => {
    const truth = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', LIBSSL]))?.[1];
    assert.ok(truth);
    const note = withElf(LIBSSL, (elf) => elf.notes().find((n) => n.name === 'GNU' && n.type === 3));
    assert.ok(note);
    assert.equal(Buffer.from(note.desc).toString('hex'), truth);
  });

  it('reads section names and REL entries of a BPF object as llvm-readelf -r shows', () => {
    const elf = parseElf(readFileSync(bpfObject), 'maps.bpf.o');
    const truth = parseReadelfRelocations(run('llvm-readelf', ['-r', bpfObject]));
    assert.ok(truth.has('.reluprobe/one') && truth.has('.reluprobe/two'));
    const symbols = elf.symbols('.symtab');
    const symbolName = (i: number): string => {
      const sym = symbols[i];
      if (sym === undefined) return '';
      return sym.type === STT_SECTION ? (elf.sections[sym.sectionIndex]?.name ?? '') : sym.name;
    };
    for (const [section, want] of truth) {
      const s = elf.section(section);
      assert.ok(s, section);
      assert.equal(s.type, SHT_REL);
      const ours = elf.relocations(s).map((r) => ({ offset: r.offset, symbol: r.symbolIndex, type: r.type, name: symbolName(r.symbolIndex) }));
      assert.deepEqual(
        ours.map(({ offset, symbol, type }) => ({ offset, symbol, type })),
        want.map(({ offset, symbol, type }) => ({ offset, symbol, type })),
        section,
      );
      // Symbols come out with the name llvm-readelf prints (a section symbol by its section's name).
      assert.deepEqual(ours.map((r) => r.name), want.map((w) => w.name), section);
    }
    assert.ok(elf.section('.maps'));
    assert.ok(elf.section('uprobe/one'));
    const counts = symbols.find((s) => s.name === 'counts');
    assert.equal(counts?.sectionIndex, elf.section('.maps')?.index);
  });

  it('reads RELA entries with addends of libssl as llvm-readelf -r shows', () => {
    const truth = parseReadelfRelocations(run('llvm-readelf', ['-r', LIBSSL])).get('.rela.plt');
    assert.ok(truth && truth.length > 100);
    withElf(LIBSSL, (elf) => {
      const s = elf.section('.rela.plt');
      assert.ok(s);
      assert.equal(s.type, SHT_RELA);
      const ours = elf.relocations(s);
      assert.deepEqual(
        ours.map((r) => ({ offset: r.offset, symbol: r.symbolIndex, type: r.type })),
        truth.map(({ offset, symbol, type }) => ({ offset, symbol, type })),
      );
    });
  });
});

interface ReadelfRelocation {
  offset: number;
  symbol: number;
  type: number;
  name: string;
}

/** llvm-readelf -r: "Relocation section 'NAME' ..." then lines "offset info type [value name [+ addend]]". */
function parseReadelfRelocations(text: string): Map<string, ReadelfRelocation[]> {
  const out = new Map<string, ReadelfRelocation[]>();
  let current: ReadelfRelocation[] | null = null;
  for (const line of text.split('\n')) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      current = [];
      out.set(head[1] ?? '', current);
      continue;
    }
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+\S+(?:\s+[0-9a-f]+\s+(\S+))?/.exec(line);
    if (m && current) {
      const info = BigInt(`0x${m[2]}`);
      current.push({ offset: Number.parseInt(m[1] ?? '', 16), symbol: Number(info >> 32n), type: Number(info & 0xffffffffn), name: m[3] ?? '' });
    }
  }
  return out;
}

describe('ELF reader on hostile input', () => {
  /** Every reading the agent does, so a mutation anywhere is reached. */
  function readEverything(elf: Elf): void {
    for (const s of elf.sections) {
      elf.sectionData(s);
      if (s.type === SHT_REL || s.type === SHT_RELA) elf.relocations(s);
    }
    elf.symbols('.symtab');
    elf.symbols('.dynsym');
    elf.findSymbols('.symtab', ['main', 'counts']);
    elf.notes();
    for (const p of elf.programHeaders) elf.fileOffsetOf(p.vaddr);
  }

  function onlyElfErrors(bytes: Uint8Array): void {
    try {
      readEverything(parseElf(bytes, 'mutated'));
    } catch (err) {
      if (!(err instanceof ElfError)) throw err;
      assert.match(err.message, /^mutated: not a readable ELF64 little-endian file: /);
    }
  }

  for (const which of ['C program', 'BPF object'] as const) {
    it(`${which}: random byte changes and cuts give ElfError or a reading, nothing else`, () => {
      const original = readFileSync(which === 'C program' ? cProgram : bpfObject);
      readEverything(parseElf(original));
      // Mostly the headers and tables, where offsets and counts live.
      const position = fc.oneof(fc.nat({ max: 128 }), fc.nat({ max: original.length - 1 }), fc.integer({ min: Math.max(0, original.length - 2048), max: original.length - 1 }));
      fc.assert(
        fc.property(
          fc.array(fc.tuple(position, fc.oneof(fc.constant(0), fc.constant(0xff), fc.nat({ max: 255 }))), { minLength: 1, maxLength: 8 }),
          // A cut drops the section headers at the end: keep most inputs whole.
          fc.option(fc.nat({ max: original.length }), { nil: undefined, freq: 2 }),
          (changes, cut) => {
            const bytes = Buffer.from(original.subarray(0, cut ?? original.length));
            for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
            onlyElfErrors(bytes);
          },
        ),
        { numRuns: 3000 },
      );
    });
  }

  it('gives a clear message for a file that is not ELF, too short, or 32-bit', () => {
    assert.throws(() => parseElf(Buffer.from('#!/bin/sh\n'.padEnd(80, ' ')), 'script'), /script: not a readable ELF64 little-endian file: no ELF magic/);
    assert.throws(() => parseElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46]), 'tiny'), /4 bytes is shorter than an ELF64 header/);
    const elf32 = Buffer.from(readFileSync(cProgram).subarray(0, 64));
    elf32[4] = 1;
    assert.throws(() => parseElf(elf32, 'x'), /class 1 is not ELF64/);
  });

  it('refuses a section table that claims more bytes than the file has, without reading them', () => {
    const bytes = Buffer.from(readFileSync(cProgram));
    bytes.writeUInt16LE(0xfff0, 60); // e_shnum
    assert.throws(() => parseElf(bytes, 'many'), (err: unknown) => err instanceof ElfError && /section headers: bytes .* past the end of the file/.test(err.message));
  });

  it('refuses a section larger than the read limit', () => {
    const elf = parseElf(readFileSync(LIBSSL), 'libssl', { maxReadBytes: 4096, maxHeaders: 100 });
    const text = elf.section('.text');
    assert.ok(text);
    assert.throws(() => elf.sectionData(text), /section \.text: \d+ bytes is more than the 4096 read limit/);
  });

  it('a file truncated on disk after opening gives ElfError, not a short read', () => {
    const copy = join(dir, 'libssl-copy');
    copyFileSync(LIBSSL, copy);
    const elf = openElfFile(copy);
    try {
      truncateSync(copy, 4096);
      assert.throws(() => elf.symbols('.dynsym'), (err: unknown) => err instanceof ElfError && /file ends at/.test(err.message));
    } finally {
      elf.close();
    }
  });

  it('a path that is missing or a directory gives ElfError', () => {
    assert.throws(() => openElfFile(join(dir, 'nope')), /nope: not a readable ELF64 little-endian file: cannot open \(ENOENT\)/);
    assert.throws(() => openElfFile(dir), /not a regular file/);
  });
});
