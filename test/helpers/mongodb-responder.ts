/**
 * A small MongoDB responder for the round-trip test (no MongoDB server installs here: there is no
 * Debian package and only the npm registry is reachable). It answers what the official `mongodb`
 * driver sends for a short session, with replies the driver must accept: the handshake (legacy
 * OP_QUERY `isMaster`/`hello` answered by OP_REPLY, or OP_MSG `hello`), `ping`, `insert`, `find`
 * with a cursor continued by `getMore`, `update`, `delete`, `endSessions`, a duplicate key (write
 * error) and an unknown command (ok: 0), compressed with zlib when the client asks. Independent of
 * the dissector under test: its own framing, bson to decode, mongodb-wire.ts to encode.
 *
 * Every message it receives is logged as one JSON line to the file given (connection's client
 * port, requestID, opcode, command, database, collection, and whether it answered ok), which the
 * test compares with what our CLI reads from the capture.
 *
 * Usage: node mongodb-responder.ts <host> <port> <log file>
 */
import { appendFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { inflateSync } from 'node:zlib';
import { deserialize, Long, type Document } from 'bson';
import { opCompressed, opMsg, opReply, OP_COMPRESSED, OP_MSG, OP_QUERY } from './mongodb-wire.ts';

const [host, portText, logFile] = process.argv.slice(2);
const BATCH = 2;

const collections = new Map<string, Document[]>();
const cursors = new Map<string, { ns: string; rest: Document[] }>();
let nextCursor = 1000;
let nextRequestId = 500_000;
let connectionId = 0;

function helloReply(compression: string[]): Document {
  return {
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ++connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ...(compression.length > 0 ? { compression } : {}),
    ok: 1,
  };
}

const COLLECTION_COMMANDS = new Set(['find', 'insert', 'update', 'delete', 'count']);

/** The reply document to one command, and whether it is a success. */
function answer(cmd: Document, db: string, compressionAsked: string[]): Document {
  const name = Object.keys(cmd)[0] ?? '';
  const ns = `${db}.${String(cmd[name])}`;
  switch (name) {
    case 'hello':
    case 'isMaster':
    case 'ismaster':
      return helloReply(compressionAsked);
    case 'ping':
    case 'endSessions':
      return { ok: 1 };
    case 'insert': {
      const docs = (cmd.documents as Document[] | undefined) ?? [];
      const have = collections.get(ns) ?? [];
      const writeErrors: Document[] = [];
      docs.forEach((d, index) => {
        if (have.some((h) => String(h._id) === String(d._id))) {
          writeErrors.push({ index, code: 11000, errmsg: `E11000 duplicate key error collection: ${ns} index: _id_ dup key: { _id: ${String(d._id)} }` });
        } else have.push(d);
      });
      collections.set(ns, have);
      return writeErrors.length > 0 ? { n: docs.length - writeErrors.length, writeErrors, ok: 1 } : { n: docs.length, ok: 1 };
    }
    case 'find': {
      const all = [...(collections.get(ns) ?? [])];
      const first = all.slice(0, BATCH);
      const rest = all.slice(BATCH);
      let id = Long.ZERO;
      if (rest.length > 0) {
        id = Long.fromNumber(nextCursor++);
        cursors.set(id.toString(), { ns, rest });
      }
      return { cursor: { firstBatch: first, id, ns }, ok: 1 };
    }
    case 'getMore': {
      const key = (cmd.getMore as Long).toString();
      const c = cursors.get(key);
      if (c === undefined) return { ok: 0, code: 43, codeName: 'CursorNotFound', errmsg: `cursor id ${key} not found` };
      cursors.delete(key);
      return { cursor: { nextBatch: c.rest, id: Long.ZERO, ns: c.ns }, ok: 1 };
    }
    case 'update': {
      const n = ((cmd.updates as Document[] | undefined) ?? []).length;
      return { n, nModified: n, ok: 1 };
    }
    case 'delete': {
      // Nothing is removed: the session inserts a duplicate of a kept document next.
      const n = ((cmd.deletes as Document[] | undefined) ?? []).length;
      return { n, ok: 1 };
    }
    default:
      return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
  }
}

interface Incoming {
  readonly requestId: number;
  readonly opcode: number;
  readonly command: Document;
  readonly db: string;
  readonly compressor: number | null;
  /** OP_MSG moreToCome: the driver wants no reply (endSessions at close), and gets none, as from mongod. */
  readonly moreToCome: boolean;
}

/** One message the driver sent (OP_QUERY, OP_MSG, either inside OP_COMPRESSED). */
function parse(msg: Buffer): Incoming {
  const requestId = msg.readInt32LE(4);
  let opcode = msg.readInt32LE(12);
  let body = msg.subarray(16);
  let compressor: number | null = null;
  if (opcode === OP_COMPRESSED) {
    opcode = body.readInt32LE(0);
    compressor = body[8]!;
    if (compressor !== 2 && compressor !== 0) throw new Error(`compressor ${compressor} not supported by the responder`);
    body = compressor === 2 ? inflateSync(body.subarray(9)) : body.subarray(9);
  }
  if (opcode === OP_QUERY) {
    const nul = body.indexOf(0, 4);
    const fullName = body.subarray(4, nul).toString('utf8');
    const query = deserialize(body.subarray(nul + 9));
    const command = (query.$query as Document | undefined) ?? query;
    return { requestId, opcode, command, db: fullName.split('.')[0]!, compressor, moreToCome: false };
  }
  if (opcode !== OP_MSG) throw new Error(`opcode ${opcode} not supported by the responder`);
  let pos = 4;
  let bodyDoc: Document = {};
  const sequences: Document = {};
  while (pos < body.length) {
    const kind = body[pos++];
    if (kind === 0) {
      const len = body.readInt32LE(pos);
      bodyDoc = deserialize(body.subarray(pos, pos + len));
      pos += len;
    } else {
      const size = body.readInt32LE(pos);
      const nul = body.indexOf(0, pos + 4);
      const id = body.subarray(pos + 4, nul).toString('utf8');
      const docs: Document[] = [];
      for (let at = nul + 1; at < pos + size; ) {
        const len = body.readInt32LE(at);
        docs.push(deserialize(body.subarray(at, at + len)));
        at += len;
      }
      sequences[id] = docs;
      pos += size;
    }
  }
  // The body's keys first: its first key names the command.
  const command: Document = { ...bodyDoc, ...sequences };
  return { requestId, opcode, command, db: String(command.$db ?? ''), compressor, moreToCome: (body.readUInt32LE(0) & 2) !== 0 };
}

function serve(socket: Socket): void {
  let held = Buffer.alloc(0);
  let compression: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    held = Buffer.concat([held, chunk]);
    while (held.length >= 4 && held.length >= held.readInt32LE(0)) {
      const len = held.readInt32LE(0);
      const msg = held.subarray(0, len);
      held = held.subarray(len);
      const m = parse(msg);
      const name = Object.keys(m.command)[0] ?? '';
      if (name === 'hello' || name.toLowerCase() === 'ismaster') {
        const asked = (m.command.compression as string[] | undefined) ?? [];
        compression = asked.filter((c) => c === 'zlib');
      }
      const reply = answer(m.command, m.db, compression);
      const collection = COLLECTION_COMMANDS.has(name) ? String(m.command[name]) : name === 'getMore' ? String(m.command.collection) : '';
      const ok = reply.ok === 1 && reply.writeErrors === undefined;
      appendFileSync(logFile!, `${JSON.stringify({ port: socket.remotePort, requestId: m.requestId, opcode: m.opcode === OP_QUERY ? 'OP_QUERY' : 'OP_MSG', command: name, database: m.db, collection, ok, code: ok ? 0 : Number(reply.code ?? (reply.writeErrors as Document[])[0]!.code), compressor: m.compressor, moreToCome: m.moreToCome })}\n`);
      if (m.moreToCome) continue;
      const id = nextRequestId++;
      let out: Buffer = m.opcode === OP_QUERY ? opReply(id, m.requestId, [reply]) : opMsg(reply, { requestId: id, responseTo: m.requestId });
      // A compressed request is answered compressed, as mongod does.
      if (m.compressor === 2) out = opCompressed(out, 'zlib');
      socket.write(out);
    }
  });
  socket.on('error', () => socket.destroy());
}

createServer(serve).listen(Number(portText), host, () => console.log('listening'));
