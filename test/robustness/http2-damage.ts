/**
 * Fuzz cases for the HTTP/2 dissector (frames, connection, HPACK, gRPC collection): captures of
 * HTTP/2 connections as peers send them (prior knowledge or an h2c upgrade; requests and
 * responses with Huffman-coded, dynamically indexed header blocks, CONTINUATION, padding,
 * PRIORITY, trailers, gRPC messages, RST_STREAM, GOAWAY, PING, WINDOW_UPDATE, SETTINGS with table
 * size changes), then damaged per direction: bit flips, cut streams, random runs, random frames,
 * truncated frames, header blocks with CONTINUATION chains of megabytes, random frame streams
 * after a valid preface, lengths and padding that lie, HPACK table size attacks. A pure function
 * of (master seed, case index); run through fuzz-cases.ts's runCase like every capture case.
 */
import type { Prng } from '../bench/prng.ts';
import { Prng as Rng } from '../bench/prng.ts';
import { F, PREFACE, T, frame } from '../helpers/h2-frames.ts';
import { HpackEncoder, hpackInteger, type FieldLine } from '../helpers/hpack-encoder.ts';
import type { FuzzCase } from './fuzz-cases.ts';
import { splitIntoRuns, TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function settingsFrame(values: readonly (readonly [number, number])[]): Buffer {
  return frame(T.SETTINGS, 0, 0, Buffer.concat(values.map(([id, v]) => Buffer.concat([Buffer.from([id >> 8, id & 0xff]), u32(v)]))));
}

/** One side's encoder state: HPACK table, and the table size its peer allows. */
interface Side {
  readonly hpack: HpackEncoder;
  readonly out: Buffer[];
  /** A table size the encoder must signal at the start of its next block (after a SETTINGS change). */
  sizeUpdate?: number;
}

/** The side's next header block, led by a pending size update. */
function encodeBlock(side: Side, fields: readonly FieldLine[]): Uint8Array {
  const updates = side.sizeUpdate === undefined ? [] : [side.sizeUpdate];
  side.sizeUpdate = undefined;
  return side.hpack.encode(fields, updates);
}

function text(rng: Prng, max: number): string {
  return Buffer.from(rng.bytes(rng.int(0, max))).toString('latin1');
}

/** A header block sent as HEADERS (maybe padded, with priority) and CONTINUATION fragments. */
function headerFrames(rng: Prng, stream: number, blockBytes: Uint8Array, endStream: boolean): Buffer[] {
  const pieces: Uint8Array[] = [];
  const fragments = rng.chance(0.2) ? rng.int(2, 5) : 1;
  let at = 0;
  for (let i = 0; i < fragments; i++) {
    const end = i === fragments - 1 ? blockBytes.length : Math.min(blockBytes.length, at + rng.int(0, Math.ceil(blockBytes.length / fragments) + 1));
    pieces.push(blockBytes.subarray(at, end));
    at = end;
  }
  const out: Buffer[] = [];
  pieces.forEach((p, i) => {
    const last = i === pieces.length - 1;
    if (i === 0) {
      let flags = (last ? F.END_HEADERS : 0) | (endStream ? F.END_STREAM : 0);
      let payload = Buffer.from(p);
      if (rng.chance(0.15)) {
        flags |= F.PRIORITY;
        payload = Buffer.concat([u32(rng.int(0, 7)), Buffer.from([rng.int(0, 255)]), payload]);
      }
      if (rng.chance(0.15)) {
        const pad = rng.int(0, 40);
        flags |= F.PADDED;
        payload = Buffer.concat([Buffer.from([pad]), payload, Buffer.alloc(pad)]);
      }
      out.push(frame(T.HEADERS, flags, stream, payload));
    } else {
      out.push(frame(T.CONTINUATION, last ? F.END_HEADERS : 0, stream, p));
    }
  });
  return out;
}

function dataFrames(rng: Prng, stream: number, body: Uint8Array, endStream: boolean): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  do {
    const n = Math.min(body.length - at, rng.int(1, 16_384));
    const last = at + n >= body.length;
    let payload = Buffer.from(body.subarray(at, at + n));
    let flags = last && endStream ? F.END_STREAM : 0;
    if (rng.chance(0.1)) {
      const pad = rng.int(0, 30);
      flags |= F.PADDED;
      payload = Buffer.concat([Buffer.from([pad]), payload, Buffer.alloc(pad)]);
    }
    out.push(frame(T.DATA, flags, stream, payload));
    at += n;
  } while (at < body.length);
  return out;
}

