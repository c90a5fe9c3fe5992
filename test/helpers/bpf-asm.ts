/**
 * A few eBPF instructions, encoded by hand (Documentation/bpf/standardization/instruction-set.rst),
 * for tests that need a program of their own to fill a map or a ring: the shipped programs come
 * from bpf/tls.bpf.o. Registers are numbers 0-10 (r10 is the frame pointer).
 */
export type Insn = readonly [opcode: number, dst: number, src: number, offset: number, imm: number];

export const asm = {
  mov64Reg: (dst: number, src: number): Insn => [0xbf, dst, src, 0, 0],
  mov64Imm: (dst: number, imm: number): Insn => [0xb7, dst, 0, 0, imm],
  add64Imm: (dst: number, imm: number): Insn => [0x07, dst, 0, 0, imm],
  /** *(u64 *)(dst + off) = src */
  stxDw: (dst: number, off: number, src: number): Insn => [0x7b, dst, src, off, 0],
  /** *(u32 *)(dst + off) = imm */
  stW: (dst: number, off: number, imm: number): Insn => [0x62, dst, 0, off, imm],
  /** if dst == imm goto pc + 1 + off */
  jeqImm: (dst: number, imm: number, off: number): Insn => [0x15, dst, 0, off, imm],
  call: (helper: number): Insn => [0x85, 0, 0, 0, helper],
  exit: (): Insn => [0x95, 0, 0, 0, 0],
  /** dst = the map whose fd is `fd` (ld_imm64 with src BPF_PSEUDO_MAP_FD): two instruction slots. */
  loadMapFd: (dst: number, fd: number): Insn[] => [
    [0x18, dst, 1, 0, fd],
    [0, 0, 0, 0, 0],
  ],
};

export const helpers = { ktimeGetNs: 5, ringbufOutput: 130, ringbufReserve: 131, ringbufDiscard: 133 };

export function encode(program: readonly (Insn | readonly Insn[])[]): Uint8Array {
  const insns = program.flatMap((i) => (typeof i[0] === 'number' ? [i as Insn] : (i as readonly Insn[])));
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach(([opcode, dst, src, offset, imm], n) => {
    view.setUint8(n * 8, opcode);
    view.setUint8(n * 8 + 1, (src << 4) | dst);
    view.setInt16(n * 8 + 2, offset, true);
    view.setInt32(n * 8 + 4, imm, true);
  });
  return out;
}
