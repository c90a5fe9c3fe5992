/**
 * The agent in-process on the bundled demo recording (`--pcap` source): frame order, counters,
 * the pushed-down filter, redaction on and off. Live capture is covered by test/e2e/agent-*.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Entry } from '../../model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../dissect/http1/entry.ts';
import { readEntriesOf } from '../../pipeline/read-capture.ts';
import type { Dissector, DissectorStream } from '../dissect/dissector.ts';
import { http1Dissector } from '../dissect/http1/index.ts';
import type { AgentFrame, EntryFrame, HelloFrame, NoticeFrame, StatsFrame } from '../wire/protocol.ts';
import { Agent, type AgentConfig } from './agent.ts';

const DEMO = new URL('../../../assets/demo/microservices.pcapng', import.meta.url).pathname;

function config(over: Partial<AgentConfig> = {}): AgentConfig {
  return {
    source: { kind: 'pcap', label: 'demo', chunks: createReadStream(DEMO) },
    filter: null,
    maxBodyBytes: 65536,
    redact: true,
    redactKeys: [],
    maxMemoryBytes: 200 * 1048576,
    idleExitMs: 0,
    statsIntervalMs: 1000,
    ...over,
  };
}

async function runAgent(cfg: AgentConfig, during?: (agent: Agent) => void): Promise<{ frames: AgentFrame[]; code: number; raw: string }> {
  const out = new PassThrough();
  let raw = '';
  out.setEncoding('utf8');
  out.on('data', (d: string) => {
    raw += d;
  });
  const agent = new Agent(cfg, out, async () => {
    throw new Error('live capture is not used by these tests');
  });
  during?.(agent);
  const exit = await agent.run();
  const frames = raw
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AgentFrame);
  return { frames, code: exit.code, raw };
}

const everyEntryOf = (frames: AgentFrame[]): Entry[] => frames.filter((f): f is EntryFrame => f.type === 'entry').map((f) => f.entry);
/** The HTTP entries (the demo's services; their Redis and PostgreSQL hops are entries of those protocols). */
const entriesOf = (frames: AgentFrame[]): HttpEntry[] => everyEntryOf(frames).filter(isHttpEntry);

test('hello first, every entry of the capture, a final stats frame that counts them, bye last', async () => {
  const expected = await readEntriesOf(DEMO);
  const { frames, code } = await runAgent(config());
  assert.equal(code, 0);
  const hello = frames[0] as HelloFrame;
  assert.equal(hello.type, 'hello');
  assert.equal(hello.version, 1);
  assert.equal(hello.source, 'pcap');
  assert.equal(hello.redaction.enabled, true);
  assert.ok(hello.redaction.keys.includes('authorization'));
  const entries = everyEntryOf(frames);
  assert.equal(entries.length, expected.length);
  assert.deepEqual(new Set(entries.map((e) => e.id)), new Set(expected.map((e) => e.id)));
  const final = frames.at(-2) as StatsFrame;
  assert.equal(final.type, 'stats');
  assert.equal(final.final, true);
  assert.equal(final.entries, expected.length);
  assert.equal(final.sent, expected.length);
  assert.equal(final.dropped, 0);
  assert.ok(final.packets > 0 && final.bytes > 0);
  assert.deepEqual(frames.at(-1), { type: 'bye', reason: 'end-of-input' });
});

test('--filter at start sends only matches and counts the rest as filtered', async () => {
  const everything = await readEntriesOf(DEMO);
  const all = everything.filter(isHttpEntry);
  const want = all.filter((e) => e.response !== null && e.response.status >= 400).length;
  assert.ok(want > 0 && want < all.length, `the demo has some errors (${want} of ${all.length})`);
  const { frames } = await runAgent(config({ filter: 'response.status >= 400' }));
  const entries = entriesOf(frames);
  assert.equal(entries.length, want);
  assert.ok(entries.every((e) => (e.response?.status ?? 0) >= 400));
  const final = frames.at(-2) as StatsFrame;
  assert.equal(final.filtered, everything.length - want, 'every other entry, of any protocol, is filtered');
  assert.equal(final.entries, final.sent + final.filtered + final.dropped);
});

test('an invalid --filter is an error frame with a column, exit code 2', async () => {
  const { frames, code } = await runAgent(config({ filter: 'response.status >=' }));
  assert.equal(code, 2);
  const err = frames.find((f) => f.type === 'error');
  assert.ok(err && err.type === 'error');
  assert.equal(err.code, 'FILTER_INVALID');
  assert.equal(typeof err.column, 'number');
  assert.equal(entriesOf(frames).length, 0);
});

