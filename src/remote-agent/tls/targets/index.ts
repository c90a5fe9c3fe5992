/** What to hook: scans /proc for processes in the agent's network namespace and plans probes per library file. */
export { AHEAD_OF_USE, NO_LIBSSL_REASON, TargetScanner, type TargetScan, type TargetScanOptions } from './scan.ts';
export { STRIPPED_REASON } from './go-binary.ts';
