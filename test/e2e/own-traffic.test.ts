/**
 * Acceptance point 2, clean link: our own HTTP/1.x traffic between a client and a server namespace
 * joined by a veth pair, captured with tcpdump at the server (as a pod's interface would be, with
 * offloads on: segments over the MTU, partial TCP checksums), read with `kubectl shark read`.
 * Every request the client completed must be in the output with the right status, body size and
 * body hash; the cut response must be there with an error.
 */
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Scope, requireNetns, run as runCmd } from '../helpers/netns.ts';
import { captureFacts, cliAvailable, readWithCli } from '../helpers/capture.ts';
import { captureTraffic, checkClientSide, checkEntries, cleanTopology } from './fixtures/traffic.ts';
import { missingCommand, skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns());
const cliMissing = cliAvailable();

test('own traffic over a clean veth link (keep-alive, pipelining, chunked, gzip, 5 MiB, 100-continue, HEAD/204/304, cut)', { skip }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await cleanTopology(scope);
    const { run, captures, tcpdumpReports, droppedByKernel, live } = await captureTraffic(topo, ['server'], cliMissing === null ? 'server' : undefined);
    const file = captures.get('server')!;
    t.diagnostic(`tcpdump (server): ${tcpdumpReports.get('server')}`);
    assert.equal(droppedByKernel.get('server'), 0, 'tcpdump lost packets: the capture is incomplete');

    await t.test('the clients received what the server sends', () => {
      checkClientSide(run);
      t.diagnostic(`${run.requests.length} requests, ${run.requests.filter((r) => r.completed).length} completed, ${run.reusedConnections} on reused connections`);
    });

    await t.test('the capture carries over-MTU segments and offloaded (wrong) TCP checksums', () => {
      const facts = captureFacts(file);
      t.diagnostic(`capture: ${facts.frames} frames, largest ${facts.largestFrame} bytes, ${facts.overMtuFrames} over the MTU, ${facts.badTcpChecksums} bad TCP checksums`);
      assert.ok(facts.overMtuFrames > 0, 'expected TSO/GSO segments larger than the MTU in the capture');
      assert.ok(facts.badTcpChecksums > 0, 'expected segments with offloaded (unfinished) TCP checksums');
    });

    let fromFile: Entry[] = [];
    await t.test('kubectl shark read finds every completed request with status, size and hash', { skip: skipFor(cliMissing) }, async () => {
      const out = await readWithCli(file);
      fromFile = out.entries;
      assert.equal(out.exitCode, 0, `kubectl shark read failed: ${out.stderr}`);
      const report = checkEntries('clean/server', run, out.entries);
      t.diagnostic(`clean/server: ${report.requests} requests, ${report.completed} completed, ${report.matched} matched of ${report.entries} entries, gaps ${out.gaps}`);
      t.diagnostic(`summary: ${out.stderr}`);
      assert.equal(report.matched, report.completed + 1, 'every completed request and the cut one are matched');
    });

    await t.test('tcpdump -w - | kubectl shark read - (live, while the traffic runs) finds the same', { skip: skipFor(cliMissing) }, () => {
      assert.ok(live, 'the live reader ran');
      t.diagnostic(`live tcpdump: ${live.tcpdumpReport}`);
      t.diagnostic(`live summary: ${live.stderr}`);
      assert.equal(live.exitCode, 0, `kubectl shark read - failed: ${live.stderr}`);
      const report = checkEntries('clean/live', run, live.entries);
      t.diagnostic(`clean/live: ${report.matched} matched of ${report.entries} entries, gaps ${live.gaps}`);
      assert.equal(report.matched, report.completed + 1);
    });

    await t.test('the same capture converted to pcapng (editcap) gives the same entries', { skip: skipFor(cliMissing ?? missingCommand('editcap', 'wireshark-common')) }, async () => {
      const pcapng = join(topo.workDir, 'server.pcapng');
      const conv = await runCmd('editcap', ['-F', 'pcapng', file, pcapng]);
      assert.equal(conv.code, 0, `editcap failed: ${conv.stderr}`);
      const out = await readWithCli(pcapng);
      assert.equal(out.exitCode, 0, `kubectl shark read failed: ${out.stderr}`);
      checkEntries('clean/pcapng', run, out.entries);
      assert.ok(fromFile.length > 0, 'the pcap read ran first');
      assert.deepEqual(out.entries, fromFile, 'pcapng and pcap of the same packets give identical entries');
    });
  } finally {
    await scope.close();
  }
});
