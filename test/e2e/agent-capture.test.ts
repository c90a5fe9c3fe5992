/**
 * The capture agent, live: `node agent.js capture --iface any` (the bundle, copied into an empty
 * folder) in the server's network namespace sees 1,000 mixed HTTP/1.1 requests from a client
 * namespace (keep-alive, chunked, 256 KiB and 2 MiB bodies, uploads up to 1 MiB, 201/204/404/500)
 * and reports every one of them exactly once, with counters that add up, and stops cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import type { StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { prepareAgentDir, startAgent } from '../helpers/agent.ts';
import { agentTopology, runClientList } from './agent-fixtures/topology.ts';
import type { RequestReport, RequestSpec } from './agent-fixtures/client.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]));
const REQUESTS = 1000;

interface Planned {
  readonly spec: RequestSpec;
  readonly status: number;
}

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;

/** The mix: request i has the unique path /t/<i>/<route>. */
function mixedRequests(count: number): Planned[] {
  const out: Planned[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(i / 20);
    const t = `/t/${i}`;
    let p: Planned;
    switch (i % 20) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 16:
      case 17:
        p = { spec: { method: 'GET', target: `${t}/fixed/${pick([0, 1, 100, 1500, 4096, 20_000, 65_536, 70_000], i + n)}?q=${i}` }, status: 200 };
        break;
      case 4:
      case 5:
      case 6:
        p = { spec: { method: 'GET', target: `${t}/chunked/${pick([10, 5000, 100_000, 33_333], i + n)}/${1 + (i % 5)}` }, status: 200 };
        break;
      case 7:
      case 8: {
        const code = pick([201, 204, 404, 500], n * 2 + (i % 20) - 7);
        p = { spec: { method: 'GET', target: `${t}/status/${code}` }, status: code };
        break;
      }
      case 9:
        p = { spec: { method: 'GET', target: `${t}/nothing-here` }, status: 404 };
        break;
      case 10:
        p = {
          spec: { method: 'POST', target: `${t}/upload`, body: { size: pick([10, 1000, 50_000, 200_000, 1_048_576], n), seed: i, contentType: 'application/octet-stream' } },
          status: 201,
        };
        break;
      case 11:
        p = {
          spec: { method: 'POST', target: `${t}/upload`, body: { size: pick([777, 30_000, 500_000, 1], n), seed: i, contentType: 'text/plain', chunked: true, pieces: 4 } },
          status: 201,
        };
        break;
      case 12:
        p = { spec: { method: 'POST', target: `${t}/echo`, body: { size: pick([5, 3000, 40_000], n), seed: i, contentType: 'text/plain' } }, status: 200 };
        break;
      case 13:
        p = { spec: { method: 'PUT', target: `${t}/echo`, body: { size: pick([100, 70_000], n), seed: i, contentType: 'text/plain', chunked: true, pieces: 3 } }, status: 200 };
        break;
      case 14:
        p = { spec: { method: 'GET', target: `${t}/fixed/262144` }, status: 200 };
        break;
      case 15:
        p = { spec: { method: 'GET', target: `${t}/chunked/262144/8` }, status: 200 };
        break;
      case 18:
        p = { spec: { method: 'DELETE', target: `${t}/status/204` }, status: 204 };
        break;
      default:
        // Every fifth of these: a 2 MiB body (10 in all), else a small one.
        p = n % 5 === 0 ? { spec: { method: 'GET', target: `${t}/fixed/2097152` }, status: 200 } : { spec: { method: 'GET', target: `${t}/fixed/300` }, status: 200 };
    }
    out.push(p);
  }
  return out;
}

/**
 * Runs of this check a busy machine spoiled: a capture ring that overflowed (counted by the agent
 * as kernelDrops) loses packets no dissector can get back, and entries this test's own reader did
 * not take in time are shed by the agent's output bound (counted as dropped: backpressure, as
 * designed), so "every request once" cannot hold. That happens when the 2-core machine is busy
 * with something else (CI's own writeback right after `npm ci`, other jobs); it is the ring's
 * sizing and the output bound that agent-live/backpressure measure, not this check. Such a run is
 * reported and made again, at most this many times in all; any other failure fails at once, and
 * the last attempt fails on drops too.
 */
const ATTEMPTS = 3;

