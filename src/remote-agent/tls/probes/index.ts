/**
 * The TLS probes' entry point (probe-api.ts): bpf/tls.bpf.o through our own loader, with the kernel
 * struct offsets its programs read from the running kernel's BTF (btf.ts).
 */
import type { TlsProbeOptions, TlsProbes } from '../probe-api.ts';
import { kernelOffsets } from './btf.ts';
import { openProbes } from './tls-probes.ts';

/** Throws TlsUnavailableError, in one sentence with what to do, when this kernel or process cannot run them. */
export function openTlsProbes(options: TlsProbeOptions): TlsProbes {
  return openProbes(options, { btf: { kernelOffsets } });
}
