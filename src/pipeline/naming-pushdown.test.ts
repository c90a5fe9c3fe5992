/**
 * The filter push-down check (src/kfl/pushdown.ts) against what the CLI does to an agent's entry:
 * whenever it says a query may run in the agent, the query gives the same answer on the entry as
 * the agent has it and on the entry after tap-merge gave it a unique id and named its endpoints.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { compileKfl } from '../kfl/index.ts';
import { pushdownSafe } from '../kfl/pushdown.ts';
import { randomPredicate, randomTokens, rng } from '../../test/helpers/random-queries.ts';
import { httpEntry } from '../../test/helpers/entries.ts';
import { ClusterNames } from './cluster-names.ts';
import { NameTable } from './naming.ts';

/** Entries as an agent sends them: endpoint names empty, an agent-local id. */
function agentEntries(): Entry[] {
  const bare = (ip: string, port: number) => ({ ip, port, name: '', namespace: '' });
  return [
    httpEntry({ id: '0-1', src: bare('10.0.0.1', 43210), dst: bare('10.0.0.2', 8080) }),
    httpEntry({ id: '3-0', src: bare('10.0.0.2', 5000), dst: bare('10.96.0.10', 80), response: null }),
  ];
}

/** Named as live taps name them (pods and services) and as capture files do (a name table). */
const cluster = new ClusterNames();
cluster.upsertPod({ namespace: 'shop', name: 'frontend-6b9c8d7f5-abcde', ip: '10.0.0.1', labels: { app: 'frontend' }, workload: 'frontend' });
cluster.upsertPod({ namespace: 'production', name: 'carts-0', ip: '10.0.0.2', labels: { app: 'carts' } });
cluster.upsertService({ namespace: 'production', name: 'carts', clusterIP: '10.96.0.10', selector: { app: 'carts' } });
const table = new NameTable();
table.add('10.0.0.1', ['frontend.shop.svc.cluster.local']);
table.add('10.0.0.2', ['carts.production.svc.cluster.local']);

function namedByCli(e: Entry, namer: { nameEntry(e: Entry): Entry }): Entry {
  const copy = structuredClone(e);
  copy.id = `shop/frontend-6b9c8d7f5-abcde/${copy.id}`; // as tap-merge makes ids unique
  return namer.nameEntry(copy);
}

test('a query the check lets run in the agent answers the same before and after the CLI names the entry', () => {
  const next = rng(12);
  let safe = 0;
  let namingMatters = 0;
  const queries = [...Array.from({ length: 4000 }, () => randomPredicate(next)), ...Array.from({ length: 4000 }, () => randomTokens(next))];
  for (const q of queries) {
    const compiled = compileKfl(q, { nowMs: 0 });
    if (!compiled.ok) continue;
    const agentSide = pushdownSafe(q);
    if (agentSide) safe++;
    for (const e of agentEntries()) {
      for (const namer of [cluster, table]) {
        const before = compiled.filter.test(e);
        const after = compiled.filter.test(namedByCli(e, namer));
        if (before !== after) namingMatters++;
        if (agentSide) assert.equal(before, after, `${JSON.stringify(q)} was let into the agent, but naming changes its answer (${before} -> ${after})`);
      }
    }
  }
  // The generators reach both kinds of query: many safe ones, and unsafe ones that naming changes.
  assert.ok(safe > 500, `only ${safe} safe queries`);
  assert.ok(namingMatters > 200, `naming changed only ${namingMatters} answers`);
});
