/**
 * KFL on the data protocols' entries dissected from the vendored public captures
 * (test/fixtures/pcaps/<protocol>/): each protocol word selects exactly its protocol's entries,
 * Kubeshark's KFL2 variables select as many entries as tshark's records say (the *.truth.json files,
 * pdml_truth.py), a near miss of any of their names or entry paths gets "did you mean" that name,
 * and docs/kfl.md names every word and variable.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileKfl } from '../../src/kfl/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import { DESCRIPTORS } from '../../src/remote-agent/dissect/descriptors.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { REPO_ROOT, readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const ALL_DATA_PROTOCOLS = ['redis', 'postgresql', 'mysql', 'kafka', 'amqp', 'mongodb'] as const;
type DataProtocol = (typeof ALL_DATA_PROTOCOLS)[number];
type TruthRecord = Readonly<Record<string, unknown>>;

interface ProtocolCorpus {
  readonly entries: readonly Entry[];
  readonly truth: readonly TruthRecord[];
}

const dir = sharedPcapsDir();

/** Every vendored capture of `protocol`, read through the `read` pipeline, with tshark's records. */
async function corpusOf(protocol: DataProtocol): Promise<ProtocolCorpus> {
  const records = readIndex(dir).filter((r) => r.protocol === protocol);
  assert.ok(records.length > 0, `no vendored ${protocol} capture in ${dir}/INDEX.json`);
  const entries: Entry[] = [];
  const truth: TruthRecord[] = [];
  for (const r of records) {
    entries.push(...(await readEntries([join(dir, r.file)])).all);
    truth.push(...readTruth<TruthRecord>(dir, r.truth));
  }
  return { entries, truth };
}

/** How many of `entries` the query selects (it must compile without warnings). */
function count(query: string, entries: readonly Entry[]): number {
  const r = compileKfl(query);
  if (!r.ok) throw new Error(r.error.display);
  assert.deepEqual(r.warnings, [], `${query} warns`);
  return entries.filter((e) => r.filter.test(e)).length;
}

const where = (truth: readonly TruthRecord[], match: (t: TruthRecord) => boolean): number => truth.filter(match).length;

/**
 * Per protocol: queries on its words and KFL2 variables, each with the count tshark's records give
 * (or, where tshark has no such field, what the capture is known to hold).
 */
const CHECKS: { readonly [P in DataProtocol]?: (c: ProtocolCorpus) => ReadonlyArray<readonly [string, number]> } = {
  mysql: ({ truth }) => [
    ['mysql_command == "COM_QUERY"', where(truth, (t) => t['command_code'] === 3)],
    ['mysql and mysql_command == "COM_QUIT"', where(truth, (t) => t['command_code'] === 1)],
    ['mysql_command == "COM_INIT_DB" and mysql_success', where(truth, (t) => t['command_code'] === 2 && t['result'] === 'OK')],
    ['mysql and mysql_query.startsWith("select @@version_comment")', where(truth, (t) => typeof t['query'] === 'string' && t['query'].startsWith('select @@version_comment'))],
    ['mysql and mysql_error_code != 0', where(truth, (t) => t['result'] === 'ERR')],
    ['mysql and mysql_total_size == mysql_request_size + mysql_response_size', where(truth, () => true)],
  ],
  kafka: ({ truth }) => [
    ['kafka_api_key_name == "METADATA"', where(truth, (t) => t['api_name'] === 'Metadata')],
    ['kafka and kafka_api_key == 0', where(truth, (t) => t['api_key'] === 0)],
    ['kafka_api_key_name == "API_VERSIONS"', where(truth, (t) => t['api_key'] === 18)],
    ['kafka_client_id == "rdkafka"', where(truth, (t) => t['client_id'] === 'rdkafka')],
    ['kafka_request and kafka_response', where(truth, (t) => t['frame_request'] !== null && t['frame_response'] !== null)],
    ['kafka and not kafka_response', where(truth, (t) => t['frame_request'] !== null && t['frame_response'] === null)],
  ],
};

const PROTOCOLS = Object.keys(CHECKS) as DataProtocol[];
const corpora = new Map<DataProtocol, ProtocolCorpus>();
for (const p of PROTOCOLS) corpora.set(p, await corpusOf(p));
const everything: readonly Entry[] = [...corpora.values()].flatMap((c) => c.entries);

for (const p of PROTOCOLS) {
  test(`KFL on ${p} entries of the public captures: its word, and KFL2 variables against tshark's records`, (t) => {
    const { entries } = corpora.get(p)!;
    const own = everything.filter((e) => e.protocol.name === p).length;
    assert.ok(own > 0, `no ${p} entry dissected`);
    assert.equal(count(p, everything), own, `the word ${p} selects exactly the ${p} entries`);
    for (const other of PROTOCOLS) if (other !== p) assert.equal(count(other, entries), 0, `the word ${other} selects ${p} entries`);
    for (const [query, expected] of CHECKS[p]!(corpora.get(p)!)) {
      t.diagnostic(`${query}: ${expected}`);
      assert.equal(count(query, entries), expected, query);
    }
  });
}

/** A near miss of `name`: one character dropped from its last segment. */
function typo(name: string): string {
  const cut = name.lastIndexOf('.') + 1 + Math.floor((name.length - name.lastIndexOf('.') - 1) / 2);
  return name.slice(0, cut) + name.slice(cut + 1);
}

test('"did you mean" knows every KFL2 variable and entry path of the data protocols', () => {
  const misses: string[] = [];
  for (const p of PROTOCOLS) {
    const kfl = DESCRIPTORS[p].kfl;
    const names = [...kfl.variables.map((v) => v.name), ...(kfl.paths ?? []).filter((path) => path.includes('.'))];
    assert.ok(names.length > 0, `${p} names no variable or path`);
    for (const name of names) {
      const query = `${typo(name)} == 1`;
      const r = compileKfl(query);
      assert.ok(r.ok, query);
      const said = r.warnings[0]?.message ?? '(no warning)';
      if (!said.endsWith(`did you mean ${name}?`)) misses.push(`${query}: ${said}`);
    }
  }
  assert.deepEqual(misses, []);
});

test('docs/kfl.md names every word and KFL2 variable of the data protocols', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'kfl.md'), 'utf8');
  const missing: string[] = [];
  for (const p of PROTOCOLS) {
    const kfl = DESCRIPTORS[p].kfl;
    for (const name of [...kfl.words.map((w) => w.word), ...kfl.variables.map((v) => v.name)]) if (!doc.includes(`\`${name}\``)) missing.push(name);
  }
  assert.deepEqual(missing, []);
});

test("docs/entries.md's table of data protocols has each one's name, label, words and page", () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'entries.md'), 'utf8');
  for (const p of ALL_DATA_PROTOCOLS) {
    const d = DESCRIPTORS[p];
    const row = doc.split('\n').find((line) => line.includes(`| \`${p}\` |`));
    assert.ok(row !== undefined, `no row for ${p}`);
    assert.ok(row.includes(`| \`${d.abbr}\` |`), `${p}: label ${d.abbr} in ${row}`);
    for (const w of d.kfl.words) assert.ok(row.includes(`\`${w.word}\``), `${p}: word ${w.word} in ${row}`);
    assert.ok(row.includes(`](${p}.md)`), `${p}: link to ${p}.md in ${row}`);
  }
});
