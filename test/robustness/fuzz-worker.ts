/**
 * Worker side of fuzz.test.ts: runs the listed cases and reports each case before starting it,
 * so the parent can name the case that hangs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadSeeds, makeCase, runCase, type CaseFailure } from './fuzz-cases.ts';
import { makeHttp2Case } from './http2-damage.ts';
import { makeWebSocketCase } from './websocket-damage.ts';

export interface WorkerJob {
  readonly masterSeed: number;
  readonly indexes: readonly number[];
  /** False: the seed corpus without test/fixtures (for reproducers found before they joined). */
  readonly fixtures?: boolean;
  /** 'websocket', 'http2': the cases of websocket-damage.ts or http2-damage.ts instead of the damaged seed captures. */
  readonly kind?: 'websocket' | 'http2';
}

export type WorkerMessage =
  | { readonly type: 'start'; readonly index: number; readonly description: string }
  | { readonly type: 'result'; readonly index: number; readonly failures: CaseFailure[]; readonly outcome: string; readonly entries: number }
  | { readonly type: 'done'; readonly seeds: number };

const port = parentPort;
if (port === null) throw new Error('fuzz-worker.ts must run as a worker thread');
const job = workerData as WorkerJob;

const seeds = loadSeeds({ fixtures: job.fixtures !== false });
for (const i of job.indexes) {
  const c = job.kind === 'websocket' ? makeWebSocketCase(job.masterSeed, i) : job.kind === 'http2' ? makeHttp2Case(job.masterSeed, i) : makeCase(seeds, job.masterSeed, i);
  port.postMessage({ type: 'start', index: i, description: c.description } satisfies WorkerMessage);
  const out = await runCase(c);
  port.postMessage({ type: 'result', index: i, failures: out.failures, outcome: out.readOutcome, entries: out.entries } satisfies WorkerMessage);
}
port.postMessage({ type: 'done', seeds: seeds.length } satisfies WorkerMessage);
