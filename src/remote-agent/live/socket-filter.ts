/**
 * The classic BPF program attached to the capture socket, and the few-instruction assembler that
 * writes it. The kernel runs the program on every packet before it is copied into the ring, so
 * what it rejects costs us nothing.
 *
 * On a SOCK_DGRAM packet socket the link header is already pulled when the filter runs: absolute
 * loads count from the network header. Facts outside the packet come from ancillary loads at
 * SKF_AD_OFF + n (include/uapi/linux/filter.h, Documentation/networking/filter.rst):
 *   SKF_AD_PROTOCOL (0)  skb->protocol, converted to host order (0x0800, 0x86dd, ...)
 *   SKF_AD_PKTTYPE  (4)  skb->pkt_type (PACKET_HOST 0 ... PACKET_OUTGOING 4)
 *   SKF_AD_IFINDEX  (8)  skb->dev->ifindex
 * An absolute load past the end of the packet makes the program return 0: the packet is dropped.
 */

export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Opcode parts (include/uapi/linux/bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_ABS = 0x20;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_K = 0x00;
export const BPF_MAXINSNS = 4096;

export const SKF_AD_OFF = -0x1000;
export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const PACKET_OUTGOING = 4;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** IPv6 extension headers that may sit between the fixed header and TCP/UDP. */
const IPV6_EXTENSION_HEADERS = [0 /* hop-by-hop */, 43 /* routing */, 44 /* fragment */, 60 /* destination options */];

/** Bytes kept of an accepted packet; the 1 MiB ring block is the real bound. */
export const SNAP_LENGTH = 0x40000;

/** A jump target: a label name, or 'next' for the following instruction. */
export type Target = string;

export type Step =
  | { readonly op: 'ld'; readonly size: 'w' | 'h' | 'b'; readonly offset: number }
  | { readonly op: 'jeq'; readonly value: number; readonly ifTrue: Target; readonly ifFalse: Target }
  | { readonly op: 'ret'; readonly value: number }
  | { readonly op: 'label'; readonly name: string };

export const asm = {
  /** A <- the byte/half/word at `offset` of the packet (network byte order). */
  ld: (size: 'w' | 'h' | 'b', offset: number): Step => ({ op: 'ld', size, offset }),
  /** A <- an ancillary value (SKF_AD_*). */
  ldAncillary: (field: number): Step => ({ op: 'ld', size: 'w', offset: SKF_AD_OFF + field }),
  jeq: (value: number, ifTrue: Target, ifFalse: Target = 'next'): Step => ({ op: 'jeq', value, ifTrue, ifFalse }),
  ret: (value: number): Step => ({ op: 'ret', value }),
  label: (name: string): Step => ({ op: 'label', name }),
};

const SIZE_BITS = { w: BPF_W, h: BPF_H, b: BPF_B } as const;

/** Resolves labels into relative forward jumps (classic BPF cannot jump backwards). */
export function assemble(steps: readonly Step[]): SockFilter[] {
  const labels = new Map<string, number>();
  let index = 0;
  for (const step of steps) {
    if (step.op !== 'label') {
      index++;
      continue;
    }
    if (step.name === 'next' || labels.has(step.name)) throw new Error(`label '${step.name}' defined twice or reserved`);
    labels.set(step.name, index);
  }
  const out: SockFilter[] = [];
  const offsetTo = (target: Target, from: number): number => {
    if (target === 'next') return 0;
    const to = labels.get(target);
    if (to === undefined) throw new Error(`unknown label '${target}'`);
    const off = to - (from + 1);
    if (off < 0 || off > 255) throw new Error(`jump from ${from} to '${target}' (${to}) is not a forward jump of at most 255`);
    return off;
  };
  for (const step of steps) {
    switch (step.op) {
      case 'label':
        break;
      case 'ld':
        out.push({ code: BPF_LD | SIZE_BITS[step.size] | BPF_ABS, jt: 0, jf: 0, k: step.offset >>> 0 });
        break;
      case 'jeq':
        out.push({ code: BPF_JMP | BPF_JEQ | BPF_K, jt: offsetTo(step.ifTrue, out.length), jf: offsetTo(step.ifFalse, out.length), k: step.value >>> 0 });
        break;
      case 'ret':
        out.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: step.value >>> 0 });
        break;
    }
  }
  return out;
}

