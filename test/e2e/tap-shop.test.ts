/**
 * The sandbox's demo shop looks like a real system to `tap`: besides its 200s it has client errors
 * (a missing item, a refused order), server errors (the db's occasional 503, passed on as 502), a
 * slow search and JSON request bodies, so that filters and the service map have something to show.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { allPods, assertNoAgents, coreApiOf, requireBuild, runTap, startTap } from '../helpers/tap.ts';
import { SHOP_SEARCH_MIN_MS, shopCallOf } from '../sandbox/demo-app.ts';
import { demoShopFixture, requireSandbox, startSandbox, type Sandbox } from '../sandbox/index.ts';

const skip = requireSandbox() ?? requireBuild() ?? false;
if (skip) process.stderr.write(`skipping the demo shop tap tests: ${skip}\n`);

let sandbox: Sandbox;

before(async () => {
  if (!skip) sandbox = await startSandbox(demoShopFixture({ intervalMs: 200 }));
});

after(async () => {
  if (!skip) await sandbox.stop();
});

function entriesOf(stdout: string): Entry[] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Entry).filter((e) => (e as { type?: string }).type === undefined);
}

const pairOf = (e: Entry): string => `${e.src.name}->${e.dst.name}`;
const describeEntry = (e: Entry): string => `${pairOf(e)} ${e.request.method} ${e.request.url} ${e.response?.status} ${e.elapsedTime.toFixed(0)}ms`;

/** What a look at the shop's traffic should find, each as a test on the entries so far. */
const SIGHTS: Record<string, (entries: readonly Entry[]) => boolean> = {
  'front-end->catalogue 404 (the missing item)': (es) => es.some((e) => pairOf(e) === 'front-end->catalogue' && e.request.url === '/catalogue/item/42' && e.response?.status === 404),
  'catalogue->db 404 (the missing item)': (es) => es.some((e) => pairOf(e) === 'catalogue->db' && e.request.url === '/items/42' && e.response?.status === 404),
  'front-end->catalogue 400 (the refused order)': (es) => es.some((e) => pairOf(e) === 'front-end->catalogue' && e.request.method === 'POST' && e.response?.status === 400),
  'catalogue->db 503 (the db fails)': (es) => es.some((e) => pairOf(e) === 'catalogue->db' && e.response?.status === 503),
  'front-end->catalogue 502 (passed on)': (es) => es.some((e) => pairOf(e) === 'front-end->catalogue' && e.response?.status === 502),
  'a slow search on front-end->catalogue': (es) => es.some((e) => pairOf(e) === 'front-end->catalogue' && e.request.path === '/catalogue/search' && e.response !== null && e.response.status < 500),
  'a slow search on catalogue->db': (es) => es.some((e) => pairOf(e) === 'catalogue->db' && e.request.url === '/query?q=wool&scan=full' && e.response !== null && e.response.status < 500),
  'an order with its JSON body on front-end->catalogue': (es) => es.some((e) => pairOf(e) === 'front-end->catalogue' && e.request.method === 'POST' && e.response?.status === 201),
  'an order with its JSON body on catalogue->db': (es) => es.some((e) => pairOf(e) === 'catalogue->db' && e.request.method === 'POST' && e.response?.status === 201),
};

test('tap -n shop: 4xx, 5xx, a slow search and JSON bodies on both calls of the shop, each where the shop puts it', { skip }, async () => {
  // Both ends of each call are tapped (each call comes out once). A round of the front-end's nine
  // calls takes 1.8 s at 200 ms, the db fails one request in ten: all of it within seconds.
  const tap = startTap(sandbox, ['-n', 'shop', '-o', 'json']);
  const missing = (): string[] => Object.entries(SIGHTS).filter(([, seen]) => !seen(tap.entries())).map(([what]) => what);
  try {
    await tap.until('every kind of call', () => missing().length === 0, 30_000).catch((err: Error) => assert.fail(`${err.message}\nmissing: ${missing().join('; ')}\n${tap.entries().map(describeEntry).join('\n')}`));
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
  const entries = tap.entries();

  // Every front-end call is one of the shop's, answered as the shop says (or 502 when the db failed it).
  for (const e of entries.filter((x) => pairOf(x) === 'front-end->catalogue')) {
    const call = shopCallOf(e.request.method, e.request.url, e.request.postData?.text ?? null);
    assert.ok(call, `not a call of the shop's front-end: ${describeEntry(e)}`);
    assert.ok([call.status, 502].includes(e.response!.status), describeEntry(e));
  }
  assert.match(entries.find((e) => e.response?.status === 503)!.response!.content.text, /connection pool exhausted/);
  // The search is slow (the db's full scan) wherever it was answered.
  const searches = entries.filter((e) => (e.request.path === '/catalogue/search' || e.request.url.endsWith('&scan=full')) && e.response!.status < 500);
  for (const e of searches) assert.ok(e.elapsedTime > 150 && e.elapsedTime >= SHOP_SEARCH_MIN_MS - 5, describeEntry(e));
  // The orders carry their JSON body, and the db's answer names it.
  const orders = entries.filter((e) => e.request.method === 'POST' && e.response!.status === 201);
  for (const e of orders) {
    assert.equal(e.request.postData!.mimeType, 'application/json', describeEntry(e));
    assert.deepEqual(JSON.parse(e.request.postData!.text), { item: 3, qty: 2 });
    assert.equal(e.request.bodySize, Buffer.byteLength('{"item":3,"qty":2}'));
    assert.match(e.response!.content.text, /"state":"accepted"/);
  }
  const took = Math.max(...entries.map((e) => e.timestamp)) - Math.min(...entries.map((e) => e.timestamp));
  process.stdout.write(`# ${entries.length} entries over ${(took / 1000).toFixed(1)} s; statuses ${JSON.stringify(countBy(entries, (e) => String(e.response?.status)))}; searches ${searches.map((e) => e.elapsedTime.toFixed(0)).join(', ')} ms; slowest other ${Math.max(...entries.filter((e) => !searches.includes(e)).map((e) => e.elapsedTime)).toFixed(0)} ms\n`);
  await assertNoAgents(sandbox, await allPods(coreApiOf(sandbox)));
});

test('filters find them: 5xx only, slow calls only', { skip }, async () => {
  const errors = await runTap(sandbox, ['-n', 'shop', '-o', 'json', '--count', '2', '--filter', 'response.status >= 500'], 30_000);
  assert.equal(errors.code, 0, errors.stderr);
  const failed = entriesOf(errors.stdout);
  assert.equal(failed.length, 2);
  for (const e of failed) assert.ok([502, 503].includes(e.response!.status), describeEntry(e));

  const slow = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json', '--count', '2', '--filter', 'elapsedTime > 150'], 30_000);
  assert.equal(slow.code, 0, slow.stderr);
  const found = entriesOf(slow.stdout);
  const seen = found.map(describeEntry).join('\n');
  // The searches are the slow ones (on a loaded machine another call may be slow too, once).
  assert.ok(found.length === 2 && found.every((e) => e.elapsedTime > 150), seen);
  assert.ok(found.some((e) => e.request.path === '/catalogue/search'), seen);
  await assertNoAgents(sandbox, await allPods(coreApiOf(sandbox)));
});

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
