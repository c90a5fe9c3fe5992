/** What every pairing helper counts (fifo.ts, by-id.ts): a capture run's stats have these fields. */
import type { CaptureStats } from '../../stats.ts';

/** Requests handed out unanswered, and responses without a request (counted, not emitted). */
export type PairingCounters = Pick<CaptureStats, 'unpairedRequests' | 'orphanResponses'>;
