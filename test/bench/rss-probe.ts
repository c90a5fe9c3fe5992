/**
 * Preloaded into the measured CLI (NODE_OPTIONS=--import) when /usr/bin/time is not installed:
 * writes the process's peak resident set size (KiB, getrusage ru_maxrss) to the file named by
 * SHARK_RSS_PROBE_OUT when the process exits.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.SHARK_RSS_PROBE_OUT;
if (out !== undefined && out !== '') {
  process.on('exit', () => {
    writeFileSync(out, `${process.resourceUsage().maxRSS}\n`);
  });
}
