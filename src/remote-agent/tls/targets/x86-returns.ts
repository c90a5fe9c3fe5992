/**
 * Finds the RET instructions of a machine-code function: Go functions are probed at each RET,
 * because a uretprobe rewrites the return address on the stack and Go moves stacks (the program
 * crashes). iced-x86 (WASM, ~1.7 MB) is loaded only when a Go binary is found, so the agent pays
 * for it only then; the bundle keeps it as an external module next to koffi.
 */
import type * as IcedX86 from 'iced-x86';

/** The parts of iced-x86 used here. */
type Iced = Pick<typeof IcedX86, 'Decoder' | 'DecoderOptions' | 'Instruction' | 'Mnemonic'>;

let loading: Promise<Iced> | null = null;

/** The decoder module, loaded once on first use. */
export function loadX86Decoder(): Promise<Iced> {
  // A CommonJS module: its exports object is the ESM default export.
  loading ??= import('iced-x86').then((m): Iced => m.default);
  return loading;
}

/**
 * Offsets within `code` of every RET (near return, with or without an immediate) found by
 * decoding it from its start as 64-bit code; `ip` is the address of code[0] (for the decoder's
 * relative operands only). Undecodable bytes (padding) decode as INVALID and are stepped over.
 */
export function returnOffsets(iced: Iced, code: Uint8Array, ip: number): number[] {
  const decoder = new iced.Decoder(64, code, iced.DecoderOptions.None);
  const instr = new iced.Instruction();
  const out: number[] = [];
  try {
    decoder.ip = BigInt(ip);
    while (decoder.canDecode) {
      const at = decoder.position;
      decoder.decodeOut(instr);
      if (instr.mnemonic === iced.Mnemonic.Ret) out.push(at);
    }
  } finally {
    instr.free();
    decoder.free();
  }
  return out;
}
