/**
 * Conformance with tshark on the public WebSocket captures (test/fixtures/pcaps/websocket): every
 * frame tshark decodes must be accounted for by our message entries, per connection and direction,
 * in order: each control frame a message of its own, each data message its first frame and its
 * continuations up to FIN. Opcodes, payload lengths, close codes and the de-masked text of text
 * frames must agree, and every message must link to the upgrade entry tshark saw.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWebSocketEntry } from '../../src/remote-agent/dissect/websocket/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

interface Handshake {
  readonly kind: 'handshake';
  readonly client_ip: string;
  readonly client_port: number;
  readonly server_ip: string;
  readonly server_port: number;
  readonly uri: string;
  readonly status: number | null;
}

interface FrameRecord {
  readonly kind: 'frame';
  readonly src_ip: string;
  readonly src_port: number;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly from_client: boolean;
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload_length: number;
  readonly close_status: number | null;
  readonly text?: string;
}

/** What one message must look like, from tshark's frames. */
interface Expected {
  opcode: string;
  payloadLength: number;
  frames: number;
  closeCode: number | null;
  /** tshark's text of an unfragmented text frame (its first 256 characters). */
  text: string | null;
}

const OPCODES: Readonly<Record<number, string>> = { 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/** tshark's frames of one direction, joined into messages as RFC 6455 §5.4 says. */
function messagesOf(frames: readonly FrameRecord[]): Expected[] {
  const out: Expected[] = [];
  let open: Expected | null = null;
  for (const f of frames) {
    if (f.opcode === 0) {
      assert.ok(open !== null, 'tshark shows a continuation without a start');
      open.payloadLength += f.payload_length;
      open.frames++;
      open.text = null;
      if (f.fin) {
        out.push(open);
        open = null;
      }
      continue;
    }
    const m: Expected = { opcode: OPCODES[f.opcode] ?? `opcode ${f.opcode}`, payloadLength: f.payload_length, frames: 1, closeCode: f.close_status, text: f.text ?? null };
    if (f.opcode >= 8 || f.fin) out.push(m);
    else open = m;
  }
  return out;
}

/** tshark's PDML `show` of a text field writes each CR LF line break as one space. */
function pdmlShow(text: string): string {
  return text.replaceAll('\r\n', ' ');
}

const dir = sharedPcapsDir();
const WS_FILES = readIndex(dir).filter((r) => r.protocol === 'websocket');

test('tshark conformance on WebSocket captures', async (t) => {
  assert.ok(WS_FILES.length >= 3, 'the corpus lists the WebSocket captures');
  for (const index of WS_FILES) {
    await t.test(index.file, async () => {
      const truth = readTruth<Handshake | FrameRecord>(dir, index.truth);
      const { entries, all, result } = await readEntries([join(dir, index.file)]);
      assert.equal(result.stats.packets, index.packets, 'every frame read');
      assert.equal(result.stats.dissectionErrors, 0);
      const messages = all.filter(isWebSocketEntry);
      let expectedCount = 0;
      for (const hs of truth.filter((r): r is Handshake => r.kind === 'handshake')) {
        const sameConn = (ip: string, port: number, ip2: string, port2: number): boolean =>
          ip === hs.client_ip && port === hs.client_port && ip2 === hs.server_ip && port2 === hs.server_port;
        const upgrade = entries.find((e) => sameConn(e.src.ip, e.src.port, e.dst.ip, e.dst.port) && e.request.url === hs.uri);
        assert.ok(upgrade !== undefined, `the upgrade ${hs.uri} is an entry`);
        assert.equal(upgrade.response?.status, hs.status);
        const frames = truth.filter(
          (r): r is FrameRecord =>
            r.kind === 'frame' && (r.from_client ? sameConn(r.src_ip, r.src_port, r.dst_ip, r.dst_port) : sameConn(r.dst_ip, r.dst_port, r.src_ip, r.src_port)),
        );
        const ours = messages.filter((e) => sameConn(e.src.ip, e.src.port, e.dst.ip, e.dst.port));
        for (const e of ours) assert.equal(e.upgradeId, upgrade.id, `${e.id} links to the upgrade entry`);
        for (const fromClient of [true, false]) {
          const expected = messagesOf(frames.filter((f) => f.from_client === fromClient));
          expectedCount += expected.length;
          const got = ours
            .map((e) => (fromClient ? e.request : e.response))
            .filter((m) => m !== null)
            .map(
              (m): Expected => ({
                opcode: m.opcode,
                payloadLength: m.payloadLength,
                frames: m.frames,
                closeCode: m.opcode === 'close' ? (m.closeCode === 0 ? null : m.closeCode!) : null,
                text: null,
              }),
            );
          const texts = ours.map((e) => (fromClient ? e.request : e.response)).filter((m) => m !== null).map((m) => m.payload.text);
          // tshark's text is of one uncompressed text frame, as PDML shows it, cut at 256 characters.
          const gotWithText = got.map((g, i) => ({ ...g, text: expected[i]?.text === null || expected[i] === undefined ? null : pdmlShow(texts[i]).slice(0, 256) }));
          assert.deepEqual(gotWithText, expected, `${index.file} ${fromClient ? 'client' : 'server'} messages`);
        }
      }
      assert.equal(messages.length, expectedCount, 'no message beyond what tshark shows');
      t.diagnostic(`${index.file}: ${expectedCount}/${expectedCount} tshark messages matched (${truth.length - 1} frames)`);
    });
  }
});
