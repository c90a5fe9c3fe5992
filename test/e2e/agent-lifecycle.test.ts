/**
 * The agent's lifecycle while it captures traffic: stdin EOF (its lifeline in an ephemeral
 * container), SIGTERM, SIGINT, SIGHUP and the stop frame each end it within 1 s with the documented
 * bye reason, leaving no process behind; --idle-exit ends it when the reader takes nothing; an
 * unknown interface and a bad flag give the documented error frames and exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StopReason } from '../../src/remote-agent/wire/protocol.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { netnsPids, prepareAgentDir, procExists, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { agentTopology, startLoad } from './agent-fixtures/topology.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]));

interface Ending {
  readonly name: string;
  readonly act: (agent: AgentProcess) => void;
  readonly reason: StopReason;
}

const ENDINGS: readonly Ending[] = [
  { name: 'stdin EOF', act: (a) => a.closeStdin(), reason: 'stdin-eof' },
  { name: 'SIGTERM', act: (a) => a.signal('SIGTERM'), reason: 'signal' },
  { name: 'SIGINT', act: (a) => a.signal('SIGINT'), reason: 'signal' },
  { name: 'SIGHUP', act: (a) => a.signal('SIGHUP'), reason: 'signal' },
  { name: '{"type":"stop"}', act: (a) => a.sendControl({ type: 'stop' }), reason: 'stop' },
];

test('agent lifecycle: every way to stop it, --idle-exit, capture and usage errors', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    // Enough output (about 1 MB/s of entries) that a reader who stops reading leaves it waiting.
    const load = startLoad(topo, { rate: 150, durationMs: 100_000, prefixes: ['l'], minSize: 4096, maxSize: 12_288 });
    scope.defer(async () => {
      await load.stop().catch(() => undefined);
    });
    const latencies: string[] = [];

    for (const ending of ENDINGS) {
      await t.test(`${ending.name}: exit within 1 s, bye "${ending.reason}", nothing left running`, async () => {
        const agent = startAgent(topo.server, ['--iface', 'any'], { dir, scope });
        await agent.ready();
        await agent.waitUntil(() => (agent.entries().length >= 3 ? true : undefined), 10_000, 'entries from the running capture');
        const actedMs = Date.now();
        ending.act(agent);
        const exit = await agent.waitExit(5000);
        const latency = exit.atMs - actedMs;
        await agent.closed;
        latencies.push(`${ending.name} ${latency} ms`);
        t.diagnostic(`${ending.name}: exit ${latency} ms after, code ${exit.code}, signal ${exit.signal}, ${agent.summary()}`);
        assert.ok(latency < 1000, `exit took ${latency} ms`);
        assert.equal(exit.code, 0);
        assert.equal(exit.signal, null, 'the agent exits by itself, not killed by the signal');
        assert.deepEqual(agent.frames.at(-1), { type: 'bye', reason: ending.reason });
        const final = agent.frames.at(-2);
        assert.ok(final?.type === 'stats' && final.final === true, 'a final stats frame precedes bye');
        assert.equal(procExists(agent.pid), false, `/proc/${agent.pid} still exists`);
        assert.deepEqual(await netnsPids(topo.server), [topo.serverPid], 'only the test server is left in the namespace');
      });
    }

    await t.test('--idle-exit 2: a reader that takes nothing ends the agent after about 2 s', async () => {
      const agent = startAgent(topo.server, ['--iface', 'any', '--idle-exit', '2'], { dir, scope });
      await agent.ready();
      await agent.waitUntil(() => (agent.entries().length >= 10 ? true : undefined), 10_000, 'entries from the running capture');
      const pausedMs = Date.now();
      agent.pauseReading();
      let exit;
      try {
        exit = await agent.waitExit(10_000);
      } finally {
        agent.resumeReading();
      }
      const after = exit.atMs - pausedMs;
      await agent.closed;
      const bye = agent.bye();
      t.diagnostic(`idle exit ${after} ms after the reader stopped, code ${exit.code}; bye ${bye ? bye.reason : 'not delivered (left in the queue)'}; ${agent.summary()}`);
      latencies.push(`idle ${after} ms after pause`);
      assert.ok(after >= 1500 && after <= 5000, `exit ${after} ms after the reader stopped`);
      assert.equal(exit.code, 0);
      if (bye !== undefined) assert.equal(bye.reason, 'idle');
      assert.equal(procExists(agent.pid), false);
      assert.deepEqual(await netnsPids(topo.server), [topo.serverPid]);
    });

    await t.test('--iface nope0: error frame CAPTURE_NO_INTERFACE, exit code 1', async () => {
      const agent = startAgent(topo.server, ['--iface', 'nope0'], { dir, scope });
      const exit = await agent.waitExit(5000);
      await agent.closed;
      const errors = agent.notices('CAPTURE_NO_INTERFACE');
      t.diagnostic(`nope0: code ${exit.code}, ${JSON.stringify(errors[0])}`);
      assert.equal(exit.code, 1, agent.summary());
      assert.equal(errors.length, 1, agent.summary());
      assert.equal(errors[0]!.type, 'error');
      assert.match(errors[0]!.message, /eth0/, 'the message lists the interfaces there are');
      assert.deepEqual(agent.frames.at(-1), { type: 'bye', reason: 'error' });
    });

    await t.test('a bad flag: exit code 2 with a USAGE error frame', async () => {
      const agent = startAgent(topo.server, ['--no-such-flag'], { dir, scope });
      const exit = await agent.waitExit(5000);
      await agent.closed;
      t.diagnostic(`bad flag: code ${exit.code}, ${agent.summary()}, stderr ${JSON.stringify(agent.stderr.trim())}`);
      assert.equal(exit.code, 2);
      assert.equal(agent.notices('USAGE').length, 1);
      assert.equal(agent.hellos().length, 0, 'no hello for a command line that does not parse');
    });

    const report = await load.stop();
    t.diagnostic(`exit latencies: ${latencies.join(', ')}`);
    t.diagnostic(`load: ${report.completed} requests completed, ${report.failed} failed in ${report.elapsedMs} ms`);
  } finally {
    await scope.close();
  }
});
