/**
 * TLS capture with the real parts: the probes (probes/ openTlsProbes) and the target scanner
 * (targets/ TargetScanner). PLACEHOLDER until the loader and target branches land on main.
 */
import { TlsUnavailableError } from './probe-api.ts';
import type { TlsCapture, TlsCaptureOptions } from './tls-capture.ts';

export async function openRealTlsCapture(_options: TlsCaptureOptions): Promise<TlsCapture> {
  throw new TlsUnavailableError('this agent was built without the TLS probes');
}
