/**
 * `kubectl shark demo` (the README's first command) works with no cluster and no root: it dissects the
 * bundled recording, and the pcapng name records name every workload. Behind the shop's HTTP calls
 * sit two real data stores (test/demo/record-demo.sh): the catalogue's cache in redis-server and the
 * orders in PostgreSQL, so the demo's list and map mix protocols.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry, PostgresqlEntry, RedisEntry } from '../../src/model/entry.ts';
import { DESCRIPTORS, summarizeEntry } from '../../src/remote-agent/dissect/descriptors.ts';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { ServiceGraphBuilder } from '../../src/pipeline/service-graph.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';

test('demo dissects the bundled microservice recording with workload names', async () => {
  const res = await runShark(['demo', '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  const entries = parseNdjson<Entry>(res.stdout);
  const http = entries.filter((e): e is HttpEntry => e.protocol.name === 'http');
  assert.ok(http.length >= 150, `${http.length} HTTP entries`);
  const edges = new Set(entries.map((e) => `${e.src.name} -> ${e.dst.name}`));
  for (const edge of ['client -> front-end', 'front-end -> catalogue', 'front-end -> carts', 'front-end -> orders', 'orders -> payment', 'front-end -> user']) {
    assert.ok(edges.has(edge), `edge ${edge} in ${[...edges].join(', ')}`);
  }
  assert.ok(entries.every((e) => e.src.namespace === 'sock-shop' && e.dst.namespace === 'sock-shop'));
  const statuses = new Set(http.map((e) => e.response?.status));
  for (const status of [200, 201, 401, 402, 406, 500]) assert.ok(statuses.has(status), `status ${status} present`);
  assert.ok(http.some((e) => e.elapsedTime > 300), 'a slow call is in the recording');
  assert.match(res.stderr, /0 unpaired requests, 0 gaps/);
});

/**
 * What the recorded services said to their stores (counted in the recording's client streams with
 * tshark's follow,tcp: the catalogue's node-redis client sent HELLO 3, then per request a GET, a SET
 * after each of the 5 misses, one pipelined write of INCR, EXPIRE, ZINCRBY, 2 DELs (price updates) and
 * 2 HINCRBYs that Redis refused with WRONGTYPE; the orders' pg client sent 23 INSERTs, 3 of them
 * refused by the unique key (SQLSTATE 23505), and 11 SELECTs, each as Parse/Bind/Describe/Execute/Sync.
 */
const REDIS_COMMANDS = { HELLO: 1, GET: 20, SET: 5, INCR: 20, EXPIRE: 20, ZINCRBY: 20, DEL: 2, HINCRBY: 2 } as const;

/** An entry's request as text, for finding a statement or command in it whatever its field names. */
const requestText = (entry: Entry): string => JSON.stringify(entry.request);

test('demo: the catalogue -> redis and orders -> postgres hops, each command once, errors as errors, map edges labelled by protocol', async () => {
  const res = await runShark(['demo', '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  const entries = parseNdjson<Entry>(res.stdout);

  const redis = entries.filter((e): e is RedisEntry => e.protocol.name === DESCRIPTORS.redis.name);
  assert.ok(redis.every((e) => e.src.name === 'catalogue' && e.dst.name === 'redis'), 'Redis entries go from catalogue to redis');
  const verbs = new Map<string, number>();
  for (const entry of redis) {
    const verb = summarizeEntry(entry).verb.toUpperCase();
    verbs.set(verb, (verbs.get(verb) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries([...verbs].sort()), Object.fromEntries(Object.entries(REDIS_COMMANDS).sort()), 'each command the catalogue sent, once');
  const redisErrors = redis.filter((e) => summarizeEntry(e).isError);
  assert.deepEqual(redisErrors.map((e) => summarizeEntry(e).verb.toUpperCase()), ['HINCRBY', 'HINCRBY'], 'the WRONGTYPE answers are the errors');
  assert.ok(redisErrors.every((e) => JSON.stringify(e.response).includes('WRONGTYPE')));

  const postgres = entries.filter((e): e is PostgresqlEntry => e.protocol.name === DESCRIPTORS.postgresql.name);
  assert.ok(postgres.every((e) => e.src.name === 'orders' && e.dst.name === 'postgres'), 'PostgreSQL entries go from orders to postgres');
  const inserts = postgres.filter((e) => requestText(e).includes('INSERT INTO orders'));
  const selects = postgres.filter((e) => requestText(e).includes('SELECT count(*) AS orders'));
  assert.equal(inserts.length, 23, 'every INSERT once');
  assert.equal(selects.length, 11, 'every SELECT once');
  const pgErrors = postgres.filter((e) => summarizeEntry(e).isError);
  assert.deepEqual(pgErrors, inserts.filter((e) => JSON.stringify(e.response).includes('23505')), 'the unique-key violations (23505) are the errors');
  assert.equal(pgErrors.length, 3);

  // The service map (the pipeline's graph the TUI draws): the two hops, labelled by their descriptors.
  const graph = new ServiceGraphBuilder();
  entries.forEach((entry, seq) => graph.add(entry, seq));
  const mapEdges = graph.graph().edges.map((e) => `${e.from} -> ${e.to} ${e.protocol} ${e.requests}`);
  const redisLabel = DESCRIPTORS.redis.edgeLabel(redis[0]!);
  const postgresLabel = DESCRIPTORS.postgresql.edgeLabel(postgres[0]!);
  assert.ok(mapEdges.includes(`catalogue -> redis ${redisLabel} ${redis.length}`), mapEdges.join('\n'));
  assert.ok(mapEdges.includes(`orders -> postgres ${postgresLabel} ${postgres.length}`), mapEdges.join('\n'));
  assert.match(res.stderr, /0 unpaired requests, 0 gaps/);
  assert.doesNotMatch(res.stderr, /not dissected/, 'every connection of the recording is dissected');
});
