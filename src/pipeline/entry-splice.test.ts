import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { readEntries } from '../../test/helpers/read-entries.ts';
import { REPO_ROOT, VENDORED_PCAPS_DIR } from '../../test/helpers/shared-pcaps.ts';
import type { Entry } from '../model/entry.ts';
import { stringifyJson } from '../model/terminal-text.ts';
import { FrameWriter } from '../remote-agent/agent/frame-writer.ts';
import { descriptorOf } from '../remote-agent/dissect/descriptors.ts';
import { parseAgentLine, type ReadEntryFrame } from '../remote-agent/wire/protocol.ts';
import { ClusterNames } from './cluster-names.ts';
import { agentHead, splicedEntryJson } from './entry-splice.ts';
import { TapMerger, type TapSource } from './tap-merge.ts';

const FRONT: TapSource = { key: 'shop/front-end-1', namespace: 'shop', pod: 'front-end-1' };
const CATALOGUE: TapSource = { key: 'shop/catalogue-1', namespace: 'shop', pod: 'catalogue-1' };

/** Every capture of the corpus, and the demo's. */
function corpus(): string[] {
  const files: string[] = [join(REPO_ROOT, 'assets', 'demo', 'microservices.pcapng')];
  for (const dir of readdirSync(VENDORED_PCAPS_DIR, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(VENDORED_PCAPS_DIR, dir.name))) if (/\.pcap(ng)?$/.test(f)) files.push(join(VENDORED_PCAPS_DIR, dir.name, f));
  }
  return files;
}

/** The agent's own serialiser: the lines FrameWriter writes for these entries. */
async function agentLines(entries: readonly Entry[]): Promise<string[]> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const writer = new FrameWriter(out, 1 << 30, { closed: () => undefined });
  entries.forEach((e, i) => writer.entry(e, i % 3 === 0 ? undefined : 1000 + i));
  await writer.flush(5000);
  return text.split('\n').filter((l) => l !== '');
}

test('the merged entry spliced from the agent\'s text is byte for byte stringifyJson of the merged entry, for every capture of the corpus and the demo', async () => {
  let spliced = 0;
  let whole = 0;
  for (const file of corpus()) {
    const { all } = await readEntries([file]);
    const lines = await agentLines(all);
    const names = new ClusterNames();
    // Name some endpoints (pods and a service) so the spliced heads change, others stay unnamed.
    all.slice(0, 20).forEach((e, i) => names.upsertPod({ namespace: 'shop', name: `pod-${i}`, ip: e.src.ip, labels: { app: `a${i % 3}` } }));
    names.upsertService({ namespace: 'shop', name: 'svc', clusterIP: all[0]?.dst.ip ?? '10.0.0.1', selector: null });
    const merger = new TapMerger(names, (entry, json) => {
      const expected = stringifyJson(entry);
      if (json === undefined) {
        // Relinked ids (Redis, WebSocket) change more than the head: those are serialised whole.
        if (descriptorOf(entry)?.relinkIds === undefined) whole++;
        return;
      }
      spliced++;
      assert.equal(json, expected, `${file}: entry ${entry.id}`);
    });
    // Both ends of each call: the second sighting is dropped, the first spliced.
    for (const line of lines) {
      const frame = parseAgentLine(line);
      assert.ok(frame !== null && frame.type === 'entry' && (frame as ReadEntryFrame).entryJson !== undefined, line.slice(0, 100));
      merger.frame(FRONT, frame);
      merger.frame(CATALOGUE, parseAgentLine(line)!);
    }
  }
  // Most entries take the cheap way (not those holding an "id" key, as DNS answers do, nor non-ASCII ones).
  assert.ok(spliced > 400 && spliced > 4 * whole, `spliced ${spliced}, serialised whole ${whole}`);
});

test('an entry line parsed the fast way is the frame the general parse gives, requestSeq included', () => {
  const entry = { id: '1-0', protocol: { name: 'http' }, src: { ip: '1.2.3.4', port: 1 }, dst: { ip: '5.6.7.8', port: 2 } };
  for (const seq of [undefined, 0, 7, 4294967295]) {
    const line = `{"type":"entry","entry":${JSON.stringify(entry)}${seq === undefined ? '' : `,"requestSeq":${seq}`}}`;
    const frame = parseAgentLine(line) as ReadEntryFrame;
    assert.deepEqual({ ...frame, entryJson: undefined }, { ...(JSON.parse(line) as object), entryJson: undefined });
    assert.equal(frame.entryJson, JSON.stringify(entry));
  }
});

test('hostile entry lines: anything not in the agent\'s layout is read the general way or not at all, never spliced unchecked', () => {
  const e = '{"id":"1-0","protocol":{"name":"http"},"src":{"ip":"1.2.3.4","port":1,"name":"","namespace":""},"dst":{"ip":"5.6.7.8","port":2,"name":"","namespace":""},"x":1}';
  const bad: Array<[string, 'general' | 'null']> = [
    // Two entry members: the text between the first and the end is not one value.
    [`{"type":"entry","entry":{},"entry":${e}}`, 'general'],
    [`{"type":"entry","entry":${e},"requestSeq":007}`, 'null'],
    [`{"type":"entry","entry":${e},"requestSeq":1,"more":2}`, 'general'],
    [`{"type":"entry","entry":${e}`, 'null'],
    ['{"type":"entry","entry":}', 'null'],
    ['{"type":"entry","entry":null}', 'general'],
    ['{"type":"entry","entry":[1]}', 'general'],
  ];
  for (const [line, how] of bad) {
    const frame = parseAgentLine(line) as ReadEntryFrame | null;
    if (how === 'null') assert.equal(frame, null, line);
    else assert.equal(frame?.entryJson, undefined, line);
  }
  const entryOf = (text: string): Entry => JSON.parse(text) as Entry;
  // A second id (or src, dst) later in the text: JSON.parse keeps the last, the head holds the first.
  const dupId = e.replace('"x":1', '"id":"evil"');
  assert.equal(agentHead(dupId, entryOf(dupId)), null);
  const dupSrc = e.replace('"x":1', '"meta":{"src":1}');
  assert.equal(agentHead(dupSrc, entryOf(dupSrc)), null);
  const dupDst = e.replace('"x":1', '"x":[{"dst":2}]');
  assert.equal(agentHead(dupDst, entryOf(dupDst)), null);
  // Not the agent's layout: spaces, or another key order.
  const spaced = e.replace('"id":"1-0"', '"id": "1-0"');
  assert.equal(agentHead(spaced, entryOf(spaced)), null);
  // Bytes a terminal acts on, as JSON whitespace (tab, CR) or raw in strings (DEL, C1): not spliced.
  for (const text of [e.replace('"x":1', '"x":\t1'), e.replace('"x":1', '"x":\r1'), e.replace('"x":1', '"x":"\u007f"'), e.replace('"x":1', '"x":"\u009b2J"')]) {
    const entry = entryOf(text);
    const head = agentHead(text, entry);
    assert.ok(head !== null);
    entry.id = 'shop/pod/1-0';
    assert.equal(splicedEntryJson(text, head, entry), null, JSON.stringify(text));
  }
});
