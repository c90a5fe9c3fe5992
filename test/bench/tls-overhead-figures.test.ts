import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tlsOverheadFigures, type TlsRow } from './tls-overhead-figures.ts';

const row = (label: string, offered: number | null, rps: number, lostEvents: number | null, agentCpuPercent: number | null): TlsRow => ({ label, offered, rps, requests: rps * 8, started: rps * 8 + 16, entries: rps * 8, lostEvents, agentCpuPercent });

test('the probes beside nginx alone, and each fixed rate as a size of the CPU and lost-event figures', () => {
  const figures = tlsOverheadFigures({
    baseRps: 20_500.4,
    connections: 16,
    packetsOnly: row('agent, packets only', null, 20_100, null, 30),
    tlsUnthrottled: row('agent --tls', null, 4800, 0, 50),
    tlsFixed: [row('1k', 1000, 1000, 0, 8), row('5k', 5000, 4700, 2, 40), row('no tls', 2500, 2500, null, null)],
  });
  const alone = { name: 'nginx alone (no agent), mean of a run before and after', value: 20_500 };
  assert.deepEqual(figures, [
    { bench: 'tls-overhead', figure: 'nginx TLS 1.3 req/s, agent capturing packets only', size: '16 connections, unthrottled', sizeValue: 16, ours: 20_100, unit: 'req/s', higherIsBetter: true, peer: alone },
    { bench: 'tls-overhead', figure: 'nginx TLS 1.3 req/s, agent --tls (uprobes on libssl)', size: '16 connections, unthrottled', sizeValue: 16, ours: 4800, unit: 'req/s', higherIsBetter: true, peer: alone },
    { bench: 'tls-overhead', figure: 'agent --tls CPU at a fixed request rate', size: '1,000 req/s offered, 1,000 served', sizeValue: 1000, ours: 8, unit: '% of a core', higherIsBetter: false },
    { bench: 'tls-overhead', figure: 'lost TLS probe events at a fixed request rate', size: '1,000 req/s offered, 1,000 served', sizeValue: 1000, ours: 0, unit: 'events', higherIsBetter: false, goal: '0', met: true },
    { bench: 'tls-overhead', figure: 'agent --tls CPU at a fixed request rate', size: '5,000 req/s offered, 4,700 served', sizeValue: 4700, ours: 40, unit: '% of a core', higherIsBetter: false },
    { bench: 'tls-overhead', figure: 'lost TLS probe events at a fixed request rate', size: '5,000 req/s offered, 4,700 served', sizeValue: 4700, ours: 2, unit: 'events', higherIsBetter: false, goal: '0', met: false },
  ]);
});
