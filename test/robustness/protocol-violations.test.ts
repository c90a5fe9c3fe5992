/**
 * Bad input is counted per protocol: the registry knows which dissector each connection is pinned
 * to, so the messages its parser resynchronised after and the connections it gave up with a
 * ProtocolViolation are counted under that dissector's protocol, shown in read's summary and sent in
 * the agent's stats frames. Real captures read the way `kubectl shark read` and the agent read them.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { formatSummary } from '../../cmd/read.ts';
import { readCaptures, type ReadOptions, type ReadResult } from '../../src/pipeline/read-capture.ts';
import { Agent } from '../../src/remote-agent/agent/agent.ts';
import type { Dissector, DissectorStream } from '../../src/remote-agent/dissect/dissector.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';
import { ProtocolViolation } from '../../src/remote-agent/thrown-errors.ts';
import type { StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** Requests with bad header lines, bare LFs and unknown methods next to good ones (tshark's truth beside it). */
const MALFORMED = 'http/methods-and-malformed-requests.pcap';
const CLEAN = 'http/pipelined-requests.pcap';

async function read(capture: string, options: ReadOptions = {}): Promise<ReadResult> {
  const file = join(sharedPcapsDir(), capture);
  return readCaptures([{ label: file, chunks: createReadStream(file) }], () => {}, options);
}

test('malformed HTTP/1 messages are counted under the protocol of the dissector that met them, and read says so', async () => {
  const { stats } = await read(MALFORMED);
  assert.ok(stats.dissectionErrors >= 5, `the capture has ${stats.dissectionErrors} malformed messages: the test needs some`);
  assert.deepEqual(violationsOf(stats.protocols), { http: stats.dissectionErrors });
  assert.match(formatSummary(stats), new RegExp(`; by protocol: HTTP ${stats.entries} entries and ${stats.dissectionErrors} violations$`));
  const clean = await read(CLEAN);
  assert.equal(clean.stats.dissectionErrors, 0);
  assert.deepEqual(violationsOf(clean.stats.protocols), {});
  assert.doesNotMatch(formatSummary(clean.stats), /violation/);
});

test('a ProtocolViolation thrown by a dissector is counted under its Dissector.protocol, whatever the error says', async () => {
  /** HTTP/1 under another protocol name, giving up on every connection at its third request. */
  const strict: Dissector = {
    id: 'strict-http',
    protocol: 'strict',
    ports: http1Dissector.ports,
    sniff: (prefix, direction) => http1Dissector.sniff(prefix, direction),
    open(conn, ctx): DissectorStream {
      const inner = http1Dissector.open(conn, ctx);
      let clientChunks = 0;
      return {
        data(dir, bytes, tsUs): void {
          if (dir === 0 && ++clientChunks === 3) throw new ProtocolViolation('some other name', 'three requests is too many');
          inner.data(dir, bytes, tsUs);
        },
        gap: (dir, lost, tsUs) => inner.gap(dir, lost, tsUs),
        end: (dir, tsUs) => inner.end(dir, tsUs),
        close: (reason, tsUs) => inner.close(reason, tsUs),
        oldestPendingUs: () => inner.oldestPendingUs(),
      };
    },
  };
  const { stats } = await read(CLEAN, { dissectors: [strict] });
  assert.equal(stats.internalErrors, 0);
  assert.equal(stats.dissectionErrors, 1, 'the one connection was given up once');
  assert.deepEqual(violationsOf(stats.protocols), { strict: 1 });
  assert.match(formatSummary(stats), /; by protocol: HTTP 2 entries, strict 0 entries and 1 violation$/);
});

test("the agent's stats frames carry the violations per protocol", async () => {
  const out = new PassThrough();
  let raw = '';
  out.setEncoding('utf8');
  out.on('data', (d: string) => {
    raw += d;
  });
  const file = join(sharedPcapsDir(), MALFORMED);
  const agent = new Agent(
    {
      source: { kind: 'pcap', label: MALFORMED, chunks: createReadStream(file) },
      filter: null,
      maxBodyBytes: 65536,
      redact: true,
      redactKeys: [],
      maxMemoryBytes: 200 * 1048576,
      idleExitMs: 0,
      statsIntervalMs: 1000,
    },
    out,
    async () => {
      throw new Error('live capture is not used by this test');
    },
  );
  assert.equal((await agent.run()).code, 0);
  const frames = raw
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string });
  const final = frames.filter((f): f is StatsFrame => f.type === 'stats').at(-1)!;
  assert.equal(final.final, true);
  const { stats } = await read(MALFORMED);
  assert.deepEqual(violationsOf(final.protocols ?? {}), { http: stats.dissectionErrors });
});

/** Protocol name -> violations, for the protocols that had any. */
function violationsOf(tallies: Readonly<Record<string, { readonly violations: number }>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(tallies)) if (t.violations > 0) out[name] = t.violations;
  return out;
}
