import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
test('cluster-named endpoints: pod and service aliases read pod/service; capture-file entries fall back to name', async () => {
  const { compileKfl } = await import('./index.ts');
  const entry = (src: Record<string, string>): Entry => ({ src, dst: { name: 'db', namespace: 'shop' } }) as unknown as Entry;
  const cluster = entry({ ip: '10.244.0.5', name: 'front-end', namespace: 'shop', pod: 'front-end-7d9f-abcde', service: 'front-end' });
  const bare = entry({ ip: '10.244.0.5', name: 'front-end', namespace: 'shop' });
  const test1 = (q: string, e: Entry): boolean => {
    const r = compileKfl(q);
    assert.ok(r.ok, q);
    return r.ok && r.filter.test(e);
  };
  assert.equal(test1('src.pod.name == "front-end-7d9f-abcde"', cluster), true);
  assert.equal(test1('src.pod == "front-end-7d9f-abcde"', cluster), true);
  assert.equal(test1('src.service.name == "front-end"', cluster), true);
  assert.equal(test1('"front-end-7d9f-abcde" in pods', cluster), true);
  assert.equal(test1('src.pod.name == "front-end"', bare), true);
  assert.equal(test1('"front-end" in services', bare), true);
});
