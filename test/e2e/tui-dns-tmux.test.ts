/**
 * The TUI on a DNS capture, in a real terminal (tmux, a private socket): a row per lookup with the
 * opcode, the question and the rcode; the detail pane with the query's and the response's tables;
 * the service map's DNS edge; a filter on DNS's KFL2 variables. Everything DNS-specific comes from
 * its descriptor (src/remote-agent/dissect/dns/descriptor.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';
import { skipFor } from '../helpers/requirements.ts';

const CAPTURE = join(sharedPcapsDir(), 'dns/udp-lab-queries.pcapng');

test('TUI on DNS: rows, detail, service map and a dns_questions filter', { skip: skipFor(hasTmux ? null : NO_TMUX) }, async () => {
  const pane = TmuxPane.start('dns', 120, 40, `${terminalEnv()} ${LAUNCHER} read ${CAPTURE}`);
  try {
    let screen = await pane.waitForScreen('11 DNS rows', (s) => /entries 11\/11/.test(s) && /play\.google\.com A/.test(s));
    // The status column is as wide as the rcode names on screen: NOERROR and NXDOMAIN whole.
    assert.match(screen, /DNS\s+172\.16\.…:49905 -> 4\.2\.2\.1:53 Query\s+microsoft\.com A\s+NOERROR\s/);
    // A long target is cut at the column's end, never the status after it.
    assert.match(screen, /Query\s+25\.206\.119\.75\.in-addr\.arpa P(TR|…)\s+NOERROR/);
    assert.match(screen, /Query\s+test\.chrissanders\.org A\s+NXDOMAIN\s+95ms\s+39 B\/103 B/);

    // The detail of the selected (newest) lookup: its query and response, a table per section.
    await pane.press('Enter');
    screen = await pane.waitForScreen('the detail pane', (s) => /Answers \(2\)/.test(s));
    for (const line of [
      /^Query play\.google\.com A$/m,
      /Transport: UDP/,
      /Id: 13470 \(0x349e\)/,
      /play\.google\.com: IN A/,
      /^NOERROR \(No Error\)$/m,
      /Flags: rd ra/,
      /play\.google\.com: 1 IN CNAME play\.l\.google\.com/,
      /play\.l\.google\.com: 106 IN A 216\.58\.217\.238/,
      /entry u10-0, DNS udp/,
    ]) {
      assert.match(screen, line);
    }
    await pane.press('Escape');

    // The service map: one DNS edge from the client to its resolver, 11 calls, the NXDOMAIN an error.
    await pane.press('m');
    screen = await pane.waitForScreen('the service map', (s) => /DNS 11/.test(s));
    assert.match(screen, /172\.16\.16\.170 -> 4\.2\.2\.1\s+DNS\s+11\s+9\.1%/);

    // A KFL2 filter on DNS's own variables narrows the map, and the list.
    await pane.press('/');
    pane.type('dns and "cnn.com" in dns_questions');
    await pane.press('Enter');
    screen = await pane.waitForScreen('the filtered map', (s) => /\(11 seen, 1 matched\)/.test(s) && /DNS 1\b/.test(s));
    await pane.press('Tab');
    screen = await pane.waitForScreen('the filtered list', (s) => /Query\s+cnn\.com A/.test(s));
    assert.doesNotMatch(screen, /microsoft\.com/);
    await pane.press('q');
    await pane.waitForScreen('a clean exit', (s) => /EXIT:0/.test(s));
  } finally {
    pane.kill();
  }
});
