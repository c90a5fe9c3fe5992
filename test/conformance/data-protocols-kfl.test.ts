/**
 * KFL on the data protocols' entries dissected from the vendored public captures
 * (test/fixtures/pcaps/<protocol>/; MongoDB, which has none, from its benchmark case's capture read
 * by tshark too): each protocol word selects exactly its protocol's entries,
 * Kubeshark's KFL2 variables select as many entries as tshark's records say (the *.truth.json files,
 * pdml_truth.py), a near miss of any of their names or entry paths gets "did you mean" that name,
 * and docs/kfl.md names every word and variable.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compileKfl } from '../../src/kfl/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import { DESCRIPTORS } from '../../src/remote-agent/dissect/descriptors.ts';
import { buildProtocolCapture, loadBenchCases } from '../bench/protocol-bench.ts';
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
const tmp = mkdtempSync(join(tmpdir(), 'shark-kfl-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

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

/**
 * MongoDB has no public capture in the corpus and no server installs here (docs/mongodb.md): its
 * benchmark case's conversations (the driver's message shapes, built with bson) as a capture, with
 * tshark's MongoDB dissector for the truth: per message its opcode, request id, responseTo and the
 * first element of its first document (a request's command).
 */
async function mongodbCorpus(): Promise<ProtocolCorpus> {
  const loaded = (await loadBenchCases()).find((c) => c.benchCase.protocol === 'mongodb');
  assert.ok(loaded, 'test/bench/protocols/mongodb.ts is missing');
  const capture = buildProtocolCapture(loaded.benchCase, { seed: 11, minEntries: 150, outDir: tmp });
  const out = execFileSync('tshark', ['-r', capture.path, '-d', `tcp.port==${loaded.benchCase.serverPort},mongo`, '-Y', 'mongo', '-T', 'fields', '-e', 'mongo.opcode', '-e', 'mongo.response_to', '-e', 'mongo.element.name'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  const truth = out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [opcode, responseTo, names] = line.split('\t');
      return { opcode: Number(opcode), request: Number(responseTo) === 0, command: (names ?? '').split(',')[0] ?? '' };
    });
  return { entries: (await readEntries([capture.path])).all, truth };
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
  redis: ({ truth }) => [
    // tshark 4.0 decodes no inline command (request_type "fragment", no command): counted apart.
    ['redis and request.type == "Inline"', where(truth, (t) => t['request_type'] === 'fragment')],
    ['redis_type == "SET" and request.type != "Inline"', where(truth, (t) => String(t['command']).toUpperCase() === 'SET')],
    ['redis and redis_type == "GET" and redis_key != "" and request.type != "Inline"', where(truth, (t) => String(t['command']).toUpperCase() === 'GET')],
    ['redis_type == "AUTH"', where(truth, (t) => t['command'] === 'AUTH')],
    ['redis and response.type == "Error"', where(truth, (t) => t['reply_type'] === 'error')],
    ['redis and request == nil', where(truth, (t) => t['frame_request'] === null)],
    ['redis and redis_total_size == redis_request_size + redis_response_size', truth.length],
  ],
  postgresql: ({ truth }) => [
    ['postgresql_error_code == "42P01"', where(truth, (t) => (t['error'] as { code?: string } | null)?.code === '42P01')],
    ['postgres and postgresql_error_code == "42804" and postgresql_error_message.contains("integer")', where(truth, (t) => (t['error'] as { code?: string } | null)?.code === '42804')],
    ['postgresql and not postgresql_success and postgresql_error_code != ""', where(truth, (t) => t['error'] !== null)],
    ['postgresql_command == "Startup"', where(truth, (t) => t['kind'] === 'startup')],
    ['postgresql_command == "SSLRequest"', where(truth, (t) => t['kind'] === 'ssl_request')],
  ],
  mysql: ({ truth }) => [
    ['mysql_command == "COM_QUERY"', where(truth, (t) => t['command_code'] === 3)],
    ['mysql and mysql_command == "COM_QUIT"', where(truth, (t) => t['command_code'] === 1)],
    ['mysql_command == "COM_INIT_DB" and mysql_success', where(truth, (t) => t['command_code'] === 2 && t['result'] === 'OK')],
    ['mysql and mysql_query.startsWith("select @@version_comment")', where(truth, (t) => typeof t['query'] === 'string' && t['query'].startsWith('select @@version_comment'))],
    ['mysql and mysql_error_code != 0', where(truth, (t) => t['result'] === 'ERR')],
    ['mysql and mysql_total_size == mysql_request_size + mysql_response_size', where(truth, () => true)],
  ],
  amqp: ({ truth }) => [
    ['amqp_method == "basic.publish"', where(truth, (t) => t['method'] === 'Basic.Publish')],
    ['amqp and amqp_method == "basic.deliver"', where(truth, (t) => t['method'] === 'Basic.Deliver')],
    ['amqp_method == "queue.declare" and amqp_response', where(truth, (t) => t['method'] === 'Queue.Declare-Ok')],
    ['amqp_method == "exchange.declare"', where(truth, (t) => t['method'] === 'Exchange.Declare')],
  ],
  mongodb: ({ truth }) => [
    ['mongodb_opcode == "OP_MSG"', where(truth, (t) => t['request'] === true && t['opcode'] === 2013)],
    ['mongodb and mongodb_opcode == "OP_QUERY"', where(truth, (t) => t['request'] === true && t['opcode'] === 2004)],
    ['mongodb_command == "insert" and mongodb_collection == "orders"', where(truth, (t) => t['request'] === true && t['command'] === 'insert')],
    ['mongodb_command == "find"', where(truth, (t) => t['request'] === true && t['command'] === 'find')],
    ['mongodb_command == "getMore"', where(truth, (t) => t['request'] === true && t['command'] === 'getMore')],
    ['mongodb and response != nil', where(truth, (t) => t['request'] === false)],
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
for (const p of PROTOCOLS) corpora.set(p, p === 'mongodb' ? await mongodbCorpus() : await corpusOf(p));
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

/**
 * Near misses of `name`: one character of its last segment dropped, each in turn. Some are as near
 * another name (`request.kind` less its n is `request.kid`, one edit from `request.id` too).
 */
function typos(name: string): string[] {
  const start = name.lastIndexOf('.') + 1;
  return Array.from({ length: name.length - start }, (_, i) => name.slice(0, start + i) + name.slice(start + i + 1));
}

/** What compiling `query` warns, or '(no warning)'. */
function warningOf(query: string): string {
  const r = compileKfl(query);
  assert.ok(r.ok, query);
  return r.warnings[0]?.message ?? '(no warning)';
}

test('"did you mean" knows every KFL2 variable and entry path of the data protocols', () => {
  const misses: string[] = [];
  for (const p of PROTOCOLS) {
    const kfl = DESCRIPTORS[p].kfl;
    const names = [...kfl.variables.map((v) => v.name), ...(kfl.paths ?? []).filter((path) => path.includes('.'))];
    assert.ok(names.length > 0, `${p} names no variable or path`);
    for (const name of names) {
      const said: string[] = [];
      for (const typo of typos(name)) {
        said.push(warningOf(`${typo} == 1`));
        if (said.at(-1)!.endsWith(`did you mean ${name}?`)) break;
      }
      if (!said.at(-1)!.endsWith(`did you mean ${name}?`)) misses.push(`${name}: ${said.join(' / ')}`);
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

test("docs/entries.md's table of data protocols has each one's name, label, words and page, and the page exists", () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'entries.md'), 'utf8');
  for (const p of ALL_DATA_PROTOCOLS) {
    const d = DESCRIPTORS[p];
    const row = doc.split('\n').find((line) => line.includes(`| \`${p}\` |`));
    assert.ok(row !== undefined, `no row for ${p}`);
    assert.ok(row.includes(`| \`${d.abbr}\` |`), `${p}: label ${d.abbr} in ${row}`);
    for (const w of d.kfl.words) assert.ok(row.includes(`\`${w.word}\``), `${p}: word ${w.word} in ${row}`);
    assert.ok(row.includes(`](${p}.md)`), `${p}: link to ${p}.md in ${row}`);
    assert.ok(existsSync(join(REPO_ROOT, 'docs', `${p}.md`)), `docs/${p}.md, the protocol's own page, is missing`);
  }
});