test('agent --iface any: 1,000 mixed HTTP/1.1 requests, each reported once, counters add up, stop exits 0', { skip, timeout: 150_000 * ATTEMPTS }, async (t) => {
  for (let attempt = 1; ; attempt++) {
    const outcome = await captureOnce(t, attempt < ATTEMPTS);
    if (outcome === 'checked') return;
    t.diagnostic(`attempt ${attempt}: ${outcome === 'kernel-drops' ? 'the kernel dropped packets (capture ring full while the machine was busy)' : "the agent shed entries this test's reader did not take in time (backpressure while the machine was busy)"}: trying again`);
  }
});

type Context = { diagnostic(message: string): void };

async function captureOnce(t: Context, mayRetry: boolean): Promise<'checked' | 'kernel-drops' | 'backpressure-drops'> {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    const agent = startAgent(topo.server, ['--iface', 'any'], { dir, scope });
    const startedMs = Date.now();
    const hello = await agent.ready();
    t.diagnostic(`hello after ${Date.now() - startedMs} ms: pid ${hello.pid}, agent ${hello.agentVersion}, source ${hello.source}, iface ${hello.iface}`);
    assert.equal(hello.version, 1);
    assert.equal(hello.source, 'af_packet');
    assert.equal(hello.iface, 'any');
    assert.equal(hello.filter, null);
    assert.equal(hello.redaction.enabled, true);
    for (const cap of ['protocols', 'protocol-counts', 'filter-pushdown', 'redaction', 'stats', 'backpressure-drop']) assert.ok(hello.capabilities.includes(cap), `capability ${cap}`);
    assert.ok(hello.protocols?.includes('http'), `protocols ${JSON.stringify(hello.protocols)}`);
    // This test is about dissection: every request once. The agent yields the CPU to everything
    // else (nice 19, agent-yield.test.ts), and here the client, the server and this reader keep both
    // cores busy for a second: starved, the agent would catch up in one burst at the end and shed
    // what its output bound cannot hold (counted, as designed: agent-backpressure.test.ts). So it
    // gets a normal priority back here (root may lower a nice value).
    for (const tid of readdirSync(`/proc/${hello.pid}/task`)) setPriority(Number(tid), 0);

    const plan = mixedRequests(REQUESTS);
    const trafficStart = Date.now();
    const report = await runClientList(topo, plan.map((p) => p.spec));
    const trafficMs = Date.now() - trafficStart;
    const completed = report.requests.filter((r) => r.completed);
    const upBytes = completed.reduce((s, r) => s + r.requestBodySize, 0);
    const downBytes = completed.reduce((s, r) => s + r.responseBodySize, 0);
    t.diagnostic(
      `client: ${completed.length}/${report.requests.length} completed in ${report.elapsedMs} ms over ${report.connections} connections, ` +
        `${(upBytes / 1048576).toFixed(1)} MiB up, ${(downBytes / 1048576).toFixed(1)} MiB down`,
    );
    assert.equal(completed.length, REQUESTS, `requests failed at the client: ${report.requests.filter((r) => !r.completed).slice(0, 5).map((r) => `${r.target}: ${r.error}`).join('; ')}`);
    plan.forEach((p, i) => assert.equal(report.requests[i]!.status, p.status, `the server answered ${p.spec.target} with an unexpected status`));
    assert.ok(report.connections <= 16, `keep-alive: ${report.connections} connections for ${REQUESTS} requests`);

    // Entries come as responses end; give the agent time to catch up with the last bodies.
    const byPath = new Map<string, HttpEntry[]>();
    let scanned = 0;
    const index = (): void => {
      for (; scanned < agent.frames.length; scanned++) {
        const f = agent.frames[scanned]!;
        if (f.type !== 'entry' || !isHttpEntry(f.entry)) continue;
        byPath.set(f.entry.request.path, [...(byPath.get(f.entry.request.path) ?? []), f.entry]);
      }
    };
    const missing = (): RequestReport[] => completed.filter((r) => !byPath.has(r.path));
    try {
      await agent.waitUntil(
        () => {
          index();
          return missing().length === 0 ? true : undefined;
        },
        30_000,
        'an entry for every completed request',
      );
    } catch (err) {
      if (mayRetry && (agent.lastStats()?.kernelDrops ?? 0) > 0) return 'kernel-drops';
      if (mayRetry && (agent.lastStats()?.dropped ?? 0) > 0) return 'backpressure-drops';
      const gone = missing();
      assert.fail(`${gone.length} requests have no entry (first: ${gone.slice(0, 8).map((r) => `${r.method} ${r.path}`).join(', ')}); last stats ${JSON.stringify(agent.lastStats())}: ${String(err)}`);
    }
    const allEntriesMs = Date.now() - trafficStart;
    t.diagnostic(`every request had its entry ${allEntriesMs - trafficMs} ms after the client finished (${allEntriesMs} ms after it started)`);

    let checked = 0;
    for (const r of completed) {
      const found = byPath.get(r.path)!;
      assert.equal(found.length, 1, `${r.path}: ${found.length} entries (${found.map((e) => e.id).join(', ')})`);
      const e = found[0]!;
      assert.equal(e.request.method, r.method, `${r.path}: method`);
      assert.equal(e.request.url, r.target, `${r.path}: url`);
      assert.ok(e.response !== null, `${r.path}: entry without a response (${JSON.stringify(e.error)})`);
      assert.equal(e.error, null, `${r.path}: entry error`);
      assert.equal(e.response.status, r.status, `${r.path}: status`);
      assert.equal(e.request.bodySize, r.requestBodySize, `${r.path}: request.bodySize`);
      assert.equal(e.response.content.size, r.responseBodySize, `${r.path}: response.content.size`);
      checked++;
    }
    const requestPaths = new Set(completed.map((r) => r.path));
    const strangers = [...byPath.keys()].filter((p) => !requestPaths.has(p));
    assert.deepEqual(strangers, [], 'entries for requests nobody made');
    t.diagnostic(`${checked} requests matched exactly once (method, url, status, request.bodySize, response.content.size)`);

    // A stats frame written after the last entry arrived counts all of them.
    const entryFrames = (): number => agent.frames.filter((f) => f.type === 'entry').length;
    const from = agent.frames.length;
    const stats = await agent.waitFor((f): f is StatsFrame => f.type === 'stats', 5000, 'a stats frame after the last entry', from);
    t.diagnostic(`stats: ${JSON.stringify(stats)}`);
    if (mayRetry && stats.kernelDrops > 0) return 'kernel-drops';
    assert.ok(stats.entries >= REQUESTS, `stats.entries ${stats.entries}`);
    assert.equal(stats.sent, entryFrames(), 'stats.sent is the number of entry frames read');
    assert.equal(stats.dropped, 0, 'dropped');
    assert.equal(stats.kernelDrops, 0, 'kernelDrops');
    assert.ok(stats.packets > 0, 'packets');

    const exit = await agent.stop(5000);
    t.diagnostic(`stop -> exit in ${exit.latencyMs} ms, code ${exit.code}`);
    assert.equal(exit.code, 0);
    assert.ok(exit.latencyMs < 1000, `exit took ${exit.latencyMs} ms after stop`);
    const last = agent.frames.at(-1);
    assert.deepEqual(last, { type: 'bye', reason: 'stop' }, 'bye is the last frame');
    const final = agent.frames.at(-2);
    assert.ok(final?.type === 'stats' && final.final === true, `a final stats frame precedes bye: ${JSON.stringify(final)}`);
    assert.equal(final.sent, entryFrames(), 'final stats: sent');
    assert.ok(final.entries >= REQUESTS);
    assert.equal(final.entries, final.sent + final.filtered + final.dropped, 'entries == sent + filtered + dropped');
    assert.equal(final.dropped, 0);
    assert.equal(final.kernelDrops, 0);
    assert.equal(agent.hellos().length, 1);
    assert.deepEqual(agent.strayLines, [], 'every stdout line is a frame');
    t.diagnostic(
      `final: ${final.packets} packets, ${(final.bytes / 1048576).toFixed(1)} MiB, ${final.entries} entries, ${final.sent} sent, ` +
        `malformed ${final.malformed}, gapBytes ${final.gapBytes}, rss ${(final.rssBytes / 1048576).toFixed(1)} MiB, notices: ${agent.notices().map((n) => n.code).join(',') || 'none'}`,
    );
    return 'checked';
  } finally {
    await scope.close();
  }
}