test('filter control frames: acknowledged, invalid ones warned and ignored', async () => {
  const { frames } = await runAgent(config(), (agent) => {
    agent.control({ type: 'filter', query: 'request.method == "POST"' });
    agent.control({ type: 'filter', query: 'request.method ==' });
    agent.badControl('control line is not JSON: "x"');
  });
  assert.deepEqual(frames.find((f) => f.type === 'filter'), { type: 'filter', query: 'request.method == "POST"' });
  const warnings = frames.filter((f) => f.type === 'warning').map((f) => (f.type === 'warning' ? f.code : ''));
  assert.deepEqual(warnings, ['FILTER_INVALID', 'CONTROL_INVALID']);
  const entries = entriesOf(frames);
  assert.ok(entries.length > 0);
  assert.ok(entries.every((e) => e.request.method === 'POST'), 'the valid filter stayed in effect');
});

test('--no-redact: hello says so and a REDACTION_OFF warning follows', async () => {
  const { frames } = await runAgent(config({ redact: false }));
  const hello = frames[0] as HelloFrame;
  assert.deepEqual(hello.redaction, { enabled: false, keys: [] });
  const second = frames[1];
  assert.equal(second.type, 'warning');
  assert.equal(second.type === 'warning' ? second.code : '', 'REDACTION_OFF');
});

test('a stop control frame ends the agent with reason stop', async () => {
  const { frames, code } = await runAgent(config(), (agent) => agent.control({ type: 'stop' }));
  assert.equal(code, 0);
  assert.deepEqual(frames.at(-1), { type: 'bye', reason: 'stop' });
});

/** The HTTP/1 dissector with a real bug on connections of odd index: a missing map key dereferenced. */
const buggyHttp1: Dissector = {
  id: 'http/1-buggy',
  protocol: 'http',
  ports: http1Dissector.ports,
  sniff: (prefix, direction) => http1Dissector.sniff(prefix, direction),
  open(conn, ctx): DissectorStream {
    const inner = http1Dissector.open(conn, ctx);
    const perConnection = new Map<number, { bytes: number }>();
    if (conn.index % 2 === 0) perConnection.set(conn.index, { bytes: 0 });
    return {
      data(dir, bytes, tsUs): void {
        perConnection.get(conn.index)!.bytes += bytes.length;
        inner.data(dir, bytes, tsUs);
      },
      gap: (dir, lost, tsUs) => inner.gap(dir, lost, tsUs),
      end: (dir, tsUs) => inner.end(dir, tsUs),
      close: (reason, tsUs) => inner.close(reason, tsUs),
      oldestPendingUs: () => inner.oldestPendingUs(),
    };
  },
};

test('a bug in a dissector: one INTERNAL_ERROR warning with its stack, internalErrors in stats, the other connections still sent', async () => {
  // Only HTTP/1 is dissected here: the demo's other protocols are not in this run.
  const expected = (await readEntriesOf(DEMO)).filter(isHttpEntry);
  const connectionOf = (id: string): number => Number(id.split('-')[0]);
  const odd = new Set(expected.map((e) => connectionOf(e.id)).filter((c) => c % 2 === 1));
  assert.ok(odd.size >= 2, 'the demo has several connections of odd index');
  const { frames, code } = await runAgent(config({ dissectors: [buggyHttp1] }));
  assert.equal(code, 0, 'a bug in one connection does not stop the agent');
  const reports = frames.filter((f) => f.type === 'warning' && f.code === 'INTERNAL_ERROR');
  assert.equal(reports.length, 1, 'one throw site: one report');
  const report = reports[0] as NoticeFrame;
  assert.match(report.message, /^internal error \(a bug: please report\) in stream handler data: TypeError: .* \| at Object\.data \(.*agent\.test\.ts:\d+:\d+\)/);
  const final = frames.at(-2) as StatsFrame;
  assert.equal(final.final, true);
  assert.equal(final.internalErrors, odd.size, 'one per connection of odd index: the first throw drops it');
  assert.equal(final.malformed, 0);
  const sent = entriesOf(frames).map((e) => e.id).sort();
  assert.deepEqual(sent, expected.map((e) => e.id).filter((id) => connectionOf(id) % 2 === 0).sort());
});

test('the stats frames count internal errors: 0 on a clean run', async () => {
  const { frames } = await runAgent(config());
  const stats = frames.filter((f): f is StatsFrame => f.type === 'stats');
  assert.ok(stats.length > 0);
  for (const s of stats) assert.equal(s.internalErrors, 0);
  assert.deepEqual(frames.filter((f) => f.type === 'warning' && f.code === 'INTERNAL_ERROR'), []);
});
