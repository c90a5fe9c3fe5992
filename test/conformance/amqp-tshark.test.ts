/**
 * Conformance with tshark on the public AMQP 0-9-1 captures (test/fixtures/pcaps/amqp): tshark's
 * truth is one record per frame (pdml_truth.py do_amqp). Every method frame it decodes must be
 * accounted for by our entries, as a request or as an answer, per connection and channel, in
 * order, with the same method and arguments; every content header must be the properties of its
 * method (body size and content type), and the body frames must add up to that size. Heartbeats
 * and protocol headers are not entries. A Close that answers the request it refuses is counted
 * once (as the entry of its own; `byClose` answers are views of it).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AmqpEntry, AmqpMethod } from '../../src/remote-agent/dissect/amqp/entry.ts';
import { methodSpec } from '../../src/remote-agent/dissect/amqp/methods.ts';
import { entriesOf } from '../helpers/entries-of.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

interface FrameRecord {
  readonly frame_type: string;
  readonly time: number;
  readonly src_ip: string;
  readonly src_port: number;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly from_client: boolean;
  readonly channel?: number;
  readonly payload_length?: number;
  readonly method?: string;
  readonly arguments?: Readonly<Record<string, string>>;
  readonly body_size?: number;
  readonly content_type?: string | null;
}

/** One method as both sides describe it: name, the arguments tshark shows, content. */
interface Seen {
  method: string;
  args: Record<string, string>;
  bodySize: number | null;
  contentType: string | null;
}

/** tshark's argument names -> our fields (booleans and numbers as tshark prints them). */
const ARGS: Readonly<Record<string, keyof AmqpMethod>> = {
  exchange: 'exchange', routing_key: 'routingKey', queue: 'queue', consumer_tag: 'consumerTag', delivery_tag: 'deliveryTag',
  reply_code: 'replyCode', reply_text: 'replyText', virtual_host: 'virtualHost', type: 'type', mandatory: 'mandatory',
  immediate: 'immediate', redelivered: 'redelivered', message_count: 'messageCount', consumer_count: 'consumerCount',
  durable: 'durable', exclusive: 'exclusive', auto_delete: 'autoDelete', no_ack: 'noAck', prefetch_count: 'prefetchCount',
  channel_max: 'channelMax', frame_max: 'frameMax', heartbeat: 'heartbeat', mechanism: 'mechanism', locale: 'locale',
  class_id: 'classId', method_id: 'methodId',
};

function ours(m: AmqpMethod, tsharkArgs: readonly string[]): Seen {
  const args: Record<string, string> = {};
  for (const a of tsharkArgs) {
    const v = m[ARGS[a]!];
    args[a] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
  return {
    method: methodSpec(m.classNumber, m.methodNumber)!.specName,
    args,
    bodySize: m.body?.size ?? null,
    contentType: m.body === undefined ? null : (m.properties?.contentType ?? null),
  };
}

const key = (clientIp: string, clientPort: number, serverIp: string, serverPort: number, channel: number): string =>
  `${clientIp}:${clientPort}>${serverIp}:${serverPort}#${channel}`;

/** tshark's frames as methods per connection and channel, content headers and body frames joined to their method. */
function truthMethods(records: readonly FrameRecord[]): Map<string, (Seen & { bodyFrames: number })[]> {
  const out = new Map<string, (Seen & { bodyFrames: number })[]>();
  const open = new Map<string, Seen & { bodyFrames: number }>();
  for (const r of records) {
    if (r.frame_type === 'protocol-header' || r.frame_type === 'Heartbeat') continue;
    const k = r.from_client ? key(r.src_ip, r.src_port, r.dst_ip, r.dst_port, r.channel!) : key(r.dst_ip, r.dst_port, r.src_ip, r.src_port, r.channel!);
    const dirKey = `${k}|${r.from_client}`;
    if (r.frame_type === 'Method') {
      const m = { method: r.method!, args: { ...r.arguments }, bodySize: null, contentType: null, bodyFrames: 0 };
      if (!out.has(k)) out.set(k, []);
      out.get(k)!.push(m);
      open.set(dirKey, m);
    } else if (r.frame_type === 'Content header') {
      const m = open.get(dirKey);
      // A header whose method came before the capture began has no method to join: none here.
      assert.ok(m !== undefined, `a content header at ${r.time} follows its method`);
      m.bodySize = r.body_size!;
      m.contentType = r.content_type ?? null;
    } else if (r.frame_type === 'Content body') {
      const m = open.get(dirKey);
      assert.ok(m !== undefined);
      m.bodyFrames += r.payload_length!;
    } else assert.fail(`unexpected frame type ${r.frame_type}`);
  }
  return out;
}

/** Our entries as methods per connection and channel, in the order they were sent. */
function ourMethods(entries: readonly AmqpEntry[], argsFor: (k: string, i: number) => readonly string[]): Map<string, Seen[]> {
  const timed = new Map<string, { us: number; m: AmqpMethod }[]>();
  const usOf = (iso: string): number => Date.parse(iso) * 1000 + Number(iso.slice(23, 26));
  for (const e of entries) {
    const start = usOf(e.startTime);
    const sides: { us: number; m: AmqpMethod }[] = [{ us: start, m: e.request }];
    if (e.response !== null && e.response.byClose !== true) sides.push({ us: start + Math.round(e.elapsedTime * 1000), m: e.response });
    for (const side of sides) {
      const k = key(e.src.ip, e.src.port, e.dst.ip, e.dst.port, side.m.channel);
      if (!timed.has(k)) timed.set(k, []);
      timed.get(k)!.push(side);
    }
  }
  const out = new Map<string, Seen[]>();
  for (const [k, list] of timed) {
    list.sort((a, b) => a.us - b.us);
    out.set(k, list.map((x, i) => ours(x.m, argsFor(k, i))));
  }
  return out;
}

const dir = sharedPcapsDir();
const AMQP_FILES = readIndex(dir).filter((r) => r.protocol === 'amqp');

test('tshark conformance on AMQP 0-9-1 captures: every method frame and content header accounted for, in order per channel', async (t) => {
  assert.equal(AMQP_FILES.length, 3, 'the corpus lists the AMQP captures');
  for (const index of AMQP_FILES) {
    await t.test(index.file, async () => {
      const records = readTruth<FrameRecord>(dir, index.truth);
      const { all, result } = await readEntries([join(dir, index.file)]);
      assert.equal(result.stats.packets, index.packets, 'every frame read');
      assert.equal(result.stats.dissectionErrors, 0);
      const entries = entriesOf(all, 'amqp') as AmqpEntry[];
      assert.equal(entries.length, all.length, 'every entry is AMQP');
      const expected = truthMethods(records);
      const got = ourMethods(entries, (k, i) => Object.keys(expected.get(k)?.[i]?.args ?? {}));
      assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'the same connections and channels');
      let methods = 0;
      for (const [k, want] of expected) {
        const have = got.get(k)!;
        assert.deepEqual(
          have,
          want.map(({ bodyFrames: _, ...m }) => m),
          `${k}: the same methods, arguments and content in order`,
        );
        for (const m of want) if (m.bodySize !== null) assert.equal(m.bodyFrames, m.bodySize, `${k} ${m.method}: body frames add up to the announced size`);
        methods += want.length;
      }
      const headers = records.filter((r) => r.frame_type === 'Content header').length;
      t.diagnostic(`${index.file}: ${methods} methods, ${headers} content headers, ${entries.length} entries`);
      assert.ok(methods > 0);
    });
  }
});
