/**
 * Per-protocol counters: entries by their `protocol.name` as they are emitted, violations under
 * the protocol of the dissector that met them, whether reported (a malformed message) or thrown
 * (a ProtocolViolation, the connection given up). Checked on a real capture and on a dissector
 * that throws.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../../test/helpers/shared-pcaps.ts';
import { CapturePipeline } from '../capture-pipeline.ts';
import { CaptureFileParser } from '../source/capture-file.ts';
import { newCaptureStats } from '../stats.ts';
import { ProtocolViolation } from '../thrown-errors.ts';
import type { Dissector, DissectorStream } from './dissector.ts';
import { http1Dissector } from './http1/index.ts';
import { c, fakeConn, play, recorder, s } from './http1/testing.ts';
import { DissectorRegistry } from './registry.ts';

test('a capture with malformed HTTP: every entry and every violation is counted under http', () => {
  const file = join(REPO_ROOT, 'test/fixtures/pcaps/http/methods-and-malformed-requests.pcap');
  const stats = newCaptureStats();
  let emitted = 0;
  const pipeline = new CapturePipeline(stats, { entry: () => void emitted++ });
  const parser = new CaptureFileParser(pipeline, stats);
  parser.push(readFileSync(file));
  parser.end();
  pipeline.finish();
  assert.equal(emitted, stats.entries);
  assert.ok(stats.entries > 0 && stats.dissectionErrors > 0, `${stats.entries} entries, ${stats.dissectionErrors} violations`);
  assert.deepEqual({ ...stats.protocols }, { http: { entries: stats.entries, violations: stats.dissectionErrors } });
});

test('a dissector that throws a ProtocolViolation: counted under its protocol, once', () => {
  const rec = recorder();
  const thrower: Dissector = {
    id: 'thrower',
    protocol: 'toy',
    ports: [],
    sniff: (prefix) => (prefix[0] === 0x21 ? 'match' : 'no'),
    open: (_conn, ctx): DissectorStream => ({
      data: (_dir, bytes) => {
        if (bytes.includes(0x3f)) ctx.violation(); // a malformed message, reported
        if (bytes.includes(0x23)) throw new ProtocolViolation('toy', 'no "#" in toy');
      },
      gap: () => {},
      end: () => {},
      close: () => {},
      oldestPendingUs: () => Infinity,
    }),
  };
  const registry = new DissectorRegistry(rec.ctx, [http1Dissector, thrower]);
  const handler = registry.open(fakeConn());
  handler.data(0, Buffer.from('!a?'), 1);
  assert.throws(() => handler.data(0, Buffer.from('#'), 2), ProtocolViolation);
  assert.deepEqual({ ...rec.stats.protocols }, { toy: { entries: 0, violations: 2 } });
  const http = registry.open(fakeConn({ index: 2 }));
  play(http, [c('GET / HTTP/1.1\r\n\r\n', 0), s('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 1)]);
  http.close('fin', 3);
  assert.equal(rec.entries.length, 1);
  assert.equal(rec.stats.protocols['http'], undefined, 'entries are counted where they are emitted (capture-pipeline), not by the registry');
});
