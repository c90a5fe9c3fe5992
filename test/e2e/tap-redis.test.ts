/**
 * `kubectl shark tap` on Redis in the sandbox cluster: a pod runs Debian's redis-server with a
 * password (`sandbox.local/redis:1`), a client pod calls it with redis-cli in a loop (AUTH then one
 * command per connection: SET, GET, a GET of a missing key, an INCR that fails); both pods are
 * tapped. Every command comes out once (the two sightings merged by the Redis descriptor's dedup
 * key), as a Redis entry named from the cluster (client -> redis), the password never leaves the
 * pods, and the service map built from the rows has one edge with the Redis label.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ServiceGraphBuilder } from '../../src/pipeline/service-graph.ts';
import { redisDescriptor } from '../../src/remote-agent/dissect/redis/descriptor.ts';
import type { RedisEntry } from '../../src/remote-agent/dissect/redis/entry.ts';
import { skipFor } from '../helpers/requirements.ts';
import { requireBuild, startTap } from '../helpers/tap.ts';
import { requireSandbox, startSandbox, type Sandbox, type SandboxFixture } from '../sandbox/index.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
const REDIS_IP = '10.244.0.63';
const PASSWORD = 'tap-redis-s3cret-pw';
const CLI = `redis-cli -h ${REDIS_IP} -a ${PASSWORD} --no-auth-warning`;
/** What the client pod sends each round, one connection per command (each starts with AUTH). */
const COMMANDS = ['SET greeting hello', 'GET greeting', 'GET missing-key', 'INCR greeting'];
const VERBS = ['AUTH', 'SET', 'GET', 'INCR'];

const FIXTURE: SandboxFixture = {
  namespaces: [{ name: 'cache' }],
  pods: [
    {
      namespace: 'cache',
      name: 'redis',
      labels: { app: 'redis' },
      ip: REDIS_IP,
      mountSource: false,
      containers: [
        {
          name: 'redis',
          image: 'sandbox.local/redis:1',
          command: ['redis-server', '--bind', REDIS_IP, '--port', '6379', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', '/tmp'],
        },
      ],
    },
    {
      namespace: 'cache',
      name: 'client',
      labels: { app: 'client' },
      mountSource: false,
      containers: [{ name: 'cli', image: 'sandbox.local/redis:1', command: ['bash', '-c', `while true; do ${COMMANDS.map((c) => `${CLI} ${c}`).join('; ')}; sleep 0.3; done`] }],
    },
  ],
};

let sandbox: Sandbox;

before(async () => {
  if (!skip) sandbox = await startSandbox(FIXTURE);
});

after(async () => {
  if (!skip) await sandbox.stop();
});

const verbOf = (e: RedisEntry): string => redisDescriptor.summarize(e).verb.toUpperCase();

test('tap -n cache: redis-cli in one pod calling redis-server in another, each command once, named, AUTH redacted, a Redis edge on the map', { skip }, async (t) => {
  const tap = startTap(sandbox, ['-n', 'cache', '-o', 'json']);
  const redis = (): RedisEntry[] => tap.entries('redis');
  const verbs = (): Set<string> => new Set(redis().map(verbOf));
  let out = '';
  try {
    await tap.until('every kind of command twice', () => redis().length >= 16 && VERBS.every((v) => verbs().has(v)), 60_000);
  } finally {
    const res = await tap.interrupt();
    out = res.stdout;
    assert.equal(res.code, 0, res.stderr);
  }
  const entries = redis();
  t.diagnostic(
    entries
      .slice(0, 8)
      .map((e) => {
        const r = redisDescriptor.summarize(e);
        return `${e.id} ${e.src.name}:${e.src.port} -> ${e.dst.name}:${e.dst.port} ${r.verb} ${r.target} -> ${r.outcome}`;
      })
      .join('\n'),
  );
  for (const e of entries) {
    assert.equal(e.dst.ip, REDIS_IP);
    assert.equal(e.dst.port, 6379);
    assert.match(e.src.name, /^client/);
    assert.match(e.dst.name, /^redis/);
    assert.equal(e.src.namespace, 'cache');
  }
  // The INCR of a string fails; the GET of a missing key answers nil; the others succeed.
  const incr = entries.filter((e) => verbOf(e) === 'INCR');
  assert.ok(incr.length > 0 && incr.every((e) => redisDescriptor.summarize(e).isError), 'INCR of a string is an error');
  assert.ok(entries.filter((e) => verbOf(e) === 'SET').every((e) => !redisDescriptor.summarize(e).isError));
  // The password never leaves the pods, in any field of any line.
  assert.ok(!out.includes(PASSWORD), 'the AUTH password is in tap -o json');
  // Both pods see every command: merged, each comes out once (a redis-cli call is one connection).
  const calls = entries.map((e) => `${e.src.port}|${verbOf(e)}`);
  assert.equal(new Set(calls).size, calls.length, `duplicates among ${calls.length} entries`);

  // The service map as the TUI builds it from these rows: one Redis edge client -> redis.
  const graph = new ServiceGraphBuilder();
  tap.allEntries().forEach((e, seq) => graph.add(e, seq));
  const label = redisDescriptor.edgeLabel(entries[0]!);
  t.diagnostic(JSON.stringify(graph.graph().edges.map((edge) => [edge.from, edge.to, edge.protocol, edge.requests])));
  assert.match(label, /redis/i);
  const edges = graph.graph().edges.filter((edge) => edge.protocol === label);
  assert.equal(edges.length, 1, 'one Redis edge');
  assert.match(edges[0]!.from, /^client/);
  assert.match(edges[0]!.to, /^redis/);
  assert.equal(edges[0]!.requests, entries.length, 'every command on the edge');
});