export interface CaptureFilterOptions {
  /** ifindex of `lo` in the capture's namespace; null leaves loopback duplicates in. */
  readonly loopbackIfindex: number | null;
}

/**
 * Accepts IPv4 and IPv6 packets carrying TCP or UDP (IPv6 also when an extension header comes
 * first: we cannot follow the chain here, the decoder does), and drops the outgoing copy of every
 * loopback packet: on `lo` each packet passes twice, once leaving and once arriving.
 */
export function captureFilterSteps(options: CaptureFilterOptions): Step[] {
  const { ld, ldAncillary, jeq, ret, label } = asm;
  const steps: Step[] = [];
  if (options.loopbackIfindex !== null && options.loopbackIfindex > 0) {
    steps.push(
      ldAncillary(SKF_AD_PKTTYPE),
      jeq(PACKET_OUTGOING, 'outgoing', 'protocol'),
      label('outgoing'),
      ldAncillary(SKF_AD_IFINDEX),
      jeq(options.loopbackIfindex, 'drop', 'protocol'),
    );
  }
  steps.push(
    label('protocol'),
    ldAncillary(SKF_AD_PROTOCOL),
    jeq(ETH_P_IP, 'ipv4'),
    jeq(ETH_P_IPV6, 'ipv6', 'drop'),
    label('ipv4'),
    ld('b', 9), // IPv4 protocol
    jeq(IPPROTO_TCP, 'accept'),
    jeq(IPPROTO_UDP, 'accept', 'drop'),
    label('ipv6'),
    ld('b', 6), // IPv6 next header
    jeq(IPPROTO_TCP, 'accept'),
    jeq(IPPROTO_UDP, 'accept'),
  );
  IPV6_EXTENSION_HEADERS.forEach((header, i) => {
    steps.push(jeq(header, 'accept', i === IPV6_EXTENSION_HEADERS.length - 1 ? 'drop' : 'next'));
  });
  steps.push(label('accept'), ret(SNAP_LENGTH), label('drop'), ret(0));
  return steps;
}

export function captureFilter(options: CaptureFilterOptions): SockFilter[] {
  return assemble(captureFilterSteps(options));
}

/** Problems that would make the kernel refuse the program (or let it run off its end); [] when fine. */
export function filterProblems(program: readonly SockFilter[]): string[] {
  const problems: string[] = [];
  if (program.length === 0 || program.length > BPF_MAXINSNS) problems.push(`length ${program.length} is not in 1..${BPF_MAXINSNS}`);
  program.forEach((insn, i) => {
    if ((insn.code & 0x07) !== BPF_JMP) return;
    // BPF_JA jumps by k; the conditional jumps by jt or jf.
    const offsets = (insn.code & 0xf0) === BPF_JA ? [insn.k] : [insn.jt, insn.jf];
    for (const off of offsets) {
      if (i + 1 + off >= program.length) problems.push(`instruction ${i} jumps past the end (+${off})`);
    }
  });
  const last = program[program.length - 1];
  if (last !== undefined && (last.code & 0x07) !== BPF_RET) problems.push('the last instruction is not a RET');
  return problems;
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian (the host order on x86_64). */
export function encodeFilter(program: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const dv = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    dv.setUint16(i * 8, insn.code, true);
    dv.setUint8(i * 8 + 2, insn.jt);
    dv.setUint8(i * 8 + 3, insn.jf);
    dv.setUint32(i * 8 + 4, insn.k, true);
  });
  return bytes;
}
