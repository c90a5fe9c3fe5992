/**
 * The service map and the detail pane in a real terminal (issue 11 items 3 and 4): tmux runs the
 * real `kubectl shark demo --speed 0` at 80x24 and 200x50 on a private socket. The map's CERR%, SERR%
 * and NO RSP figures are checked against the same recording read with `read -o json`; a filter is
 * typed, a map node selected and enter pressed: the filter must be narrowed, not replaced, and every
 * row must satisfy both (checked in each row's detail pane, whose top shows timing, endpoints and
 * sizes before the messages); esc undoes the narrowing. Skipped, with the reason, without tmux.
 * SHARK_MAP_SCREENS=path writes the captured screens there as Markdown.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Entry } from '../../src/model/entry.ts';
import { summarizeEntry } from '../../src/remote-agent/dissect/descriptors.ts';
import { edgeLabelOf } from '../../src/pipeline/service-graph.ts';
import { isHttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { percentOf } from '../../src/tui/map-items.ts';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { skipFor } from '../helpers/requirements.ts';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const DEMO_FILE = join(REPO_ROOT, 'assets', 'demo', 'microservices.pcapng');
const SOCKET = `shark-map-${process.pid}`;
const FILTER = 'response.status >= 400';
const NODE = 'catalogue';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

const screenOf = (session: string): string => tmux('capture-pane', '-p', '-t', session);

async function waitForScreen(session: string, what: string, accept: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = screenOf(session);
    if (accept(screen)) return screen;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${screen}`);
}

/** What the map must show per edge, from the recording as `read -o json` dissects it. */
interface EdgeFigures {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  unanswered: number;
}

