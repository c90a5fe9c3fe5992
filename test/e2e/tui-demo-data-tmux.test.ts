/**
 * The demo's mixed protocols in a real terminal (tmux, a private socket, 160x45): `kubectl shark
 * demo` replays the shop at its recorded pace while `postgresql` is typed in the filter bar, so the
 * rows of the orders' database gather live, then `redis` (the catalogue's cache); the detail pane of
 * one PostgreSQL entry (and of a failed INSERT) and of one Redis entry; with no filter, the list
 * mixes HTTP rows with the stores' and the service map has the catalogue -> redis and orders ->
 * postgres edges, labelled by their descriptors. What each row and section must say comes from the same recording read with
 * `read -o json` and the protocols' descriptors. Skipped, with the reason, without tmux.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry, PostgresqlEntry, RedisEntry } from '../../src/model/entry.ts';
import { sanitizeLine } from '../../src/model/terminal-text.ts';
import { DESCRIPTORS, representEntry, summarizeEntry, type ProtocolName } from '../../src/remote-agent/dissect/descriptors.ts';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';
import { hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';

const DEMO_FILE = join(REPO_ROOT, 'assets', 'demo', 'microservices.pcapng');
const COLUMNS = 160;
const ROWS = 45;
/** Rows the list shows at ROWS lines: all but the two header lines, the column titles, the footer and the line under it. */
const LIST_ROWS = ROWS - 5;

