/**
 * Acceptance point 2, impaired link: the same traffic as own-traffic.test.ts, but the client and
 * server namespaces are joined through a relay namespace running test/helpers/impair-bridge.py
 * (2% loss, 10% reordering, 1% duplication, seeded PRNG; this kernel has no netem). Captured at the
 * server (sees retransmissions and out-of-order client data) and at the client (sees the server's
 * losses as holes filled later). Every request the client completed must still be in our output
 * with the right status, body size and body hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { captureFacts, cliAvailable, readWithCli } from '../helpers/capture.ts';
import { captureTraffic, checkClientSide, checkEntries, impairedTopology } from './fixtures/traffic.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns());
// KS_E2E_SEED and KS_E2E_IMPAIR="loss,reorder,dup" (fractions) explore other runs; the defaults are
// the acceptance point's rates with a fixed seed.
const SEED = Number(process.env.KS_E2E_SEED ?? '20240611');
const [LOSS = 0.02, REORDER = 0.1, DUP = 0.01] = (process.env.KS_E2E_IMPAIR ?? '').split(',').filter(Boolean).map(Number);

test('own traffic over an impaired link (2% loss, 10% reordering, 1% duplication)', { skip }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await impairedTopology(scope, SEED, { loss: LOSS, reorder: REORDER, dup: DUP });
    const { run, captures, tcpdumpReports, droppedByKernel } = await captureTraffic(topo, ['server', 'client']);
    const relay = await topo.stopRelay!();
    t.diagnostic(`relay (seed ${SEED}, loss ${LOSS}, reorder ${REORDER}, dup ${DUP}): ${JSON.stringify(relay)}`);
    for (const [side, report] of tcpdumpReports) t.diagnostic(`tcpdump (${side}): ${report}`);
    for (const [side, n] of droppedByKernel) assert.equal(n, 0, `tcpdump (${side}) lost packets: the capture is incomplete`);

    await t.test('the link really was impaired and the relay forwarded every frame it meant to', () => {
      assert.ok(relay.dropped > 0, 'the relay dropped frames');
      assert.ok(relay.reordered > 0, 'the relay reordered frames');
      assert.ok(relay.duplicated > 0, 'the relay duplicated frames');
      assert.ok(relay.gso_frames > 0, 'over-MTU (GSO) frames reached the relay and were segmented');
      assert.equal(relay.send_errors, 0, `relay send errors: ${relay.last_send_error}`);
    });

    await t.test('the clients received what the server sends', () => {
      checkClientSide(run);
      t.diagnostic(`${run.requests.length} requests, ${run.requests.filter((r) => r.completed).length} completed, ${run.reusedConnections} on reused connections`);
    });

    await t.test('the server-side capture carries over-MTU segments and offloaded TCP checksums', () => {
      const facts = captureFacts(captures.get('server')!);
      t.diagnostic(`server capture: ${facts.frames} frames, largest ${facts.largestFrame} bytes, ${facts.overMtuFrames} over the MTU, ${facts.badTcpChecksums} bad TCP checksums`);
      assert.ok(facts.overMtuFrames > 0, 'expected TSO/GSO segments larger than the MTU in the server capture');
      assert.ok(facts.badTcpChecksums > 0, 'expected segments with offloaded (unfinished) TCP checksums');
    });

    for (const side of ['server', 'client'] as const) {
      await t.test(`kubectl shark read of the ${side}-side capture finds every completed request`, { skip: skipFor(cliAvailable()) }, async () => {
        const out = await readWithCli(captures.get(side)!);
        assert.equal(out.exitCode, 0, `kubectl shark read failed: ${out.stderr}`);
        const report = checkEntries(`impaired/${side}`, run, out.entries);
        t.diagnostic(`impaired/${side}: ${report.requests} requests, ${report.completed} completed, ${report.matched} matched of ${report.entries} entries, gaps ${out.gaps}`);
        t.diagnostic(`summary: ${out.stderr}`);
        assert.equal(report.matched, report.completed + 1, 'every completed request and the cut one are matched');
      });
    }
  } finally {
    await scope.close();
  }
});
