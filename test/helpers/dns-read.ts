/**
 * Runs a capture file through the in-pod stages, collecting DNS entries as the dissectors emit them
 * (no ordering, naming or filtering: what the tests of the dissectors look at).
 */
import { readFileSync } from 'node:fs';
import { CapturePipeline } from '../../src/remote-agent/capture-pipeline.ts';
import { dnsDatagramDissector, dnsStreamDissector } from '../../src/remote-agent/dissect/dns/index.ts';
import type { DnsEntry } from '../../src/remote-agent/dissect/dns/entry.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { entriesOf } from './entries-of.ts';

export function dissectDnsCapture(file: string): { entries: DnsEntry[]; stats: CaptureStats } {
  const stats = newCaptureStats();
  const entries: DnsEntry[] = [];
  const pipeline = new CapturePipeline(
    stats,
    { entry: (e) => entries.push(...entriesOf([e], 'dns')) },
    { datagramDissectors: [dnsDatagramDissector], dissectors: [http1Dissector, dnsStreamDissector] },
  );
  const parser = new CaptureFileParser(pipeline, stats);
  parser.push(readFileSync(file));
  parser.end();
  pipeline.finish();
  return { entries, stats };
}