/** A gRPC message stream: length-prefixed messages (flag 0, 4-byte length). */
function grpcMessages(rng: Prng): Buffer {
  return Buffer.concat(
    Array.from({ length: rng.int(1, 3) }, () => {
      const m = Buffer.from(rng.bytes(rng.int(0, 300)));
      return Buffer.concat([Buffer.from([0]), u32(m.length), m]);
    }),
  );
}

const huffman = (rng: Prng): boolean => rng.chance(0.7);

function field(rng: Prng, name: string, value: string): FieldLine {
  return { name, value, rep: rng.pick(['indexed', 'incremental', 'incremental', 'without', 'never'] as const), huffman: huffman(rng) };
}

/** Requests and responses of one connection, as the client and server send them. */
function conversation(rng: Prng, client: Side, server: Side, firstStream: number, what: string[]): void {
  const streams = rng.int(1, 8);
  const grpc = rng.chance(0.4);
  what.push(`${streams} streams${grpc ? ' gRPC' : ''}`);
  for (let i = 0; i < streams; i++) {
    const id = firstStream + 2 * i;
    const req: FieldLine[] = [
      field(rng, ':method', grpc ? 'POST' : rng.pick(['GET', 'POST', 'PUT'])),
      field(rng, ':scheme', 'http'),
      field(rng, ':path', grpc ? `/pkg.Svc/Method${rng.int(0, 3)}` : `/p/${rng.int(0, 50)}?q=${text(rng, 10)}`),
      field(rng, ':authority', 'svc.test:8080'),
      field(rng, 'user-agent', rng.pick(['grpc-go/1.60', 'h2load nghttp2/1.52', text(rng, 20)])),
    ];
    if (grpc) req.push(field(rng, 'content-type', 'application/grpc'), field(rng, 'te', 'trailers'), field(rng, 'grpc-timeout', `${rng.int(1, 999)}m`));
    if (rng.chance(0.3)) req.push(field(rng, 'authorization', `Bearer ${text(rng, 30)}`));
    if (rng.chance(0.2)) req.push(field(rng, `x-${text(rng, 8)}`, text(rng, 200)));
    const hasBody = grpc || rng.chance(0.4);
    client.out.push(...headerFrames(rng, id, encodeBlock(client, req), !hasBody));
    if (hasBody) client.out.push(...dataFrames(rng, id, grpc ? grpcMessages(rng) : rng.bytes(rng.int(0, 40_000)), true));
    if (rng.chance(0.2)) client.out.push(frame(T.WINDOW_UPDATE, 0, rng.pick([0, id]), u32(rng.int(1, 65535))));
    if (rng.chance(0.1)) client.out.push(frame(T.PRIORITY, 0, id, Buffer.concat([u32(0), Buffer.from([16])])));
    if (rng.chance(0.1)) {
      client.out.push(frame(T.RST_STREAM, 0, id, u32(rng.int(0, 13))));
      continue;
    }
    const res: FieldLine[] = [field(rng, ':status', String(rng.pick([200, 204, 302, 404, 500]))), field(rng, 'content-type', grpc ? 'application/grpc' : 'text/plain')];
    if (rng.chance(0.3)) res.push(field(rng, 'content-encoding', 'identity'));
    const trailersOnly = grpc && rng.chance(0.2);
    if (trailersOnly) {
      res.push(field(rng, 'grpc-status', String(rng.int(0, 16))), field(rng, 'grpc-message', text(rng, 40)));
      server.out.push(...headerFrames(rng, id, encodeBlock(server, res), true));
      continue;
    }
    server.out.push(...headerFrames(rng, id, encodeBlock(server, res), false));
    server.out.push(...dataFrames(rng, id, grpc ? grpcMessages(rng) : rng.bytes(rng.int(0, 60_000)), !grpc));
    if (grpc) server.out.push(...headerFrames(rng, id, encodeBlock(server, [field(rng, 'grpc-status', String(rng.int(0, 16))), field(rng, 'grpc-message', text(rng, 40))]), true));
    if (rng.chance(0.1)) server.out.push(frame(T.PING, 0, 0, Buffer.from(rng.bytes(8))));
  }
  if (rng.chance(0.2)) server.out.push(frame(T.GOAWAY, 0, 0, Buffer.concat([u32(rng.int(0, 2 * streams)), u32(rng.int(0, 13))])));
}