function readEntries(): Entry[] {
  const out = execFileSync(LAUNCHER, ['read', DEMO_FILE, '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  return out.trim().split('\n').map((line) => JSON.parse(line) as Entry);
}

const entriesLine = (shown: number, total: number): RegExp => new RegExp(`^entries ${shown}/${total} `, 'm');
const ROW = /^[ ▸]\d\d:\d\d:\d\d\.\d{3} /;
const rowsOf = (screen: string): string[] => screen.split('\n').filter((line) => ROW.test(line));
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A list row of `entry` as the list draws it: protocol, route, verb, the target's start, the outcome. */
function rowPattern(entry: Entry): RegExp {
  const { verb, target, outcome } = summarizeEntry(entry);
  const start = sanitizeLine(target).slice(0, 12);
  return new RegExp(`${escape(entry.protocol.abbr)}\\s+${escape(entry.src.name)} -> ${escape(entry.dst.name)}\\s+${escape(sanitizeLine(verb))}\\s+${escape(start)}.*\\s${escape(sanitizeLine(outcome || '-').slice(0, 8))}`);
}

/**
 * The selected entry's detail pane: its id in the last line, then each of its descriptor's headings
 * and table titles on screen (as many as the pane has room for), and `mustShow` (what the services
 * sent, known independently of the descriptor).
 */
async function checkDetail(pane: TmuxPane, byId: ReadonlyMap<string, Entry>, protocol: ProtocolName, mustShow: readonly RegExp[]): Promise<Entry> {
  await pane.press('Enter');
  // The pane is taller than the details of the recording's store entries: the last line is on screen.
  const screen = await pane.waitForScreen(`the detail of a ${protocol} entry`, (s) => /^ {2}sizes {5}request /m.test(s) && /^entry \S+, /m.test(s));
  const [, id, abbr] = /^entry (\S+), (\S+) /m.exec(screen)!;
  const entry = byId.get(id!);
  assert.ok(entry !== undefined && entry.protocol.name === protocol, `the detail pane shows a ${protocol} entry of the recording:\n${screen}`);
  assert.equal(abbr, DESCRIPTORS[protocol].abbr);
  for (const section of representEntry(entry)) {
    if (section.kind === 'table' && section.rows.length === 0) continue; // not drawn
    const text = sanitizeLine(section.kind === 'heading' ? section.text : section.title);
    assert.ok(screen.includes(text.slice(0, COLUMNS - 20)), `section ${JSON.stringify(text)} on screen:\n${screen}`);
  }
  for (const pattern of mustShow) assert.match(screen, pattern);
  await pane.press('Escape');
  await pane.waitForScreen('the list again', (s) => /TIME \(UTC\)/.test(s));
  return entry;
}

/** Moves the selection up to `entry`'s row (known by its start time, to the millisecond). */
async function selectRow(pane: TmuxPane, entry: Entry): Promise<void> {
  const time = /T(\d\d:\d\d:\d\d\.\d{3})/.exec(entry.startTime)![1]!;
  const selected = (screen: string): string | undefined => screen.split('\n').find((line) => line.startsWith('▸'));
  for (let i = 0; i < ROWS && !pane.screen().includes(`▸${time} `); i++) {
    // One row at a time: the next key only once the selection has moved.
    const before = selected(pane.screen());
    await pane.press('k');
    await pane.waitForScreen('the selection moved up', (s) => selected(s) !== before);
  }
  await pane.waitForScreen(`the row of ${entry.id} selected`, (s) => s.includes(`▸${time} `));
}

/** Types `query` in the filter bar (over what it held) and applies it; "" removes the filter. */
async function applyFilter(pane: TmuxPane, query: string): Promise<void> {
  await pane.press('/', 'C-u');
  if (query !== '') {
    pane.type(query);
    await pane.waitForScreen(`the valid query ${query}`, (s) => /✓ valid/.test(s));
  }
  await pane.press('Enter');
}

test('TUI on the demo: Redis and PostgreSQL rows filtered live, their detail panes, HTTP beside them, labelled map edges', { skip: skipFor(hasTmux ? null : NO_TMUX) }, async () => {
  const entries = readEntries();
  const total = entries.length;
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const redis = entries.filter((entry): entry is RedisEntry => entry.protocol.name === DESCRIPTORS.redis.name);
  const postgres = entries.filter((entry): entry is PostgresqlEntry => entry.protocol.name === DESCRIPTORS.postgresql.name);
  assert.ok(redis.length > 0 && postgres.length > 0, `the recording has Redis (${redis.length}) and PostgreSQL (${postgres.length}) entries`);
  const redisWord = DESCRIPTORS.redis.kfl.words[0]!.word;
  const postgresWord = DESCRIPTORS.postgresql.kfl.words[0]!.word;

  // The recorded pace (about ten seconds): the filter is applied while entries still arrive.
  const pane = TmuxPane.start('demo-data', COLUMNS, ROWS, `cd ${REPO_ROOT} && ${terminalEnv()} ${LAUNCHER} demo`);
  try {
    await pane.waitForScreen('the first entries', (s) => rowsOf(s).length > 0, 30_000);
    await applyFilter(pane, postgresWord);
    const live = await pane.waitForScreen('some PostgreSQL rows before the source ends', (s) => /^entries [1-9]\d*\/\d+ /m.test(s) && rowsOf(s).length > 0);
    assert.doesNotMatch(live.split('\n')[0]!, /source ended/, `the filter applied while the demo still plays:\n${live}`);
    let screen = await pane.waitForScreen('every PostgreSQL entry', (s) => entriesLine(postgres.length, total).test(s) && /source ended/.test(s), 30_000);
    let rows = rowsOf(screen);
    assert.equal(rows.length, Math.min(postgres.length, LIST_ROWS), `PostgreSQL rows on screen:\n${screen}`);
    postgres.slice(-rows.length).forEach((entry, i) => assert.match(rows[i]!, rowPattern(entry), `row ${i}: ${entry.id}`));
    await checkDetail(pane, byId, DESCRIPTORS.postgresql.name, [/orders/]);
    // A failed INSERT (the unique key): its detail shows the SQLSTATE.
    const failed = postgres.findLast((entry) => summarizeEntry(entry).isError);
    assert.ok(failed !== undefined, 'a PostgreSQL error in the recording');
    await selectRow(pane, failed);
    assert.equal((await checkDetail(pane, byId, DESCRIPTORS.postgresql.name, [/23505/, /INSERT INTO orders/])).id, failed.id);

    await applyFilter(pane, redisWord);
    await pane.press('G'); // back to the newest (and follow): the PostgreSQL detail paused the list
    screen = await pane.waitForScreen('every Redis entry', (s) => entriesLine(redis.length, total).test(s) && /FOLLOW/.test(s));
    rows = rowsOf(screen);
    assert.equal(rows.length, Math.min(redis.length, LIST_ROWS), `Redis rows on screen:\n${screen}`);
    // The newest Redis entries, oldest first, row by row as their descriptor summarises them.
    redis.slice(-rows.length).forEach((entry, i) => assert.match(rows[i]!, rowPattern(entry), `row ${i}: ${entry.id}`));
    await checkDetail(pane, byId, DESCRIPTORS.redis.name, [/catalogue:/]);

    // No filter: HTTP rows and the stores' rows in one list.
    await applyFilter(pane, '');
    await pane.press('G');
    screen = await pane.waitForScreen('the whole recording', (s) => entriesLine(total, total).test(s));
    const shown = new Set(rowsOf(screen).map((row) => /^[ ▸]\S+ (\S+)/.exec(row)?.[1]));
    const newest = entries.slice(-(LIST_ROWS));
    for (const abbr of new Set(newest.map((entry) => entry.protocol.abbr))) assert.ok(shown.has(abbr), `${abbr} rows on screen:\n${screen}`);
    assert.ok(shown.size >= 3, `HTTP, Redis and PostgreSQL rows together:\n${screen}`);

    // The service map: both hops, with their descriptors' labels, drawn and in the table.
    await pane.press('m');
    screen = await pane.waitForScreen('the service map', (s) => /CALLER -> CALLEE\s+PROTO\s+REQS/.test(s));
    const hops = [
      { from: 'catalogue', to: 'redis', count: redis.length, label: DESCRIPTORS.redis.edgeLabel(redis[0]!) },
      { from: 'orders', to: 'postgres', count: postgres.length, label: DESCRIPTORS.postgresql.edgeLabel(postgres[0]!) },
    ];
    for (const { from, to, count, label } of hops) {
      assert.match(screen, new RegExp(`^\\s*${from} -> ${to}\\s+${escape(label)}\\s+${count}\\s`, 'm'), `table row ${from} -> ${to}:\n${screen}`);
      assert.match(screen, new RegExp(`${escape(label)} ${count}\\b`), `edge label "${label} ${count}" drawn:\n${screen}`);
    }
    for (const node of ['redis', 'postgres']) assert.match(screen, new RegExp(`│ ${node} │`), `node ${node} drawn`);
    await pane.press('q');
    assert.match(await pane.waitForScreen('the exit status', (s) => /EXIT:\d+/.test(s)), /EXIT:0/);
  } finally {
    pane.kill();
  }
});
