/**
 * Gives memory the C heap holds but no longer uses back to the kernel. The agent's start (parsing
 * its bundle, V8's compiler zones) and a burst of traffic leave megabytes of freed malloc memory
 * that glibc keeps mapped; in a tapped pod that memory counts against the pod's limit as RSS.
 */
import { loadLibc } from './libc.ts';

/** True when memory was trimmed; false where it cannot be (no koffi, no glibc). Never throws. */
export function returnFreedMemory(): boolean {
  try {
    return loadLibc().mallocTrim();
  } catch {
    return false;
  }
}