/** A random frame: any type, flags, stream and a length that may lie. */
function randomFrame(rng: Prng): Buffer {
  const payload = Buffer.from(rng.bytes(rng.int(0, 300)));
  const f = frame(rng.int(0, 12), rng.int(0, 255), rng.pick([0, 1, 3, rng.int(0, 0x7fffffff), 0xffffffff]), payload);
  if (rng.chance(0.3)) f.writeUIntBE(rng.pick([0, 1, payload.length + 1, 16_385, 0xffffff]), 0, 3);
  return f;
}

/** Damage to one side's frames (the preface or the upgrade are left whole, as in a real stream). */
function damage(rng: Prng, bytes: Buffer, what: string[]): Buffer {
  const out = Buffer.from(bytes);
  switch (rng.int(0, 9)) {
    case 0: {
      const n = rng.int(1, 16);
      for (let i = 0; i < n && out.length > 0; i++) out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      what.push(`bitflips(${n})`);
      return out;
    }
    case 1: {
      const at = rng.int(0, out.length);
      what.push(`cut@${at}`);
      return out.subarray(0, at);
    }
    case 2: {
      if (out.length === 0) return out;
      const at = rng.int(0, out.length - 1);
      out.set(rng.bytes(Math.min(rng.int(1, 64), out.length - at)), at);
      what.push('random-run');
      return out;
    }
    case 3: {
      // Random frames between and after the valid ones.
      what.push('random-frames');
      return Buffer.concat([out, ...Array.from({ length: rng.int(1, 40) }, () => randomFrame(rng))]);
    }
    case 4: {
      // A frame whose header promises more than follows, then more frames.
      what.push('truncated-frame');
      const f = randomFrame(rng);
      return Buffer.concat([out, f.subarray(0, rng.int(1, f.length)), ...Array.from({ length: rng.int(0, 5) }, () => randomFrame(rng))]);
    }
    case 5: {
      // A header block that never ends, or ends after megabytes: CONTINUATION after CONTINUATION.
      const size = rng.pick([0, 1, 100, 1000, 16_384]);
      // Up to 5000 frames or 8 MiB (fuzz-http2.test.ts follows one chain of 64 MiB).
      const n = Math.min(rng.logInt(10, 5000), Math.floor((8 << 20) / Math.max(size, 1)));
      const chunk = Buffer.from(rng.chance(0.5) ? rng.bytes(size) : new Uint8Array(size).fill(0x40));
      const stream = rng.pick([1, 3, 0x7ffffff1]);
      const ends = rng.chance(0.5);
      what.push(`continuation-chain(${n}x${size}${ends ? ', ends' : ''})`);
      const parts = [frame(T.HEADERS, 0, stream, chunk)];
      for (let i = 0; i < n; i++) parts.push(frame(T.CONTINUATION, ends && i === n - 1 ? F.END_HEADERS : 0, stream, chunk));
      return Buffer.concat([out, ...parts]);
    }
    case 6: {
      // Nothing but random frames after the valid start.
      what.push('random-frame-stream');
      return Buffer.concat(Array.from({ length: rng.int(1, 200) }, () => randomFrame(rng)));
    }
    case 7: {
      // HPACK table size attacks inside HEADERS: huge updates, thousands of them, garbage after.
      what.push('hpack-size-attack');
      const updates = Buffer.from(Array.from({ length: rng.int(1, 2000) }, () => hpackInteger(rng.pick([0, 4096, 0xffffffff, rng.int(0, 1 << 20)]), 5, 0x20)).flat());
      const block = Buffer.concat([updates, Buffer.from(rng.bytes(rng.int(0, 100)))]);
      return Buffer.concat([out, frame(T.HEADERS, F.END_HEADERS, rng.pick([1, 5, 101]), block)]);
    }
    case 8: {
      // Padding that claims more than the frame holds; priority on a frame too short for it.
      what.push('lying-padding');
      return Buffer.concat([
        out,
        frame(T.HEADERS, F.PADDED | F.END_HEADERS, 1, Buffer.from([250, 0x82])),
        frame(T.DATA, F.PADDED, 1, Buffer.from([10, 1, 2])),
        frame(T.HEADERS, F.PRIORITY | F.END_HEADERS, 3, Buffer.from([0, 0])),
      ]);
    }
    default:
      what.push('intact');
      return out;
  }
}

