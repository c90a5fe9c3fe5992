/**
 * Uprobes as BPF uprobe_multi links (Linux 6.6): one link per (program, file) holds every offset
 * of that program in the file. Closing a link removes its uprobes with one wait for the kernel's
 * RCU grace periods, where a perf event per uprobe waits once per uprobe (~70 ms each here); and
 * nothing is a perf event, so `bpftool perf` lists none of them, `bpftool link` lists the links.
 */
import { BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI, BpfCallError, EBADF, fixedBytes, type BpfSyscalls } from './bpf-syscalls.ts';

/** `r0 = 0; exit`: the smallest program the verifier takes, used only to ask the kernel. */
function returnZero(): Uint8Array {
  const insns = fixedBytes(16);
  insns[0] = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K, r0, imm 0
  insns[8] = 0x95; // BPF_JMP | BPF_EXIT
  return insns;
}

/**
 * Whether this kernel makes uprobe_multi links, asked the way libbpf asks: a kprobe program loaded
 * for BPF_TRACE_UPROBE_MULTI, linked at offset 0 of "/". A kernel that knows the attach type looks
 * the path up and refuses a directory with EBADF, having placed nothing; an older one refuses the
 * attach type (EINVAL) or the program. Costs two bpf() calls and two close()s.
 */
export function kernelHasUprobeMulti(sys: BpfSyscalls): boolean {
  let progFd = -1;
  try {
    progFd = sys.loadProgram({ name: 'ks_multi_probe', type: BPF_PROG_TYPE_KPROBE, license: 'GPL', instructions: returnZero(), expectedAttachType: BPF_TRACE_UPROBE_MULTI });
  } catch (err) {
    if (err instanceof BpfCallError) return false;
    throw err;
  }
  try {
    const linkFd = sys.createUprobeMultiLink(progFd, { path: '/', offsets: [0], retprobe: false }, 'asking for uprobe_multi links');
    // Not expected (a directory has no text), but then the kernel does make them.
    sys.close(linkFd);
    return true;
  } catch (err) {
    if (err instanceof BpfCallError) return err.errno === EBADF;
    throw err;
  } finally {
    sys.close(progFd);
  }
}
