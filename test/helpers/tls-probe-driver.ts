/**
 * A process that opens the TLS probes (openTlsProbes, as the agent does) and talks JSON lines, so a
 * test can run it inside a network namespace (the probes' scope is the opener's namespaces) and kill
 * it with SIGKILL. Run: `node --import tsx test/helpers/tls-probe-driver.ts [ringBytes]`.
 *
 * stdin:  {"scan": true} | {"attach": LibraryHookPlan} | {"counters": true} | {"close": true}
 * stdout: {"ready": true} | {"unavailable": message} | {"attached": AttachResult}
 *         | {"scanned": [{plan, attached: AttachResult}]} (the agent's way: targets/ TargetScanner plans)
 *         | {"events": [event with bytes in base64 and connId as a string]} | {"counters": {...}}
 *         | {"internalError": message} | {"closed": true}
 */
import { createInterface } from 'node:readline';
import type { TlsEvent } from '../../src/remote-agent/tls/events.ts';
import type { LibraryHookPlan } from '../../src/remote-agent/tls/hooks.ts';
import { TlsUnavailableError } from '../../src/remote-agent/tls/probe-api.ts';
import { openTlsProbes } from '../../src/remote-agent/tls/probes/index.ts';
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
let probes;
try {
  probes = openTlsProbes({
    ringBytes,
    onEvents: (events) => out({ events: events.map(toJson) }),
    onInternalError: (err) => out({ internalError: String(err) }),
  });
} catch (err) {
  if (!(err instanceof TlsUnavailableError)) throw err;
  out({ unavailable: err.message });
  process.exit(3);
}
out({ ready: true });

const opened = probes;
const scanner = new TargetScanner();
createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line) as { scan?: true; attach?: LibraryHookPlan; counters?: true; close?: true };
  if (command.scan) {
    const scan = await scanner.scanTargets();
    out({ scanned: scan.plans.map((plan) => ({ plan, attached: opened.attach(plan) })) });
  }
  if (command.attach !== undefined) out({ attached: opened.attach(command.attach) });
  if (command.counters) out({ counters: opened.counters() });
  if (command.close) {
    opened.close();
    opened.close();
    out({ closed: true, counters: opened.counters() });
  }
});