const H2C_UPGRADE = 'GET / HTTP/1.1\r\nHost: svc.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

export function makeHttp2Case(masterSeed: number, index: number): FuzzCase {
  const rng = new Rng((masterSeed * 1_000_037 + index * 13 + 5) >>> 0);
  const builder = new TcpCaptureBuilder();
  const names: string[] = [];
  const conns = rng.int(1, 3);
  for (let c = 0; c < conns; c++) {
    const what: string[] = [];
    const upgrade = rng.chance(0.2);
    what.push(upgrade ? 'h2c-upgrade' : 'prior-knowledge');
    const client: Side = { hpack: new HpackEncoder(4096), out: [] };
    const server: Side = { hpack: new HpackEncoder(4096), out: [] };
    // Each side's SETTINGS, maybe with a table size for the peer's encoder; ACKs follow.
    const serverTable = rng.chance(0.3) ? rng.pick([0, 256, 8192, 65536]) : undefined;
    client.out.push(settingsFrame(rng.chance(0.5) ? [[4, 65535]] : []));
    server.out.push(settingsFrame(serverTable === undefined ? [[3, 100]] : [[1, serverTable]]), frame(T.SETTINGS, F.ACK, 0));
    client.out.push(frame(T.SETTINGS, F.ACK, 0));
    // The client's encoder signals the new size at its next block (RFC 7541 §4.2); a larger limit
    // it may use or not.
    if (serverTable !== undefined && (serverTable < 4096 || rng.chance(0.5))) client.sizeUpdate = serverTable;
    // After an h2c upgrade, stream 1 is the upgraded request.
    conversation(rng, client, server, upgrade ? 3 : 1, what);
    const cFrames = Buffer.concat(client.out);
    const sFrames = Buffer.concat(server.out);
    const damaged = rng.chance(0.75);
    const cBytes = damaged && rng.chance(0.5) ? damage(rng, cFrames, what) : cFrames;
    const sBytes = damaged && rng.chance(0.6) ? damage(rng, sFrames, what) : sFrames;
    const parts = rng.int(1, 5);
    const cRuns = splitIntoRuns(rng, cBytes, parts);
    const sRuns = splitIntoRuns(rng, sBytes, parts);
    const exchanges: Exchange[] = upgrade
      ? [{ client: Buffer.from(H2C_UPGRADE, 'latin1'), server: Buffer.concat([Buffer.from(SWITCHING, 'latin1'), sRuns[0]!]) }]
      : [{ client: Buffer.concat([PREFACE, cRuns[0]!]), server: sRuns[0]! }];
    for (let i = upgrade ? 0 : 1; i < parts; i++) {
      const clientPart = upgrade && i === 0 ? Buffer.concat([PREFACE, cRuns[0]!]) : cRuns[i]!;
      exchanges.push({ client: clientPart, server: upgrade ? (i + 1 < parts ? sRuns[i + 1]! : Buffer.alloc(0)) : sRuns[i]! });
    }
    const bytes = cBytes.length + sBytes.length;
    builder.conversation(rng, c, exchanges, {
      maxSegment: rng.pick(bytes > 50_000 ? [536, 1448, 9000, 65000] : [1, 7, 100, 536, 1448, 9000]),
      handshake: rng.chance(0.9),
      close: rng.chance(0.7),
      clientPort: 42000 + c,
      serverPort: rng.pick([80, 8080, 50051, 9000, 3000]),
    });
    names.push(what.join(','));
  }
  const data = builder.build(rng, rng.chance(0.3));
  const chunkBytes = rng.pick([1 + rng.int(0, 15), rng.int(16, 4096), 65536]);
  const chunk = data.length > 100_000 && chunkBytes < 512 ? 4096 : chunkBytes;
  return { masterSeed, index, description: `http2 case ${index} (seed ${masterSeed}): ${names.join(' | ')} (${data.length} bytes, chunks of ${chunk})`, data, chunkBytes: chunk };
}
