/**
 * Fuzz cases for the HPACK decoder: header block sequences as an encoder would send them, then
 * damaged (bit flips, cuts, inserted and random bytes), and attacks: table size updates to huge
 * values and by the thousand, max-size entries inserted over and over, integers with hostile
 * continuation runs, megabyte Huffman strings, header lists of millions of fields. A case is a
 * pure function of (master seed, case index). `run` executes a range of cases (fuzz-hpack.test.ts
 * calls it in a worker with a time bound, bounded-run.ts) and reports what broke the rules:
 * an exception, a result of the wrong shape, a header list over its bound, a slow case.
 */
import { HpackDecoder, type HpackResult } from '../../src/remote-agent/dissect/http2/hpack.ts';
import { Prng } from '../bench/prng.ts';
import { HpackEncoder, hpackInteger, hpackString, huffmanEncode, type FieldLine } from '../helpers/hpack-encoder.ts';

export interface HpackCase {
  readonly index: number;
  readonly description: string;
  readonly synchronised: boolean;
  readonly maxHeaderListBytes?: number;
  /** SETTINGS_HEADER_TABLE_SIZE acknowledged before the first block (none: not seen). */
  readonly settings?: number;
  readonly blocks: readonly Uint8Array[];
}

const NAMES = [':method', ':path', ':authority', ':status', 'content-type', 'user-agent', 'grpc-timeout', 'x-id', 'cookie', 'te'];

function randomText(rng: Prng, max: number): string {
  return Buffer.from(rng.bytes(rng.logInt(1, max) - 1)).toString('latin1');
}

function randomField(rng: Prng): FieldLine {
  return {
    name: rng.chance(0.8) ? rng.pick(NAMES) : randomText(rng, 40),
    value: rng.chance(0.5) ? rng.pick(['', 'GET', '/', 'application/grpc', 'trailers', '10S']) : randomText(rng, 2000),
    rep: rng.pick(['indexed', 'indexed', 'incremental', 'without', 'never'] as const),
    nameRef: rng.chance(0.7),
    huffman: rng.chance(0.6),
  };
}

/** A connection's blocks as an encoder sends them. */
function validBlocks(rng: Prng, limit: number): Uint8Array[] {
  const enc = new HpackEncoder(4096);
  const n = rng.int(1, 20);
  return Array.from({ length: n }, (_, i) => {
    const updates = i === 0 && limit < 4096 ? [limit] : rng.chance(0.1) ? [rng.int(0, limit)] : [];
    return enc.encode(Array.from({ length: rng.int(0, 12) }, () => randomField(rng)), updates);
  });
}

function damage(rng: Prng, block: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = block.slice();
  switch (rng.int(0, 4)) {
    case 0: {
      const at = rng.int(0, b.length);
      return { bytes: b.subarray(0, at), what: `cut@${at}` };
    }
    case 1: {
      const n = rng.int(1, 8);
      for (let i = 0; i < n && b.length > 0; i++) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
      return { bytes: b, what: `flips(${n})` };
    }
    case 2: {
      const at = rng.int(0, b.length);
      const run = rng.bytes(rng.int(1, 40));
      return { bytes: Uint8Array.from([...b.subarray(0, at), ...run, ...b.subarray(at)]), what: `insert@${at}(${run.length})` };
    }
    case 3: {
      // A representation byte forced: indexed, literal or size update, at a random place.
      if (b.length > 0) b[rng.int(0, b.length - 1)] = rng.pick([0x80, 0xff, 0x40, 0x7f, 0x3f, 0x20, 0x1f, 0x0f, 0x00]);
      return { bytes: b, what: 'opcode' };
    }
    default:
      return { bytes: rng.bytes(rng.int(0, 600)), what: 'random' };
  }
}

/** `count` copies of `unit` back to back. */
function repeat(unit: readonly number[], count: number): Uint8Array {
  const out = new Uint8Array(unit.length * count);
  for (let i = 0; i < count; i++) out.set(unit, i * unit.length);
  return out;
}

const MAX_U32 = 0xffffffff;

function bytes(...parts: readonly (readonly number[] | Uint8Array)[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));
}

