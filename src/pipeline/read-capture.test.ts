/**
 * Output order does not depend on where the input's chunks are cut (a FIFO, a pipe, a slow
 * writer): the demo recording, merged from several interfaces, holds packets stamped earlier than
 * the one before them, and an entry released as soon as no request older than it was pending came
 * out before a request whose packet was still to come (at a cut 7,919 bytes into every chunk).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pcapFile } from '../../test/helpers/capture-files.ts';
import type { Entry } from '../model/entry.ts';
import { CaptureFileParser } from '../remote-agent/source/capture-file.ts';
import type { Frame } from '../remote-agent/source/frame.ts';
import { newCaptureStats } from '../remote-agent/stats.ts';
import { readCaptures } from './read-capture.ts';

const DEMO = readFileSync(new URL('../../assets/demo/microservices.pcapng', import.meta.url));

async function idsInOrder(chunkBytes: number | null): Promise<string[]> {
  const out: string[] = [];
  async function* chunks(): AsyncGenerator<Uint8Array> {
    if (chunkBytes === null) {
      yield DEMO;
      return;
    }
    for (let at = 0; at < DEMO.length; at += chunkBytes) yield DEMO.subarray(at, at + chunkBytes);
  }
  await readCaptures([{ label: 'demo', chunks: chunks() }], (entry) => out.push(`${entry.id} ${entry.startTime}`));
  return out;
}

test('the same entries in the same order whatever the input chunks', async () => {
  const whole = await idsInOrder(null);
  assert.ok(whole.length > 200);
  const sorted = [...whole].sort((a, b) => (a.split(' ')[1]! < b.split(' ')[1]! ? -1 : a.split(' ')[1]! > b.split(' ')[1]! ? 1 : 0));
  assert.deepEqual(whole.map((l) => l.split(' ')[1]), sorted.map((l) => l.split(' ')[1]), 'ordered by request start');
  for (const size of [1000, 4096, 7919, 65536]) assert.deepEqual(await idsInOrder(size), whole, `chunks of ${size} bytes`);
});

test('saved NDJSON and a capture in one run: each reads as it does alone, whichever comes first (the capture pipeline is made on the first capture)', async () => {
  const alone: string[] = [];
  await readCaptures([{ label: 'demo', chunks: (async function* () { yield DEMO; })() }], (entry) => alone.push(JSON.stringify(entry)));
  assert.ok(alone.length > 200);
  const saved = new TextEncoder().encode(alone.slice(0, 50).join('\n') + '\n');
  const both = async (order: readonly ('ndjson' | 'capture')[]): Promise<string[]> => {
    const out: string[] = [];
    const inputs = order.map((kind) => ({ label: kind, chunks: (async function* () { yield kind === 'ndjson' ? saved : DEMO; })() }));
    const result = await readCaptures(inputs, (entry) => out.push(JSON.stringify(entry)));
    assert.equal(result.stats.entries, alone.length + 50);
    assert.equal(result.stats.malformed, 0);
    return out;
  };
  assert.deepEqual(await both(['ndjson', 'capture']), [...alone.slice(0, 50), ...alone]);
  assert.deepEqual(await both(['capture', 'ndjson']), [...alone, ...alone.slice(0, 50)]);
});

test('the chunks of a capture are never handed back for reuse (its parsers keep views of them); those of NDJSON are', async () => {
  const recycled: string[] = [];
  const read = async (label: string, bytes: Uint8Array): Promise<number> => {
    let entries = 0;
    const chunks = (async function* () {
      for (let at = 0; at < bytes.length; at += 65_536) yield bytes.slice(at, at + 65_536);
    })();
    await readCaptures([{ label, chunks, recycle: () => recycled.push(label) }], () => entries++);
    return entries;
  };
  assert.ok((await read('capture', DEMO)) > 200);
  assert.deepEqual(recycled, []);
  const saved: string[] = [];
  await readCaptures([{ label: 'demo', chunks: (async function* () { yield DEMO; })() }], (entry) => saved.push(JSON.stringify(entry)));
  assert.equal(await read('ndjson', new TextEncoder().encode(saved.join('\n') + '\n')), saved.length);
  assert.ok(recycled.length > 1 && recycled.every((label) => label === 'ndjson'), `handed back: ${recycled.length}`);
});

/** The demo's frames, copied out, in file order (which is time order: one interface). */
function demoFrames(): Frame[] {
  const frames: Frame[] = [];
  const parser = new CaptureFileParser({ frame: (f) => frames.push({ ...f, data: f.data.slice() }), names: () => {} }, newCaptureStats());
  parser.push(DEMO);
  parser.end();
  return frames;
}

/** What an entry is, whichever connection number it got: its start, client port and request. */
function described(entry: Entry): string {
  const request = entry.request as { method?: unknown; url?: unknown };
  return `${entry.startTime} ${entry.src.port} ${String(request.method)} ${String(request.url)}`;
}

async function readFrames(frames: readonly Frame[]): Promise<string[]> {
  const bytes = pcapFile({ linkType: frames[0]!.linkType }, frames.map((f) => ({ sec: Math.floor(f.tsUs / 1e6), frac: f.tsUs % 1e6, data: f.data, origLen: f.origLen })));
  const out: string[] = [];
  // Small chunks: the orderer is asked to release after each, as it would be through a long capture.
  const chunks = (async function* () {
    for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
  })();
  await readCaptures([{ label: 'frames', chunks }], (entry) => out.push(described(entry)));
  return out;
}

test('a capture whose packets come out of time order (two interfaces written in turn) still comes out in request-start order', async () => {
  const frames = demoFrames();
  assert.ok(frames.every((f, i) => i === 0 || f.tsUs >= frames[i - 1]!.tsUs), 'the demo is in time order');
  assert.ok(frames.every((f) => f.linkType === frames[0]!.linkType));
  const inOrder = await readFrames(frames);
  assert.ok(inOrder.length > 200);
  // Every other TCP port pair is "the second interface": each of its frames is written only after
  // the first interface's frames of the next 200 ms, as a writer flushing its buffers in turn would.
  const lateUs = 200_000;
  const second = (f: Frame): boolean => {
    const d = f.data;
    return d.length > 38 && (d[36]! ^ d[37]! ^ d[34]! ^ d[35]!) % 2 === 1;
  };
  const firstFrames = frames.filter((f) => !second(f));
  const late = frames.filter(second);
  const disordered: Frame[] = [];
  let next = 0;
  for (const f of firstFrames) {
    while (next < late.length && late[next]!.tsUs + lateUs <= f.tsUs) disordered.push(late[next++]!);
    disordered.push(f);
  }
  disordered.push(...late.slice(next));
  assert.equal(disordered.length, frames.length);
  const backsteps = disordered.filter((f, i) => i > 0 && f.tsUs < disordered[i - 1]!.tsUs).length;
  assert.ok(backsteps > 10, `frames stamped earlier than the one before: ${backsteps}`);
  assert.deepEqual(await readFrames(disordered), inOrder);
});
