import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushdownSafe } from './filter-pushdown.ts';

test('queries on the messages run in the agents; queries on names, ids or limit() only in the CLI', () => {
  for (const q of ['http and response.status >= 500', 'request.path.startsWith("/api")', 'elapsedTime > 100', 'method == "POST"']) {
    assert.equal(pushdownSafe(q), true, q);
  }
  for (const q of ['dst.name == "db"', 'src.namespace == "shop"', '"shop" in namespaces', 'dst.pod.name == "x"', 'id == "a/b/0-1"', 'http and limit(5)', 'src_name == "x"', '']) {
    assert.equal(pushdownSafe(q), false, q);
  }
});