/** A string literal of already coded bytes (§5.2). */
function literalString(coded: readonly number[] | Uint8Array, huffman: boolean): Uint8Array {
  return bytes(hpackInteger(coded.length, 7, huffman ? 0x80 : 0), coded);
}

export function makeHpackCase(masterSeed: number, index: number): HpackCase {
  const rng = new Prng((masterSeed * 1_000_003 + index * 7919) >>> 0);
  const synchronised = rng.chance(0.5);
  const limit = rng.pick([256, 4096, 4096, 65536]);
  const settings = rng.chance(0.5) ? limit : undefined;
  const kind = rng.int(0, 9);
  const base = { index, synchronised, settings };
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      // Valid connections, some blocks damaged; a decoder joining at a random block.
      const blocks = validBlocks(rng, limit);
      const what: string[] = [];
      const out = blocks.slice(rng.int(0, blocks.length - 1)).map((b) => {
        if (!rng.chance(0.3)) return b;
        const d = damage(rng, b);
        what.push(d.what);
        return d.bytes;
      });
      return { ...base, description: `valid blocks, damaged: ${what.join(', ') || 'none'}`, blocks: out };
    }
    case 3: {
      // Random bytes with HPACK's representation bytes over-represented.
      const blocks = Array.from({ length: rng.int(1, 10) }, () =>
        Uint8Array.from({ length: rng.int(0, 3000) }, () => (rng.chance(0.3) ? rng.pick([0x80, 0xbe, 0xff, 0x40, 0x7f, 0x20, 0x3f, 0x10, 0x0f]) : rng.int(0, 255))),
      );
      return { ...base, description: 'random bytes', blocks };
    }
    case 4: {
      // Table size updates: huge, by the thousand, alternating 0 and the most a u32 holds.
      const n = rng.logInt(1, 100_000);
      const huge = rng.chance(0.5);
      const unit = huge ? [...hpackInteger(MAX_U32, 5, 0x20), ...hpackInteger(0, 5, 0x20)] : hpackInteger(rng.int(0, 70_000), 5, 0x20);
      const blocks = [repeat(unit, n), Uint8Array.from([...hpackInteger(MAX_U32, 5, 0x20), 0x82])];
      return { ...base, settings: rng.chance(0.3) ? undefined : rng.pick([MAX_U32, 4096]), description: `${n} size updates${huge ? ' (0 and 2^32-1)' : ''}`, blocks };
    }
    case 5: {
      // Entries as large as the table allows, inserted again and again (under a huge limit).
      const size = rng.pick([4096, 65536, 1 << 20]);
      const value = Buffer.alloc(size - 32 - 1, 'v').toString('latin1');
      const entry = bytes([0x40], hpackString('x'), rng.chance(0.5) ? literalString(huffmanEncode(value), true) : literalString(Buffer.from(value, 'latin1'), false));
      const count = rng.int(1, size > 65536 ? 8 : 40);
      const next = bytes(entry, [0xbe, 0xbf]);
      const blocks = [bytes(hpackInteger(size, 5, 0x20), entry), ...Array.from({ length: count }, () => next)];
      return { ...base, settings: rng.chance(0.3) ? undefined : MAX_U32, maxHeaderListBytes: 8 << 20, description: `${count + 1} inserts of ${size}-byte entries`, blocks };
    }
    case 6: {
      // Integers: a maximal prefix then continuation runs up to 10 bytes and more, in every
      // representation; then a few bytes that may or may not make sense.
      const blocks = Array.from({ length: rng.int(1, 20) }, () => {
        const first = rng.pick([0xff, 0x7f, 0x3f, 0x1f, 0x0f]);
        const run = Array.from({ length: rng.int(0, 12) }, () => rng.pick([0xff, 0x80, 0x8f, 0xf0]));
        return Uint8Array.from([first, ...run, rng.int(0, 0x7f), ...rng.bytes(rng.int(0, 8))]);
      });
      return { ...base, description: 'integer continuations', blocks };
    }
    case 7: {
      // Huge Huffman strings: valid text, all ones (EOS inside), random; as name and value.
      const size = rng.logInt(1000, 4 << 20);
      const flavour = rng.int(0, 2);
      // 'a0' four times is 40 bits: a 5-byte unit that repeats whole.
      const coded = flavour === 0 ? repeat(huffmanEncode('a0a0a0a0'), Math.ceil(size / 5)) : flavour === 1 ? new Uint8Array(size).fill(0xff) : rng.bytes(size);
      const literal = bytes([0x00], literalString(coded, true), hpackString('value'));
      return { ...base, description: `Huffman string of ${coded.length} bytes (${['text', 'ones', 'random'][flavour]})`, blocks: [literal] };
    }
    case 8: {
      // Huge header lists: millions of one-byte indexed fields, or literals of fresh strings.
      const n = rng.logInt(1000, 1_000_000);
      const unit = rng.chance(0.5) ? [0x82] : [0x00, 0x01, 0x61, 0x02, 0x62, 0x63];
      return { ...base, maxHeaderListBytes: rng.pick([256 * 1024, 1024, 16 << 20]), description: `${n} fields`, blocks: [repeat(unit, n)] };
    }
    default: {
      // Valid blocks cut at every length (a truncated header block, as a lost CONTINUATION leaves).
      const block = validBlocks(rng, limit)[0];
      const blocks = Array.from({ length: block.length + 1 }, (_, i) => block.subarray(0, i));
      return { ...base, description: `one block cut at each of ${block.length + 1} lengths`, blocks };
    }
  }
}

