/**
 * A process that opens the TLS probes (openTlsProbes, as the agent does) and talks JSON lines, so a
 * test can run it inside a network namespace (the probes' scope is the opener's namespaces) and kill
 * it with SIGKILL. Run: `node --import tsx test/helpers/tls-probe-driver.ts [ringBytes [multi|perf-events]]`
 * (the second argument forces how uprobes are placed; absent: as the agent does, multi when the
 * kernel has uprobe_multi links).
 *
 * stdin:  {"scan": true} | {"attach": LibraryHookPlan} | {"counters": true} | {"close": true}
 * stdout: {"ready": true} | {"unavailable": message} | {"attached": AttachResult, attachMs}
 *         | {"scanned": [{plan, attached: AttachResult, attachMs}], reports: ProcessHookReport[]} (the agent's way: targets/ TargetScanner)
 *         | {"events": [event with bytes in base64 and connId as a string]} | {"counters": {...}}
 *         | {"internalError": message}
 *         | {"closed": true, counters, closeCallMs (the close() call itself), closeMs (until every fd
 *            is closed), maxLagMs (the longest a 5 ms timer was late meanwhile: event loop stalls)}
 */
import { createInterface } from 'node:readline';
import type { TlsEvent } from '../../src/remote-agent/tls/events.ts';
import type { LibraryHookPlan } from '../../src/remote-agent/tls/hooks.ts';
import { TlsUnavailableError, type AttachResult } from '../../src/remote-agent/tls/probe-api.ts';
import { kernelOffsets } from '../../src/remote-agent/tls/probes/btf.ts';
import { openTlsProbes } from '../../src/remote-agent/tls/probes/index.ts';
import { openProbes, type UprobeLinks } from '../../src/remote-agent/tls/probes/tls-probes.ts';
import { TargetScanner } from '../../src/remote-agent/tls/targets/index.ts';

/** An event as JSON: bytes base64, connId a decimal string. */
export type DriverEvent = Record<string, unknown> & { kind: TlsEvent['kind'] };

function out(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function toJson(event: TlsEvent): DriverEvent {
  if (event.kind === 'close') return { ...event };
  if (event.kind === 'skip') return { ...event, connId: event.connId.toString() };
  return { ...event, connId: event.connId.toString(), bytes: Buffer.from(event.bytes).toString('base64') };
}

const ringBytes = Number(process.argv[2] ?? 4 * 1024 * 1024);
const uprobeLinks = process.argv[3] as UprobeLinks | undefined;
let probes;
try {
  const options = {
    ringBytes,
    onEvents: (events: readonly TlsEvent[]) => out({ events: events.map(toJson) }),
    onInternalError: (err: unknown) => out({ internalError: String(err) }),
  };
  probes = uprobeLinks === undefined ? openTlsProbes(options) : openProbes(options, { btf: { kernelOffsets }, uprobeLinks });
} catch (err) {
  if (!(err instanceof TlsUnavailableError)) throw err;
  out({ unavailable: err.message });
  process.exit(3);
}
out({ ready: true });

const opened = probes;
function timedAttach(plan: LibraryHookPlan): { attached: AttachResult; attachMs: number } {
  const start = performance.now();
  const attached = opened.attach(plan);
  return { attached, attachMs: performance.now() - start };
}
const scanner = new TargetScanner();
createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line) as { scan?: true; attach?: LibraryHookPlan; counters?: true; close?: true };
  if (command.scan) {
    const scan = await scanner.scanTargets();
    out({ scanned: scan.plans.map((plan) => ({ plan, ...timedAttach(plan) })), reports: scan.reports });
  }
  if (command.attach !== undefined) out(timedAttach(command.attach));
  if (command.counters) out({ counters: opened.counters() });
  if (command.close) {
    // The event loop's stalls while closing: how late a 5 ms timer fires, at worst.
    let maxLagMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - last - 5);
      last = now;
    }, 5);
    const start = performance.now();
    const closing = opened.close();
    const closeCallMs = performance.now() - start;
    await Promise.all([closing, opened.close()]);
    const closeMs = performance.now() - start;
    // One more tick: a stall at the very end shows too.
    await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(timer);
    out({ closed: true, counters: opened.counters(), closeCallMs, closeMs, maxLagMs });
  }
});