function readEntries(): Entry[] {
  const out = execFileSync(LAUNCHER, ['read', DEMO_FILE, '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  return out.trim().split('\n').map((line) => JSON.parse(line) as Entry);
}

/**
 * The figures per edge (`caller -> callee LABEL`, the label its protocol's descriptor gives): HTTP's by status class; the demo's Redis and
 * PostgreSQL entries by their descriptor's outcome class (what their protocol calls an error).
 */
function expectedEdges(entries: readonly Entry[]): Map<string, EdgeFigures> {
  const edges = new Map<string, EdgeFigures>();
  for (const entry of entries) {
    const key = `${entry.src.name} -> ${entry.dst.name} ${edgeLabelOf(entry)}`;
    const edge = edges.get(key) ?? { requests: 0, clientErrors: 0, serverErrors: 0, unanswered: 0 };
    edge.requests++;
    if (entry.response === null) edge.unanswered++;
    else if (isHttpEntry(entry)) {
      const status = entry.response.status;
      if (status >= 400 && status < 500) edge.clientErrors++;
      else if (status >= 500 && status < 600) edge.serverErrors++;
    } else {
      const outcome = summarizeEntry(entry).outcomeClass;
      if (outcome === 'client-error') edge.clientErrors++;
      else if (outcome === 'server-error') edge.serverErrors++;
    }
    edges.set(key, edge);
  }
  return edges;
}

const TABLE_ROW = /^(\S+ -> \S+)\s+(\S+)\s+(\d+)\s+(\S+%)\s+(\S+%)\s+(\d+)\s+\S+\s+\S+\s*$/;
const httpStatus = (entry: Entry): number => (isHttpEntry(entry) ? (entry.response?.status ?? 0) : 0);
const ENTRY_ROW = /^[ ▸]\s*\d\d:\d\d:\d\d\.\d{3} /;
const rowsOf = (screen: string): string[] => screen.split('\n').filter((line) => ENTRY_ROW.test(line));

for (const [columns, rows] of [[80, 24], [200, 50]] as const) {
  test(`TUI ${columns}x${rows}: map figures match the recording; enter narrows the filter; detail pane order`, { skip: skipFor(hasTmux ? null : 'tmux is not installed (apt-get install -y tmux)') }, async () => {
    const entries = readEntries();
    assert.ok(entries.length > 100, `the demo recording has ${entries.length} entries`);
    const edges = expectedEdges(entries);
    const total = entries.length;
    const filtered = entries.filter((e) => httpStatus(e) >= 400).length;
    const narrowed = entries.filter((e) => httpStatus(e) >= 400 && e.dst.name === NODE);
    assert.ok(narrowed.length > 0 && filtered > narrowed.length, 'the recording has errors on the node and elsewhere');
    // Guard the test itself: the recording has 4xx and 5xx on some edges.
    assert.ok([...edges.values()].some((e) => e.clientErrors > 0) && [...edges.values()].some((e) => e.serverErrors > 0));

    const session = `map-${columns}x${rows}`;
    const screens: { title: string; screen: string }[] = [];
    const keep = (title: string, screen: string): void => void screens.push({ title: `${title} (${columns}x${rows})`, screen: screen.replace(/\s+$/, '') });
    tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), `cd ${REPO_ROOT} && ${LAUNCHER} demo --speed 0; echo "EXIT:$?"; sleep 120`);
    try {
      await waitForScreen(session, 'all entries', (s) => new RegExp(`entries ${total}/${total}`).test(s));

      // The map's table, figure by figure (scrolled to the last edge too when the table is short).
      tmux('send-keys', '-t', session, 'm');
      let screen = await waitForScreen(session, 'the service map', (s) => /CALLER -> CALLEE\s+PROTO\s+REQS\s+CERR%\s+SERR%\s+NO RSP\s+P50\s+P95/.test(s));
      keep('Service map, no filter', screen);
      const seen = new Map<string, string[]>();
      const collect = (s: string): void => {
        for (const line of s.split('\n')) {
          const m = TABLE_ROW.exec(line);
          if (m) seen.set(`${m[1]!} ${m[2]!}`, m.slice(3, 7));
        }
      };
      collect(screen);
      tmux('send-keys', '-t', session, 'G');
      collect(await waitForScreen(session, 'the last edge selected', (s) => /enter filters on: src\.name == "\S+" and dst\.name == "\S+"/.test(s)));
      assert.deepEqual([...seen.keys()].sort(), [...edges.keys()].sort(), 'every edge of the recording is in the table');
      for (const [key, want] of edges) {
        const figures = [String(want.requests), percentOf(want.clientErrors, want.requests), percentOf(want.serverErrors, want.requests), String(want.unanswered)];
        assert.deepEqual(seen.get(key), figures, `${key}: REQS CERR% SERR% NO RSP`);
      }
      if (columns >= 200) {
        for (const [key, want] of edges) {
          if (want.serverErrors > 0) assert.match(screen, new RegExp(`${key.split(' ').at(-1)!} ${want.requests} serr ${percentOf(want.serverErrors, want.requests).replace('.', '\\.')}`), `${key}: edge label`);
        }
      }

      // The help overlay explains the figures and enter.
      tmux('send-keys', '-t', session, '?');
      screen = await waitForScreen(session, 'the map help', (s) => /Keys: service map/.test(s) && /esc in the entry list then brings back the filter before enter/.test(s));
      assert.match(screen, /CERR% SERR% shares answered with a client-side,/);
      assert.match(screen, /enter +narrow the filter to the selection/);
      keep('Help overlay (service map)', screen);
      tmux('send-keys', '-t', session, 'Escape');
      await waitForScreen(session, 'the map again', (s) => /CALLER -> CALLEE/.test(s));

      // Type a filter in the list, then narrow it from the map.
      tmux('send-keys', '-t', session, 'Tab');
      await waitForScreen(session, 'the list', (s) => /TIME (?:\(UTC\)|UTC) /.test(s));
      tmux('send-keys', '-t', session, '/');
      tmux('send-keys', '-t', session, '-l', FILTER);
      await waitForScreen(session, 'the valid query', (s) => /✓ valid/.test(s));
      tmux('send-keys', '-t', session, 'Enter');
      await waitForScreen(session, 'the filtered list', (s) => new RegExp(`entries ${filtered}/${total}`).test(s) && !/✓ valid/.test(s));
      tmux('send-keys', '-t', session, 'm');
      await waitForScreen(session, 'the filtered map', (s) => /CALLER -> CALLEE/.test(s));
      const wanted = `enter narrows to: (${FILTER}) and dst.name == "${NODE}"`;
      tmux('send-keys', '-t', session, 'g'); // the selection is still on the last edge from before
      await sleep(150);
      for (let i = 0; i < 20 && !screenOf(session).includes(wanted); i++) {
        tmux('send-keys', '-t', session, 'j');
        await sleep(150);
      }
      screen = await waitForScreen(session, `the ${NODE} node selected`, (s) => s.includes(wanted));
      keep(`Service map, filter ${FILTER}, ${NODE} selected`, screen);
      tmux('send-keys', '-t', session, 'Enter');
      const combined = `(${FILTER}) and dst.name == "${NODE}"`;
      screen = await waitForScreen(session, 'the narrowed list', (s) => new RegExp(`entries ${narrowed.length}/${total}`).test(s) && s.includes(`filter narrowed: ${combined}`));
      keep('HttpEntry list after enter on the node', screen);
      const listed = rowsOf(screen);
      assert.equal(listed.length, Math.min(narrowed.length, rows - 6), `rows on screen:\n${screen}`);
      for (const row of listed) assert.match(row, / (4|5)\d\d /, `a status >= 400 in ${row}`);
      if (columns >= 200) for (const row of listed) assert.match(row, new RegExp(`-> ${NODE} `), row);

      // Each row, in its detail pane: the server is the node and the status is >= 400.
      tmux('send-keys', '-t', session, 'g');
      for (let i = 0; i < listed.length; i++) {
        tmux('send-keys', '-t', session, 'Enter');
        screen = await waitForScreen(session, `the detail of row ${i}`, (s) => /^ {2}sizes {5}/m.test(s));
        const lines = screen.split('\n');
        const order = ['  started   ', '  elapsed   ', '  client    ', '  server    ', '  sizes     '].map((prefix) => lines.findIndex((line) => line.startsWith(prefix)));
        assert.deepEqual(order, [2, 3, 4, 5, 6], `timing, endpoints and sizes at the top:\n${screen}`);
        assert.match(lines[5]!, new RegExp(`^ {2}server {4}${NODE} `), 'the row is a call to the node');
        assert.match(lines[6]!, /^ {2}sizes {5}request \d+(\.\d)? (B|KiB) \(body \d+(\.\d)? (B|KiB)\), response \d+(\.\d)? (B|KiB) /, 'sizes in formatBytes style');
        const request = lines.findIndex((line) => /^(GET|POST|PUT|DELETE|PATCH) \S+ HTTP\/1\.1$/.test(line));
        const status = lines.findIndex((line) => /^HTTP\/1\.1 [45]\d\d\b/.test(line));
        assert.ok(request > 6 && lines[request - 1] === 'Request', `request line after the top block:\n${screen}`);
        assert.ok(status > request, `response status (>= 400) after the request and its headers:\n${screen}`);
        if (i === 0) keep('HttpEntry detail', screen);
        tmux('send-keys', '-t', session, 'Escape');
        await waitForScreen(session, 'the list again', (s) => /TIME (?:\(UTC\)|UTC) /.test(s));
        tmux('send-keys', '-t', session, 'j');
      }

      // The filter bar holds the combined query; esc there keeps it.
      tmux('send-keys', '-t', session, '/');
      screen = await waitForScreen(session, 'the filter bar', (s) => /✓ valid/.test(s));
      assert.ok(screen.split('\n').some((line) => line.trimEnd() === `/ ${combined}`), `the filter bar shows the combined query:\n${screen}`);
      keep('Filter bar after the narrowing', screen);
      tmux('send-keys', '-t', session, 'Escape');
      await waitForScreen(session, 'the bar closed', (s) => !/✓ valid/.test(s) && s.includes('filter narrowed: '));

      // esc in the list: back to the typed filter.
      tmux('send-keys', '-t', session, 'Escape');
      await waitForScreen(session, 'the filter before enter', (s) => new RegExp(`entries ${filtered}/${total}`).test(s) && !s.includes('filter narrowed'));

      tmux('send-keys', '-t', session, 'q');
      assert.match(await waitForScreen(session, 'the exit status', (s) => /EXIT:\d+/.test(s)), /EXIT:0/);
    } finally {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', session]);
      const out = process.env.SHARK_MAP_SCREENS;
      if (out !== undefined && screens.length > 0) writeFileSync(out.replace(/(\.md)?$/, `-${columns}x${rows}$1`), screens.map(({ title, screen }) => `## ${title}\n\n\`\`\`text\n${screen}\n\`\`\`\n`).join('\n'));
    }
  });
}
