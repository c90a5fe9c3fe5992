/**
 * Filter pushdown in the live agent: a `filter` control frame changes what is sent from the next
 * entry on, without restarting capture (same pid, one hello); an invalid query is a FILTER_INVALID
 * warning that leaves the previous filter in place; "" removes it. `--filter` at start works (also
 * a query starting with "-", in the --name=value form tap uses), and an invalid one is an error
 * frame and exit code 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FilterAppliedFrame, NoticeFrame, StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { prepareAgentDir, procExists, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { agentTopology, startLoad } from './agent-fixtures/topology.ts';
import { agentCommand } from '../../src/kube/agent-runner.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]));
const ONLY_B = 'request.path.startsWith("/b/")';
const ONLY_A = 'request.path.startsWith("/a/")';
const BROKEN = 'request.path.startsWith("/a/"';

const indexOfFrame = (agent: AgentProcess, frame: object): number => agent.frames.indexOf(frame as never);
const pathsFrom = (agent: AgentProcess, from: number): string[] => agent.entries(from).map((e) => e.request.path);
const countPrefix = (paths: readonly string[], prefix: string): number => paths.filter((p) => p.startsWith(prefix)).length;

test('agent filter pushdown: live filter changes, invalid queries, --filter at start', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    // /a/ and /b/ requests take turns, 60 a second, until the test stops the client.
    const load = startLoad(topo, { rate: 60, durationMs: 100_000, prefixes: ['a', 'b'], minSize: 100, maxSize: 3000 });
    scope.defer(async () => {
      await load.stop().catch(() => undefined);
    });

    await t.test('a filter frame changes what is sent, without a restart', async () => {
      const agent = startAgent(topo.server, ['--iface', 'any', '--stats-interval', '250'], { dir, scope });
      const hello = await agent.ready();
      const cmdline = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8');
      await agent.waitUntil(() => {
        const paths = pathsFrom(agent, 0);
        return countPrefix(paths, '/a/') >= 5 && countPrefix(paths, '/b/') >= 5 ? true : undefined;
      }, 10_000, '/a/ and /b/ entries without a filter');

      // Only /b/ from the acknowledgement on.
      const filteredBefore = agent.lastStats()?.filtered ?? 0;
      assert.equal(filteredBefore, 0, 'nothing is filtered without a filter');
      let from = agent.frames.length;
      const sentAtMs = Date.now();
      agent.sendControl({ type: 'filter', query: ONLY_B });
      const ack = await agent.waitFor((f): f is FilterAppliedFrame => f.type === 'filter', 5000, 'the filter acknowledgement', from);
      assert.equal(ack.query, ONLY_B);
      const ackAt = indexOfFrame(agent, ack);
      t.diagnostic(`filter acknowledged ${Date.now() - sentAtMs} ms after it was sent`);
      await agent.waitUntil(() => (countPrefix(pathsFrom(agent, ackAt), '/b/') >= 30 ? true : undefined), 10_000, '30 /b/ entries after the filter');
      const stats = await agent.waitFor((f): f is StatsFrame => f.type === 'stats' && f.filtered > 0, 5000, 'stats counting filtered entries', ackAt);
      let paths = pathsFrom(agent, ackAt);
      assert.deepEqual(paths.filter((p) => !p.startsWith('/b/')), [], 'entries after the acknowledgement that do not match the filter');
      t.diagnostic(`after the filter: ${paths.length} /b/ entries, 0 others; stats.filtered ${stats.filtered}`);

      // An invalid query: a warning with a column, the previous filter stays.
      from = agent.frames.length;
      agent.sendControl({ type: 'filter', query: BROKEN });
      const warning = await agent.waitFor((f): f is NoticeFrame => f.type === 'warning' && f.code === 'FILTER_INVALID', 5000, 'the FILTER_INVALID warning', from);
      t.diagnostic(`invalid query: ${JSON.stringify(warning)}`);
      assert.equal(typeof warning.column, 'number', 'the warning has a column');
      assert.ok(warning.column! >= 1 && warning.column! <= BROKEN.length + 1, `column ${warning.column} lies in the query`);
      const warnAt = indexOfFrame(agent, warning);
      await agent.waitUntil(() => (countPrefix(pathsFrom(agent, warnAt), '/b/') >= 15 ? true : undefined), 10_000, '/b/ entries after the invalid query');
      assert.equal(agent.filterAcks().length, 1, 'an invalid query is not acknowledged');
      paths = pathsFrom(agent, ackAt);
      assert.deepEqual(paths.filter((p) => !p.startsWith('/b/')), [], 'the previous filter stays after an invalid query');
      const filteredLater = agent.lastStats()!.filtered;
      assert.ok(filteredLater > stats.filtered, `stats.filtered grows: ${stats.filtered} -> ${filteredLater}`);

      // "" removes the filter: /a/ entries come back.
      from = agent.frames.length;
      agent.sendControl({ type: 'filter', query: '' });
      const cleared = await agent.waitFor((f): f is FilterAppliedFrame => f.type === 'filter', 5000, 'the acknowledgement of ""', from);
      assert.equal(cleared.query, '');
      const clearedAt = indexOfFrame(agent, cleared);
      await agent.waitUntil(() => (countPrefix(pathsFrom(agent, clearedAt), '/a/') >= 5 ? true : undefined), 10_000, '/a/ entries after the filter was removed');

      // The same process all along.
      assert.equal(agent.exit, null, 'the agent is still running');
      assert.ok(procExists(agent.pid));
      assert.equal(readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8'), cmdline, 'same process');
      assert.equal(agent.hellos().length, 1, 'hello was sent once');
      assert.equal(agent.hellos()[0]!.pid, hello.pid);

      const exit = await agent.stop();
      assert.equal(exit.code, 0);
      const final = agent.stats().at(-1)!;
      assert.equal(final.final, true);
      assert.equal(final.entries, final.sent + final.filtered + final.dropped, 'entries == sent + filtered + dropped');
      assert.equal(final.sent, agent.entries().length, 'stats.sent is the number of entry frames');
      t.diagnostic(`final: entries ${final.entries}, sent ${final.sent}, filtered ${final.filtered}, dropped ${final.dropped}; ${agent.summary()}`);
    });

    await t.test('--filter at start filters from the first entry', async () => {
      const agent = startAgent(topo.server, ['--iface', 'any', '--stats-interval', '250', '--filter', ONLY_A], { dir, scope });
      const hello = await agent.ready();
      assert.equal(hello.filter, ONLY_A);
      await agent.waitUntil(() => (agent.entries().length >= 20 ? true : undefined), 10_000, '20 entries');
      const stats = await agent.waitFor((f): f is StatsFrame => f.type === 'stats' && f.filtered > 0, 5000, 'stats counting filtered entries');
      const paths = pathsFrom(agent, 0);
      assert.deepEqual(paths.filter((p) => !p.startsWith('/a/')), [], 'only /a/ entries');
      const exit = await agent.stop();
      assert.equal(exit.code, 0);
      t.diagnostic(`--filter: ${paths.length} /a/ entries, stats.filtered ${stats.filtered}`);
    });

    await t.test('a --filter starting with "-" (as tap builds the command line) filters instead of failing the agent', async () => {
      // The argv tap runs in the pod, minus `node agent.js capture`: --name=value keeps "-1 <" a value.
      const argv = agentCommand(dir, { redact: true, filter: `-1 < response.status and ${ONLY_B}` }).slice(3);
      assert.ok(argv.includes(`--filter=-1 < response.status and ${ONLY_B}`), argv.join(' '));
      const agent = startAgent(topo.server, [...argv, '--stats-interval=250'], { dir, scope });
      const hello = await agent.ready();
      assert.equal(hello.filter, `-1 < response.status and ${ONLY_B}`);
      await agent.waitUntil(() => (agent.entries().length >= 10 ? true : undefined), 10_000, '10 entries');
      const paths = pathsFrom(agent, 0);
      assert.deepEqual(paths.filter((p) => !p.startsWith('/b/')), [], 'only /b/ entries');
      const exit = await agent.stop();
      assert.equal(exit.code, 0, agent.summary());
      t.diagnostic(`--filter=-1 < ...: ${paths.length} /b/ entries`);
    });

    await t.test('an invalid --filter is an error frame FILTER_INVALID and exit code 2', async () => {
      const agent = startAgent(topo.server, ['--iface', 'any', '--filter', BROKEN], { dir, scope });
      const exit = await agent.waitExit(5000);
      await agent.closed;
      assert.equal(exit.code, 2, `exit code (${agent.summary()}; ${agent.stderr})`);
      const errors = agent.notices('FILTER_INVALID');
      assert.equal(errors.length, 1, agent.summary());
      assert.equal(errors[0]!.type, 'error');
      assert.equal(typeof errors[0]!.column, 'number');
      assert.equal(agent.entries().length, 0);
      t.diagnostic(`invalid --filter: ${JSON.stringify(errors[0])}, bye ${JSON.stringify(agent.bye())}`);
    });

    const report = await load.stop();
    t.diagnostic(`load: ${report.completed} requests completed (${JSON.stringify(report.byPrefix)}), ${report.failed} failed in ${report.elapsedMs} ms`);
    assert.equal(report.failed, 0);
  } finally {
    await scope.close();
  }
});
