/**
 * `kubectl shark demo` (the README's first command) works with no cluster and no root: it dissects the
 * bundled recording, and the pcapng name records name every workload.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';

test('demo dissects the bundled microservice recording with workload names', async () => {
  const res = await runShark(['demo', '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  const entries = parseNdjson<Entry>(res.stdout);
  assert.ok(entries.length >= 150, `${entries.length} entries`);
  const edges = new Set(entries.map((e) => `${e.src.name} -> ${e.dst.name}`));
  for (const edge of ['client -> front-end', 'front-end -> catalogue', 'front-end -> carts', 'front-end -> orders', 'orders -> payment', 'front-end -> user']) {
    assert.ok(edges.has(edge), `edge ${edge} in ${[...edges].join(', ')}`);
  }
  assert.ok(entries.every((e) => e.src.namespace === 'sock-shop' && e.dst.namespace === 'sock-shop'));
  const statuses = new Set(entries.map((e) => e.response?.status));
  for (const status of [200, 201, 401, 402, 406]) assert.ok(statuses.has(status), `status ${status} present`);
  assert.ok(entries.some((e) => e.elapsedTime > 300), 'a slow call is in the recording');
  assert.match(res.stderr, /0 unpaired requests, 0 gaps/);
});
