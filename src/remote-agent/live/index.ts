/**
 * Live packet source of the capture agent: AF_PACKET + TPACKET_V3 ring through koffi (Linux x86_64).
 * Importing this module loads no native code; the first openLiveCapture() does.
 */
export { openLiveCapture, type KernelCounters, type LiveCapture, type LiveCaptureOptions } from './live-capture.ts';
export { releaseIdleMemory, type IdleMemoryRelease } from './idle-memory.ts';
