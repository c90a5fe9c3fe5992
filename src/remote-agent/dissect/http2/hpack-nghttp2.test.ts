/**
 * The HPACK decoder on a real encoder's output: Node's HTTP/2 client (nghttp2) sends requests over
 * a real socket to a bare TCP server that records the bytes; every header block decodes to the
 * headers the client sent: Huffman strings, dynamic table references and eviction, never-indexed
 * fields (sensitive headers), CONTINUATION, and a table size lowered by the server's SETTINGS.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import { HpackDecoder, type HpackField } from './hpack.ts';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const SETTINGS = 0x4;
const HEADERS = 0x1;
const CONTINUATION = 0x9;

/** A SETTINGS frame from the server (with HEADER_TABLE_SIZE when given), then an ACK of the client's. */
function serverSettings(headerTableSize?: number): Buffer {
  const payload = headerTableSize === undefined ? Buffer.alloc(0) : Buffer.from([0, 1, ...u32(headerTableSize)]);
  return Buffer.concat([frameHead(payload.length, SETTINGS, 0, 0), payload, frameHead(0, SETTINGS, 0x1, 0)]);
}

const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function frameHead(length: number, type: number, flags: number, stream: number): Buffer {
  return Buffer.from([(length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, type, flags, ...u32(stream)]);
}

interface ClientEvent {
  readonly kind: 'block' | 'settings-ack';
  readonly block?: Buffer;
  /** CONTINUATION frames the block came in besides its HEADERS. */
  readonly continuations?: number;
}

/** Splits the client's bytes into header blocks (fragments joined, padding and priority removed) and SETTINGS ACKs. */
function clientEvents(bytes: Buffer): ClientEvent[] {
  assert.equal(bytes.subarray(0, 24).toString('latin1'), PREFACE);
  const events: ClientEvent[] = [];
  let pending: Buffer[] = [];
  for (let at = 24; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    const type = bytes[at + 3];
    const flags = bytes[at + 4];
    let payload = bytes.subarray(at + 9, at + 9 + length);
    at += 9 + length;
    if (type === SETTINGS && flags & 0x1) events.push({ kind: 'settings-ack' });
    if (type !== HEADERS && type !== CONTINUATION) continue;
    if (type === HEADERS) {
      const pad = flags & 0x8 ? payload[0] : 0;
      payload = payload.subarray(flags & 0x8 ? 1 : 0, payload.length - pad);
      if (flags & 0x20) payload = payload.subarray(5);
    }
    pending.push(payload);
    if (flags & 0x4) {
      events.push({ kind: 'block', block: Buffer.concat(pending), continuations: pending.length - 1 });
      pending = [];
    }
  }
  return events;
}

/** Sends the requests one after another on one connection; returns every byte the client wrote. */
async function recordClient(requests: readonly http2.OutgoingHttpHeaders[], headerTableSize?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const server = net.createServer((socket) => {
    socket.write(serverSettings(headerTableSize));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  // Each request waits for the previous HEADERS to be written, so the blocks go out in order.
  for (const headers of requests) {
    const req = session.request(headers, { endStream: true });
    req.on('error', () => {});
    if (req.pending) await new Promise<void>((resolve) => req.once('ready', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  session.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return Buffer.concat(chunks);
}

/** The fields a request's headers object should decode to (order aside: compared sorted). */
function expected(headers: http2.OutgoingHttpHeaders, port: string): HpackField[] {
  const sensitive = new Set((Reflect.get(headers, http2.sensitiveHeaders) as string[] | undefined) ?? []);
  const pseudo: [string, string][] = [
    [':method', String(headers[':method'] ?? 'GET')],
    [':authority', `127.0.0.1:${port}`],
    [':scheme', 'http'],
    [':path', String(headers[':path'] ?? '/')],
  ];
  const rest = Object.entries(headers).filter(([k]) => !k.startsWith(':'));
  const list: [string, string][] = [...pseudo];
  for (const [k, v] of rest) for (const one of Array.isArray(v) ? v : [v]) list.push([k, String(one)]);
  return list.map(([name, value]) => (sensitive.has(name) ? { name, value, neverIndexed: true } : { name, value }));
}

function sortFields(fields: readonly HpackField[]): string[] {
  return fields.map((f) => JSON.stringify([f.name, f.value, f.neverIndexed === true])).sort();
}

function requests(n: number): http2.OutgoingHttpHeaders[] {
  return Array.from({ length: n }, (_, i) => ({
    ':method': i % 3 === 0 ? 'POST' : 'GET',
    ':path': `/svc.Echo/Say?i=${i % 4}`,
    'content-type': 'application/grpc',
    'user-agent': 'grpc-node-js/1.14.7',
    'x-request-id': `req-${i}-${'abcdef'.repeat(i % 5)}`,
    // A large value every few requests pushes older entries out of the 4096-byte table.
    'x-trace': i % 4 === 0 ? `trace-${i}-${'z'.repeat(900)}` : 'short',
    authorization: `Bearer token-${i % 2}`,
    'x-bytes': Buffer.from([0x80 + (i % 64), 0xe9, 0xff]).toString('latin1'),
    [http2.sensitiveHeaders]: ['authorization'],
  }));
}

interface Seen {
  readonly blockBytes: number;
  readonly continuations: number;
  /** Blocks that start with a dynamic table size update. */
  readonly sizeUpdates: number;
  /** Blocks that decoded for decoders joining at each later block. */
  readonly joinedOk: number;
}

async function decodeAll(requestList: http2.OutgoingHttpHeaders[], headerTableSize?: number): Promise<Seen> {
  const bytes = await recordClient(requestList, headerTableSize);
  const dec = new HpackDecoder();
  const blocks: Buffer[] = [];
  let continuations = 0;
  let joinedOk = 0;
  for (const ev of clientEvents(bytes)) {
    if (ev.kind === 'settings-ack' && headerTableSize !== undefined) dec.setMaxTableSize(headerTableSize);
    if (ev.kind !== 'block') continue;
    const r = dec.decode(ev.block!);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    blocks.push(ev.block!);
    continuations += ev.continuations!;
    const port = r.fields.find((f) => f.name === ':authority')!.value.split(':')[1];
    assert.deepEqual(sortFields(r.fields), sortFields(expected(requestList[blocks.length - 1], port)), `request ${blocks.length - 1}`);
  }
  assert.equal(blocks.length, requestList.length);
  // A capture that starts at any later request: what decodes is what was sent.
  for (let join = 1; join < blocks.length; join++) {
    const joined = new HpackDecoder({ synchronised: false });
    for (let i = join; i < blocks.length; i++) {
      const r = joined.decode(blocks[i]);
      if (!r.ok) continue;
      joinedOk++;
      const port = r.fields.find((f) => f.name === ':authority')!.value.split(':')[1];
      assert.deepEqual(sortFields(r.fields), sortFields(expected(requestList[i], port)), `request ${i}, joined at ${join}`);
    }
  }
  return {
    blockBytes: blocks.reduce((n, b) => n + b.length, 0),
    continuations,
    sizeUpdates: blocks.filter((b) => (b[0] & 0xe0) === 0x20).length,
    joinedOk,
  };
}

test('nghttp2 request headers decode exactly: Huffman, dynamic table, eviction, never-indexed', async () => {
  const list = requests(40);
  const { blockBytes, joinedOk } = await decodeAll(list);
  // nghttp2 names each new x-request-id entry from the previous one: once that name is unknown, so
  // is every later one, and a decoder that joined decodes few blocks, if any. Those it decodes
  // must be right (checked in decodeAll).
  console.log(`${joinedOk} blocks decoded by decoders joining after the first request`);
  // The table did its work: 40 requests of ~1.2 KiB headers in far fewer bytes.
  assert.ok(blockBytes < 40 * 600, `${blockBytes} bytes of blocks`);
});

test('nghttp2 after SETTINGS_HEADER_TABLE_SIZE 256: the size update it sends is followed', async () => {
  const { sizeUpdates } = await decodeAll(requests(12), 256);
  assert.equal(sizeUpdates, 1);
});

test('nghttp2 header block over one frame: CONTINUATION fragments joined decode', async () => {
  const big = { ':path': '/big', 'x-huge': 'q'.repeat(40_000), 'x-other': 'after the fragments' };
  const { continuations } = await decodeAll([big, { ':path': '/next', 'x-other': 'after the fragments' }]);
  assert.ok(continuations >= 2, `${continuations} CONTINUATION frames`);
});
