/** Honest silence on screen: traffic not dissected and a filter's seen vs matched, in the list and the header. */
import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { compileKfl } from '../kfl/index.ts';
import { emptyTallies } from '../model/protocol-tally.ts';
import { countProtocol, emptyUndissected } from '../model/undissected.ts';
import { RingEntryStore } from '../pipeline/entry-store.ts';
import { App } from './app.tsx';
import { makeEntry, plain, settle } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

/** Frames on the next microtask; the 1 s rate tick is left out. */
const schedule = (fn: () => void, ms: number) => {
  if (ms < 1000) queueMicrotask(fn);
  return { cancel: () => undefined };
};

test('no entries but traffic not dissected: the list and the header say which, never "Waiting for traffic"', async () => {
  const store = new RingEntryStore({ schedule });
  const ui = render(<App store={store} source="tls.pcap" targets={1} compile={(q) => compileKfl(q)} isInputActive={false} size={{ columns: 80, rows: 24 }} />);
  await settle();
  assert.match(plain(ui.lastFrame()), /Waiting for traffic…/, 'nothing seen yet');
  const counts = emptyUndissected();
  countProtocol(counts.connections, 'tls', 3);
  store.setUndissected(counts);
  countProtocol(counts.connections, 'tls', 1);
  await settle();
  const frame = plain(ui.lastFrame());
  assert.match(frame, /No entries; not dissected: 3 TLS connections/, 'the store keeps a copy');
  assert.match(frame.split('\n')[0]!, /^kubectl-shark tls\.pcap │ targets 1 │ not dissected: 3 TLS connections$/);
  assert.doesNotMatch(frame, /Waiting for traffic/);
  store.setUndissected(counts);
  await settle();
  assert.match(plain(ui.lastFrame()), /not dissected: 4 TLS connections/);
  store.dispose();
});

test('no entries but HTTP/2 streams lost (a tap that joined long-lived connections): the list says how many and why, as the count grows', async () => {
  const store = new RingEntryStore({ schedule });
  const ui = render(<App store={store} source="tap grpc" targets={2} compile={(q) => compileKfl(q)} isInputActive={false} size={{ columns: 160, rows: 24 }} />);
  await settle();
  store.setProtocols(Object.assign(emptyTallies(), { http: { entries: 0, violations: 0 } }));
  await settle();
  assert.match(plain(ui.lastFrame()), /Waiting for traffic…/, 'nothing lost: nothing to say');
  const tallies = Object.assign(emptyTallies(), { http: { entries: 0, violations: 0, lost: 12 } });
  store.setProtocols(tallies);
  tallies.http!.lost = 99;
  await settle();
  assert.match(plain(ui.lastFrame()), /No entries; 12 HTTP\/2 streams not shown \(headers unreadable on connections open before the tap: new ones are shown\)/, 'the store keeps a copy');
  store.setProtocols(Object.assign(emptyTallies(), { http: { entries: 0, violations: 0, lost: 40 } }));
  await settle();
  assert.match(plain(ui.lastFrame()), /No entries; 40 HTTP\/2 streams not shown/);
  assert.doesNotMatch(plain(ui.lastFrame()), /Waiting for traffic/);
  store.dispose();
});

test('a filter that matches nothing: "N seen, 0 matched the filter" in the list and after the query in the header', async () => {
  const store = new RingEntryStore({ schedule });
  for (let i = 0; i < 1204; i++) store.add(makeEntry({ index: i, status: 200 }));
  const ui = render(<App store={store} source="read x.pcap" targets={1} compile={(q) => compileKfl(q)} initialFilter="response.status == 599" isInputActive={false} size={{ columns: 120, rows: 24 }} />);
  await settle(20);
  const frame = plain(ui.lastFrame());
  assert.match(frame, /filter: response\.status == 599 \(1,204 seen, 0 matched\)$/m);
  assert.match(frame, /No entry matches the filter \(1,204 seen, 0 matched the filter\)\./);
  store.dispose();
});
