import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { closest } from './fields.ts';
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

test('closest: of names equally near ignoring case, the one nearest as written', () => {
  for (const names of [['request.opCode', 'request.opcode'], ['request.opcode', 'request.opCode']]) {
    assert.equal(closest('request.opcod', names, 2), 'request.opcode');
    assert.equal(closest('request.opCod', names, 2), 'request.opCode');
  }
  assert.equal(closest('status_cod', ['status_code', 'status'], 2), 'status_code');
  assert.equal(closest('zzz', ['status_code'], 2), undefined);
});
