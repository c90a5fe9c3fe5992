/**
 * The read summary's entry count is what came out: on every capture of the public corpus, whatever
 * its protocol, `stats.entries` equals the entries emitted and each protocol's tally equals its own
 * entries. Entries are counted in one place (countEntry, on the registry's way out); a dissector
 * that also counted its own made the summary say twice as many (Redis, Kafka and MySQL once did),
 * one that counted none made it say zero.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const dir = sharedPcapsDir();

for (const record of readIndex(dir)) {
  test(`${record.file}: the summary counts each entry once, under its protocol`, async () => {
    const { all, result } = await readEntries([join(dir, record.file)]);
    assert.equal(result.stats.entries, all.length, 'entries counted = entries emitted');
    const byProtocol: Record<string, number> = {};
    for (const e of all) byProtocol[e.protocol.name] = (byProtocol[e.protocol.name] ?? 0) + 1;
    const tallied: Record<string, number> = {};
    for (const [name, tally] of Object.entries(result.stats.protocols)) if (tally.entries > 0) tallied[name] = tally.entries;
    assert.deepEqual(tallied, byProtocol);
  });
}
