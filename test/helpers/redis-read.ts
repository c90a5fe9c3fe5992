/**
 * Runs a capture file through the in-pod stages with the default dissectors, collecting Redis
 * entries as they are emitted (no ordering, naming or redaction: what the dissector's tests look at).
 */
import { readFileSync } from 'node:fs';
import { CapturePipeline } from '../../src/remote-agent/capture-pipeline.ts';
import type { RedisEntry } from '../../src/remote-agent/dissect/redis/entry.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { entriesOf } from './entries-of.ts';

export function dissectRedisCapture(file: string | Uint8Array): { entries: RedisEntry[]; stats: CaptureStats } {
  const stats = newCaptureStats();
  const entries: RedisEntry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(...entriesOf([e], 'redis')) });
  const parser = new CaptureFileParser(pipeline, stats);
  parser.push(typeof file === 'string' ? readFileSync(file) : file);
  parser.end();
  pipeline.finish();
  return { entries, stats };
}
