/**
 * A call seen from both ends of a connection is one call (issue 10, item 18). Two real agents, one
 * in the client's network namespace and one in the server's, join the same keep-alive connection
 * at different moments: the client-side agent before the first request, the server-side one after
 * N requests. Their frames, merged by TapMerger as `tap` merges pods, give every call exactly once,
 * and the copies dropped are exactly the calls both agents saw. A connection both agents saw from
 * its start, and a fresh connection from the same client port, are deduplicated too.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { ClusterNames } from '../../src/pipeline/cluster-names.ts';
import { TapMerger, type TapSource } from '../../src/pipeline/tap-merge.ts';
import type { AgentFrame } from '../../src/remote-agent/wire/protocol.ts';
import { prepareAgentDir, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { NODE, REPO_ROOT } from '../helpers/capture.ts';
import { requireNetns, Scope } from '../helpers/netns.ts';
import { agentTopology, PORT, SERVER_IP, type AgentTopology } from './agent-fixtures/topology.ts';

const skip = requireNetns([]) ?? false;
if (skip) process.stdout.write(`# agent-dedup skipped: ${skip}\n`);

const CLIENT_POD: TapSource = { key: 'demo/client-0', namespace: 'demo', pod: 'client-0' };
const SERVER_POD: TapSource = { key: 'demo/server-0', namespace: 'demo', pod: 'server-0' };

/** One keep-alive connection from the client namespace, driven a batch of requests at a time. */
class KeepAliveClient {
  readonly #send: (line: string) => void;
  readonly #replies: AsyncIterator<string>;

  constructor(topo: AgentTopology) {
    const child = topo.client.spawn(NODE, [join(REPO_ROOT, 'test/e2e/agent-fixtures/keepalive-client.ts'), SERVER_IP, String(PORT)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#send = (line) => child.stdin!.write(`${line}\n`);
    this.#replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  /** Sends `count` requests /prefix/<first..>/fixed/32 one after the other; returns their paths and the client port. */
  async requests(count: number, prefix: string, first: number): Promise<{ sent: string[]; localPort: number }> {
    this.#send(`${count} ${prefix} ${first}`);
    const reply = await this.#replies.next();
    if (reply.done === true) throw new Error('the keep-alive client exited');
    return JSON.parse(reply.value) as { sent: string[]; localPort: number };
  }

  close(): void {
    this.#send('');
  }
}

/** Every frame of both agents, in the order this process read them (as tap would merge them). */
function arrivalOrder(agents: ReadonlyArray<readonly [TapSource, AgentProcess]>): Array<[TapSource, AgentFrame]> {
  const all: Array<{ at: number; seq: number; source: TapSource; frame: AgentFrame }> = [];
  let seq = 0;
  for (const [source, agent] of agents) {
    agent.frames.forEach((frame, i) => all.push({ at: agent.frameTimes[i]!, seq: seq++, source, frame }));
  }
  all.sort((x, y) => x.at - y.at || x.seq - y.seq);
  return all.map((x) => [x.source, x.frame]);
}

function merge(agents: ReadonlyArray<readonly [TapSource, AgentProcess]>): { entries: Entry[]; merger: TapMerger } {
  const entries: Entry[] = [];
  const merger = new TapMerger(new ClusterNames(), (e) => entries.push(e as Entry));
  for (const [source, frame] of arrivalOrder(agents)) merger.frame(source, frame);
  return { entries, merger };
}

const pathsOf = (agent: AgentProcess, prefix: string): string[] => agent.entries().map((e) => e.request.path).filter((p) => p.startsWith(`/${prefix}/`));

test('two agents joining one keep-alive connection at different moments: each call once, the overlap counted as duplicates', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    const clientAgent = startAgent(topo.client, ['--iface=any', '--stats-interval=250'], { dir, scope });
    await clientAgent.ready();
    const client = new KeepAliveClient(topo);
    scope.defer(() => client.close());

    // N requests seen by the client-side agent only.
    const N = 5;
    const early = await client.requests(N, 'ka', 0);
    await clientAgent.waitUntil(() => (pathsOf(clientAgent, 'ka').length >= N ? true : undefined), 10_000, `${N} entries in the client agent`);

    // The server-side agent joins the same connection after N requests; M more go over it.
    const serverAgent = startAgent(topo.server, ['--iface=any', '--stats-interval=250'], { dir, scope });
    await serverAgent.ready();
    const M = 7;
    const late = await client.requests(M, 'ka', N);
    assert.equal(late.localPort, early.localPort, 'one connection all along');
    await clientAgent.waitUntil(() => (pathsOf(clientAgent, 'ka').length >= N + M ? true : undefined), 10_000, `${N + M} entries in the client agent`);
    await serverAgent.waitUntil(() => (pathsOf(serverAgent, 'ka').length >= M ? true : undefined), 10_000, `${M} entries in the server agent`);

    // A second connection, opened while both agents run, seen whole by both.
    const fresh = new KeepAliveClient(topo);
    scope.defer(() => fresh.close());
    const both = await fresh.requests(4, 'fresh', 0);
    await clientAgent.waitUntil(() => (pathsOf(clientAgent, 'fresh').length >= 4 ? true : undefined), 10_000, '4 fresh entries in the client agent');
    await serverAgent.waitUntil(() => (pathsOf(serverAgent, 'fresh').length >= 4 ? true : undefined), 10_000, '4 fresh entries in the server agent');

    assert.equal((await clientAgent.stop()).code, 0);
    assert.equal((await serverAgent.stop()).code, 0);
    t.diagnostic(`client agent: ${pathsOf(clientAgent, 'ka').length} + ${pathsOf(clientAgent, 'fresh').length} entries; server agent: ${pathsOf(serverAgent, 'ka').length} + ${pathsOf(serverAgent, 'fresh').length}`);
    t.diagnostic(`pair ids on the shared connection: client agent ${clientAgent.entries().filter((e) => e.request.path.startsWith('/ka/')).map((e) => e.id).join(' ')}; server agent ${serverAgent.entries().filter((e) => e.request.path.startsWith('/ka/')).map((e) => e.id).join(' ')}`);

    const { entries, merger } = merge([
      [CLIENT_POD, clientAgent],
      [SERVER_POD, serverAgent],
    ]);
    const paths = entries.map((e) => e.request.path).sort();
    const expected = [...early.sent, ...late.sent, ...both.sent].sort();
    assert.deepEqual(paths, expected, 'every call exactly once');
    assert.equal(merger.duplicates, M + 4, 'the calls both agents saw, dropped once each');
    const stats = merger.stats();
    assert.equal(stats.reduce((n, s) => n + s.entries, 0), N + M + 4);

    // The mechanism: both agents name each shared call by the same sequence number.
    const seqs = (agent: AgentProcess): Map<string, unknown> =>
      new Map(agent.frames.flatMap((f) => (f.type === 'entry' ? [[(f.entry as Entry).request.path, f.requestSeq] as const] : [])));
    const fromClient = seqs(clientAgent);
    const fromServer = seqs(serverAgent);
    for (const path of [...late.sent, ...both.sent]) {
      assert.equal(typeof fromClient.get(path), 'number', `${path}: requestSeq on the client agent's frame`);
      assert.equal(fromServer.get(path), fromClient.get(path), `${path}: the same requestSeq from both ends`);
    }
    t.diagnostic(`requestSeq of the shared calls: ${late.sent.map((p) => fromClient.get(p)).join(' ')}`);
  } finally {
    await scope.close();
  }
});
