/**
 * HPACK's static Huffman code (RFC 7541 §5.2, Appendix B): decoding of Huffman-coded string
 * literals, one input byte per table lookup.
 *
 * The code in Appendix B is canonical: within one code length, codes are consecutive and follow
 * symbol order, and each length's first code follows the previous length's last code, shifted.
 * So the spec's table is fully given by the code length of each symbol, which is what
 * HUFFMAN_CODE_LENGTHS holds; the codes are rebuilt from it at module load (and huffman.test.ts
 * checks them against codes written out in the RFC).
 *
 * Decoding is a state machine over the 256 internal nodes of the code tree, built once at load:
 * for every (state, input byte) it stores the state after the byte's 8 bits, the 0 to 2 symbols
 * completed on the way (the shortest code is 5 bits), and whether EOS was completed. The decode
 * loop is then one lookup and a few shifts per byte, writing into a reused scratch buffer: nothing
 * is allocated per bit or per symbol, one string per literal.
 */

/** Code length in bits of symbols 0..255 and EOS (256), from RFC 7541 Appendix B. */
// prettier-ignore
export const HUFFMAN_CODE_LENGTHS: readonly number[] = Object.freeze([
  // 0x00-0x0f
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  // 0x10-0x1f
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 0x20-0x2f   ' '  !   "   #   $   %   &   '   (   )   *   +   ,   -   .   /
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  // 0x30-0x3f    0  1  2  3  4  5  6  7  8  9  :  ;   <  =   >   ?
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 0x40-0x4f    @  A  B  C  D  E  F  G  H  I  J  K  L  M  N  O
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  // 0x50-0x5f   P  Q  R  S  T  U  V  W  X  Y  Z   [   \   ]   ^  _
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 0x60-0x6f    `  a  b  c  d  e  f  g  h  i  j  k  l  m  n  o
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  // 0x70-0x7f   p  q  r  s  t  u  v  w  x  y  z   {   |   }   ~  DEL
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 0x80-0x8f
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  // 0x90-0x9f
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  // 0xa0-0xaf
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  // 0xb0-0xbf
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  // 0xc0-0xcf
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  // 0xd0-0xdf
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  // 0xe0-0xef
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  // 0xf0-0xff
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // EOS
  30,
]);

/** The end-of-string symbol: its code's leading bits are the only valid padding (§5.2). */
export const EOS = 256;

/** Codes of symbols 0..256, right-aligned (the low HUFFMAN_CODE_LENGTHS[sym] bits). */
export const HUFFMAN_CODES: Uint32Array = canonicalCodes(HUFFMAN_CODE_LENGTHS);

/** Why a Huffman string was rejected (RFC 7541 §5.2: both are decoding errors). */
export type HuffmanFault = { readonly fault: 'eos' | 'padding' };

/** The string contains the EOS symbol. */
export const HUFFMAN_EOS: HuffmanFault = Object.freeze({ fault: 'eos' });
/** The string ends with more than 7 bits of padding, or padding that is not all ones. */
export const HUFFMAN_BAD_PADDING: HuffmanFault = Object.freeze({ fault: 'padding' });

/**
 * Decodes the Huffman-coded bytes `src[start..end)` into a string with one char per octet
 * (latin1: char code = byte value, no byte lost or merged), or says why they are not a valid
 * Huffman string.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | HuffmanFault {
  // At most 8/5 output bytes per input byte: the shortest code is 5 bits.
  const out = scratchFor(Math.ceil(((end - start) * 8) / 5));
  const { steps, accepting } = huffmanTables();
  let state = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const step = steps[(state << 8) | src[i]];
    if (step & STEP_EOS) return HUFFMAN_EOS;
    const emitted = (step >>> STEP_COUNT_SHIFT) & 3;
    if (emitted !== 0) {
      out[o++] = (step >>> STEP_SYM1_SHIFT) & 0xff;
      if (emitted === 2) out[o++] = (step >>> STEP_SYM2_SHIFT) & 0xff;
    }
    state = step & 0xff;
  }
  if (accepting[state] === 0) return HUFFMAN_BAD_PADDING;
  return out.toString('latin1', 0, o);
}

// --- the code tree and the byte-step table, built once ---------------------------------------

// A step packs: next state (bits 0-7), symbols completed (bits 8-9), EOS completed (bit 10),
// first symbol (bits 11-18), second symbol (bits 19-26).
const STEP_COUNT_SHIFT = 8;
const STEP_EOS = 1 << 10;
const STEP_SYM1_SHIFT = 11;
const STEP_SYM2_SHIFT = 19;

function canonicalCodes(lengths: readonly number[]): Uint32Array {
  const order = lengths.map((_, sym) => sym).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let prevLen = lengths[order[0]];
  for (const sym of order) {
    code *= 2 ** (lengths[sym] - prevLen);
    prevLen = lengths[sym];
    codes[sym] = code;
    code++;
  }
  return codes;
}

interface CodeTree {
  /** Child of internal node n for bit b at [2n + b]: >= 0 an internal node, < 0 the leaf -(sym + 1). */
  readonly children: Int32Array;
  /** Per internal node: 1 when it is reached from the root by 0 to 7 one-bits (valid padding). */
  readonly accepting: Uint8Array;
}

function buildTree(): CodeTree {
  // 257 leaves make 256 internal nodes; node 0 is the root.
  const children = new Int32Array(2 * 256).fill(0x7fffffff);
  const accepting = new Uint8Array(256);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = HUFFMAN_CODE_LENGTHS[sym];
    const code = HUFFMAN_CODES[sym];
    let node = 0;
    for (let bit = len - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (children[slot] === 0x7fffffff) children[slot] = nodes++;
      node = children[slot];
    }
    children[2 * node + (code & 1)] = -(sym + 1);
  }
  for (let node = 0, depth = 0; depth <= 7; depth++) {
    accepting[node] = 1;
    node = children[2 * node + 1];
  }
  return { children, accepting };
}

interface HuffmanTables {
  /** The byte-step table: [(state << 8) | byte] -> a packed step (see STEP_*). */
  readonly steps: Uint32Array;
  /** Per state: 1 when the string may end there (CodeTree.accepting). */
  readonly accepting: Uint8Array;
}

let tables: HuffmanTables | undefined;

/**
 * The tables, built on first use, in the CLI and the agent alike: a capture without HTTP/2 never
 * needs them, and building them costs ~10-20 ms CPU and ~6 MB of RSS that stays (their loops start
 * V8's optimising compiler), which an idle agent would hold in the tapped pod for nothing. Built on
 * the first Huffman string, the stall is one such pause, which the capture ring absorbs. (Commit
 * 6907b7b blamed it for lost Go TLS entries; those were connections split by an fd reused before
 * its records were handled, fixed since: test/e2e/tls-go.test.ts.)
 */
function huffmanTables(): HuffmanTables {
  if (tables === undefined) {
    const tree = buildTree();
    tables = { steps: buildSteps(tree.children), accepting: tree.accepting };
  }
  return tables;
}

function buildSteps(children: Int32Array): Uint32Array {
  const steps = new Uint32Array(256 * 256);
  for (let state = 0; state < 256; state++) {
    for (let byte = 0; byte < 256; byte++) {
      let node = state;
      let count = 0;
      let syms = 0;
      let eos = 0;
      for (let bit = 7; bit >= 0; bit--) {
        const child = children[2 * node + ((byte >>> bit) & 1)];
        if (child >= 0) {
          node = child;
          continue;
        }
        const sym = -child - 1;
        if (sym === EOS) eos = STEP_EOS;
        else syms |= sym << (count === 0 ? STEP_SYM1_SHIFT : STEP_SYM2_SHIFT);
        count++;
        node = 0;
      }
      steps[(state << 8) | byte] = (node | (count << STEP_COUNT_SHIFT) | eos | syms) >>> 0;
    }
  }
  return steps;
}

// Output goes to one module-wide buffer, reused by every call (decoding is synchronous). It grows
// to the longest string met, but a string past SCRATCH_KEEP bytes gets a buffer of its own, so a
// hostile huge literal does not keep memory after it.
const SCRATCH_KEEP = 64 * 1024;
let scratch = Buffer.allocUnsafe(1024);

function scratchFor(bytes: number): Buffer {
  if (bytes <= scratch.length) return scratch;
  if (bytes > SCRATCH_KEEP) return Buffer.allocUnsafe(bytes);
  scratch = Buffer.allocUnsafe(SCRATCH_KEEP);
  return scratch;
}
