/**
 * tls-overhead.ts's figures for `npm run bench`'s table (figures.ts): what the agent's probes cost
 * nginx (its requests/s beside nginx alone, measured in the same run), and at fixed request rates
 * the agent's CPU and its lost probe events, so the growth table can say how the cost follows the
 * rate.
 */
import type { BenchFigure } from './figures.ts';

/** One measured row of the benchmark (a scenario under h2load). */
export interface TlsRow {
  readonly label: string;
  /** Requests/s asked of h2load, null when unthrottled. */
  readonly offered: number | null;
  /** Requests/s achieved. */
  readonly rps: number;
  readonly requests: number;
  readonly started: number;
  readonly entries: number | null;
  /** Null when the agent reported no TLS counters (it did not hook nginx). */
  readonly lostEvents: number | null;
  readonly agentCpuPercent: number | null;
}

export interface TlsOverheadRun {
  /** nginx alone: the mean of a run before and one after the agent's rows. */
  readonly baseRps: number;
  readonly connections: number;
  readonly packetsOnly: TlsRow;
  readonly tlsUnthrottled: TlsRow;
  /** The agent --tls at each fixed rate, in the order run. */
  readonly tlsFixed: readonly TlsRow[];
}

const BENCH = 'tls-overhead';

export function tlsOverheadFigures(r: TlsOverheadRun): BenchFigure[] {
  const unthrottled = `${r.connections} connections, unthrottled`;
  const alone = { name: 'nginx alone (no agent), mean of a run before and after', value: Math.round(r.baseRps) };
  const out: BenchFigure[] = [
    { bench: BENCH, figure: 'nginx TLS 1.3 req/s, agent capturing packets only', size: unthrottled, sizeValue: r.connections, ours: r.packetsOnly.rps, unit: 'req/s', higherIsBetter: true, peer: alone },
    { bench: BENCH, figure: 'nginx TLS 1.3 req/s, agent --tls (uprobes on libssl)', size: unthrottled, sizeValue: r.connections, ours: r.tlsUnthrottled.rps, unit: 'req/s', higherIsBetter: true, peer: alone },
  ];
  for (const row of r.tlsFixed) {
    if (row.offered === null) continue;
    // The work is the rate served: on a busy machine nginx with the probes may serve less than asked.
    const size = `${row.offered.toLocaleString('en-US')} req/s offered, ${row.rps.toLocaleString('en-US')} served`;
    if (row.agentCpuPercent !== null) {
      out.push({ bench: BENCH, figure: 'agent --tls CPU at a fixed request rate', size, sizeValue: row.rps, ours: row.agentCpuPercent, unit: '% of a core', higherIsBetter: false });
    }
    // Without TLS counters there is nothing to count: the benchmark's notices say why.
    if (row.lostEvents !== null) {
      out.push({ bench: BENCH, figure: 'lost TLS probe events at a fixed request rate', size, sizeValue: row.rps, ours: row.lostEvents, unit: 'events', higherIsBetter: false, goal: '0', met: row.lostEvents === 0 });
    }
  }
  return out;
}
