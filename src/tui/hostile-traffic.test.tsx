/**
 * Hostile traffic through every view of the App: list, detail, raw JSON, the curl box, the service
 * map, the filter bar and the header. Whatever the entries hold, the frames Ink writes may carry
 * no control character but its own colour codes (SGR) and line breaks, and huge values stay cheap.
 */
import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { compileKfl } from '../kfl/index.ts';
import type { HttpEntry } from '../remote-agent/dissect/http1/entry.ts';
import { stringifyJson } from '../model/terminal-text.ts';
import { App } from './app.tsx';
import { curlCommand } from '../remote-agent/dissect/http1/curl-command.ts';
import { Header } from './header.tsx';
import { ArrayStore, KEYS, makeEntry, plain, settle, typeKeys } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const OSC_TITLE = '\u001b]0;pwned\u0007';
const OSC_CLIPBOARD = '\u001b]52;c;aWQ=\u0007';
const CSI_C1 = '\u009b2J';

/** What a frame may hold besides text: Ink's SGR colour codes and LF. */
function terminalActions(frame: string): string[] {
  return [...frame.replace(/\u001b\[[0-9;]*m/g, '').matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g)].map((m) => stringifyJson(m[0]));
}

function hostileEntries(): HttpEntry[] {
  const base = makeEntry({
    index: 0,
    src: `front${OSC_TITLE}end`,
    dst: `cata${CSI_C1}logue\u0085`,
    method: `G${OSC_CLIPBOARD}T`,
    url: `/a${OSC_TITLE}b${CSI_C1}\u007f?q=${OSC_CLIPBOARD}`,
    requestHeaders: { Host: `h${OSC_TITLE}`, [`X-Evil${OSC_CLIPBOARD}`]: `v${OSC_TITLE}\r\u0008${CSI_C1}`, 'X-Long': 'L'.repeat(300_000) },
    requestBody: { text: `line1\u001b[2J\tcol\r\nline2${OSC_CLIPBOARD}\u009d8;;http://x\u009c`, mimeType: `text/plain${OSC_TITLE}` },
    responseBody: { text: `{"k":"${'\\u001b'}]0;json\\u0007","c1":"\u0090"}\n${'B'.repeat(2_000_000)}`, mimeType: 'application/json' },
  });
  const response = base.response!;
  return [
    {
      ...base,
      protocol: { ...base.protocol, abbr: `HT${OSC_TITLE}` },
      response: { ...response, statusText: `OK${OSC_TITLE}`, headers: { ...response.headers, 'Set-Cookie': `a=1${OSC_TITLE}\nb=2${CSI_C1}` } },
    },
    makeEntry({ index: 1, src: `orders${CSI_C1}`, dst: 'payment', method: 'POST', url: '/pay' }),
  ];
}

test('TUI: hostile entries in the list, detail, raw JSON, curl box and service map reach the terminal only escaped', async () => {
  const store = new ArrayStore(hostileEntries());
  const copied: string[] = [];
  const ui = render(
    <App store={store} source="read: hostile.pcap" targets={2} compile={(query) => compileKfl(query)} isInputActive onCopy={(text) => copied.push(text)} size={{ columns: 120, rows: 30 }} />,
  );
  const press = async (...keys: string[]): Promise<string> => {
    await typeKeys(ui.stdin, keys);
    return ui.lastFrame() ?? '';
  };
  await settle();
  const seen: Record<string, string> = { list: ui.lastFrame() ?? '' };
  // Both ends of the route stay visible, shortened in the middle, escapes and all.
  assert.match(plain(seen.list), / HT\\u… front\\…007end -> cata\\u…\\u0085 G\\u001… \/a\\u001b\]0;pwned\\u0007b\\u009b2… /);

  const started = performance.now();
  seen.detail = await press('g', KEYS.enter);
  const detailMs = performance.now() - started;
  assert.match(plain(seen.detail), /^G\\u001b\]52;c;aWQ=\\u0007T \/a\\u001b\]0;pwned\\u0007b\\u009b2J\\u007f/m);
  assert.match(plain(seen.detail), /X-Evil\\u001b\]52;c;aWQ=\\u0007: v\\u001b\]0;pwned\\u0007\\u000d\\u0008\\u009b2J/);
  seen.detailLower = await press(KEYS.pageDown);
  seen.detailBottom = await press('G');
  assert.match(plain(seen.detailBottom), /^entry 0-0, /m);
  assert.ok(detailMs < 5000, `opening the detail of an entry with a 300 KB header and a 2 MB body took ${Math.round(detailMs)} ms`);

  seen.raw = await press('y');
  seen.rawBottom = await press('G');
  seen.curl = await press('y', 'g', 'c');
  assert.equal(copied.length, 1);
  assert.equal(copied[0], curlCommand(store.entries[0] as HttpEntry), 'the clipboard gets the whole command');
  assert.match(plain(seen.curl), /curl \(sent to the clipboard/);
  assert.match(plain(seen.curl), /… \d+ more characters: the clipboard has the whole command/, 'the echo of a 300 KB command is cut to its box');

  seen.map = await press(KEYS.escape, 'm');
  assert.match(plain(seen.map), /CALLER -> CALLEE/);
  assert.match(plain(seen.map), /│ front\\u001b\]0;pwned\\u0007end │/);
  seen.mapSelected = await press(KEYS.down, KEYS.down);
  seen.filtered = await press(KEYS.enter);
  seen.filterBar = await press('/', 'x == "\u001b]0;typed\u0007"');

  if (process.env.SHOW_FRAMES) for (const [view, frame] of Object.entries(seen)) process.stdout.write(`# ${view}\n${plain(frame)}\n`);
  for (const [view, frame] of Object.entries(seen)) assert.deepEqual(terminalActions(frame), [], `${view} view:\n${plain(frame)}`);
  for (const frame of ui.frames) assert.deepEqual(terminalActions(frame), []);
});

test('TUI header: a notice from an agent or the API server is shown escaped and cut to the line', () => {
  const snapshot = { version: 1, total: 1, held: 1, evicted: 0, shown: 1, entriesPerSec: 1, drops: 0, filter: `dst.name == "x${CSI_C1}"`, ended: false, notice: `pod a/b: agent warning X: ${OSC_TITLE}${'n'.repeat(100_000)}`, scope: { context: `ctx${OSC_TITLE}`, namespaces: [`ns${CSI_C1}`], pods: 1 } };
  const frame = render(<Header source={`tap ${OSC_CLIPBOARD}`} targets={1} snapshot={snapshot} follow width={100} />).lastFrame() ?? '';
  assert.deepEqual(terminalActions(frame), [], plain(frame));
  assert.match(plain(frame), /tap \\u001b\]52;c;aWQ=\\u0007/);
  assert.match(plain(frame), /filter: dst\.name == "x\\u009b2J"/);
});