/** Per-case time bound: a hang detector with a wide margin (cases take milliseconds, the largest
 * about 100 ms alone; the machine may be shared). */
const CASE_BUDGET_MS = 10_000;

export interface HpackFuzzSummary {
  readonly cases: number;
  readonly blocksOk: number;
  readonly blocksFailed: number;
  readonly slowestMs: number;
  readonly slowest: string;
  readonly failures: readonly string[];
}

function check(r: HpackResult, maxHeaderListBytes: number): string | null {
  if (r.ok) {
    let bytes = 0;
    for (const f of r.fields) {
      if (typeof f.name !== 'string' || typeof f.value !== 'string') return 'a field that is not two strings';
      bytes += f.name.length + f.value.length + 32;
    }
    if (bytes > maxHeaderListBytes) return `header list of ${bytes} bytes over its bound ${maxHeaderListBytes}`;
    return null;
  }
  if (typeof r.reason !== 'string' || r.reason.length === 0 || !r.reason.startsWith('HPACK: ')) return `a failure without a reason: ${JSON.stringify(r.reason)}`;
  if (typeof r.desynchronised !== 'boolean') return 'desynchronised is not a boolean';
  return null;
}

/** Runs cases [first, first + count) of `masterSeed` (the entry point for runBounded). */
export function run(arg: { masterSeed: number; first: number; count: number }): HpackFuzzSummary {
  const failures: string[] = [];
  let blocksOk = 0;
  let blocksFailed = 0;
  let slowestMs = 0;
  let slowest = '';
  for (let index = arg.first; index < arg.first + arg.count; index++) {
    const c = makeHpackCase(arg.masterSeed, index);
    const started = performance.now();
    const maxList = c.maxHeaderListBytes ?? 256 * 1024;
    try {
      const dec = new HpackDecoder({ synchronised: c.synchronised, maxHeaderListBytes: c.maxHeaderListBytes });
      if (c.settings !== undefined) dec.setMaxTableSize(c.settings);
      for (const block of c.blocks) {
        const r = dec.decode(block);
        const bad = check(r, maxList);
        if (bad !== null) failures.push(`case ${index} (${c.description}): ${bad}`);
        if (r.ok) blocksOk++;
        else blocksFailed++;
        if (typeof dec.synchronised !== 'boolean') failures.push(`case ${index}: synchronised is not a boolean`);
      }
    } catch (err) {
      failures.push(`case ${index} (${c.description}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const took = performance.now() - started;
    if (took > slowestMs) {
      slowestMs = took;
      slowest = `case ${index} (${c.description})`;
    }
    if (took > CASE_BUDGET_MS) failures.push(`case ${index} (${c.description}) took ${took.toFixed(0)} ms`);
  }
  return { cases: arg.count, blocksOk, blocksFailed, slowestMs, slowest, failures };
}
