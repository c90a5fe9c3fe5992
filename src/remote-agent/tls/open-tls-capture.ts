/**
 * TLS capture with the real parts, as the agent runs it: the loaded probes (probes/ openTlsProbes:
 * bpf/tls.bpf.o through our own loader) and one target scanner for the whole capture (targets/
 * TargetScanner over /proc). Loaded by the agent only with --tls.
 */
import { openTlsProbes } from './probes/index.ts';
import { TargetScanner } from './targets/index.ts';
import { openTlsCapture, type TlsCapture, type TlsCaptureOptions } from './tls-capture.ts';

export function openRealTlsCapture(options: TlsCaptureOptions): Promise<TlsCapture> {
  const scanner = new TargetScanner();
  return openTlsCapture(options, {
    openProbes: openTlsProbes,
    scanTargets: () => scanner.scanTargets(),
    forgetPlan: (key) => scanner.forgetPlan(key),
  });
}
