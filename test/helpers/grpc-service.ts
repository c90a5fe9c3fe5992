/**
 * The gRPC service the tests capture: a real `@grpc/grpc-js` server and client for `sharktest.Echo`
 * (test/fixtures/grpc/shark_test.proto, loaded with `@grpc/proto-loader`), run as their own
 * processes (in network namespaces or sandbox pods) with Node 24, which runs this file as is:
 *
 *     node grpc-service.ts server HOST PORT        prints "listening on HOST:PORT"
 *     node grpc-service.ts client HOST:PORT        the whole matrix, one JSON line per call
 *     node grpc-service.ts client HOST:PORT --loop a small round every 300 ms, until killed
 *     node grpc-service.ts client HOST:PORT --long-channel  the same on one kept channel, and a
 *                                                           call on a new channel every 10 rounds
 *
 * The server answers every RPC kind: `Say` (unary; ends with the status the request asks for in
 * `reply_status`, after `delay_ms`), `Count` (server streaming), `Sum` (client streaming), `Chat`
 * (bidi, one reply per message). gzip is on the requests only: a grpc-js client channel with
 * `grpc.default_compression_algorithm` compresses every message it sends, while grpc-js servers
 * never compress (server-interceptors.js: "response compression is currently not supported").
 *
 * The client makes the calls of PLAN one after another on one channel (one HTTP/2 connection) and
 * prints one JSON line per call (CallRecord): what it sent and received, each message's protobuf
 * size as grpc-js serialised or parsed it (the serialisers are wrapped, so the sizes are the real
 * ones, before compression), the status and the deadline. The tests compare the dissector's
 * entries with these records. `--loop` makes a small round (unary, server streaming, an error)
 * every 300 ms until killed, for the sandbox pods.
 *
 * Erasable TypeScript only (Node's type stripping, no tsx): the sandbox pods run it with plain node.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_FILE = fileURLToPath(new URL('../fixtures/grpc/shark_test.proto', import.meta.url));
export const SERVICE = 'sharktest.Echo';
/** This file, for running it as a process (`node GRPC_SERVICE_SCRIPT server|client ...`). */
export const GRPC_SERVICE_SCRIPT = fileURLToPath(import.meta.url);
/** grpc-js's number for gzip (compression-algorithms.ts). */
const GZIP = 2;

/** A status code's name as grpc-js's own `status` enum has it (`NOT_FOUND`): the tests' oracle. */
export function statusName(code: number): string {
  return grpc.status[code] ?? `CODE_${code}`;
}

export type RpcKind = 'unary' | 'server-streaming' | 'client-streaming' | 'bidi';

/** One call as the client made it (one JSON line of the client's output). */
export interface CallRecord {
  /** Unique per call: the label the test names it by. */
  readonly label: string;
  readonly method: 'Say' | 'Count' | 'Sum' | 'Chat';
  readonly kind: RpcKind;
  /** `:path`: /sharktest.Echo/Method. */
  readonly path: string;
  /** The status the client got, and its details. */
  readonly code: number;
  readonly details: string;
  /** Messages as given to grpc-js (proto-loader's object form: longs and enums as strings). */
  readonly sent: unknown[];
  readonly received: unknown[];
  /** Protobuf bytes of each message, as serialised (sent) or parsed (received), uncompressed. */
  readonly sentSizes: number[];
  readonly receivedSizes: number[];
  /** The call's deadline, milliseconds from its start; null without one. */
  readonly deadlineMs: number | null;
  /** The channel compresses what it sends (gzip). */
  readonly gzip: boolean;
}

export function loadEchoDefinition(): grpc.ServiceDefinition {
  const pkg = protoLoader.loadSync(PROTO_FILE, { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
  return pkg[SERVICE] as grpc.ServiceDefinition;
}

/** Every message size the (wrapped) serialisers see, in order: the calls are made one at a time. */
class SizeTap {
  sent: number[] = [];
  received: number[] = [];

  reset(): void {
    this.sent = [];
    this.received = [];
  }

  /** The service with every serialiser wrapped to note the size it produces or parses. */
  wrap(service: grpc.ServiceDefinition, side: 'client' | 'server'): grpc.ServiceDefinition {
    const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [name, m] of Object.entries(service) as Array<[string, grpc.MethodDefinition<unknown, unknown>]>) {
      const noteOut = (b: Buffer): Buffer => (this.sent.push(b.length), b);
      const noteIn = (b: Buffer): Buffer => (this.received.push(b.length), b);
      out[name] =
        side === 'client'
          ? { ...m, requestSerialize: (v) => noteOut(m.requestSerialize(v)), responseDeserialize: (b) => m.responseDeserialize(noteIn(b)) }
          : { ...m, responseSerialize: (v) => noteOut(m.responseSerialize(v)), requestDeserialize: (b) => m.requestDeserialize(noteIn(b)) };
    }
    return out as grpc.ServiceDefinition;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface SayRequest {
  text?: string;
  reply_status?: number;
  delay_ms?: number;
  from?: unknown;
  [field: string]: unknown;
}

function serverImplementation(): grpc.UntypedServiceImplementation {
  return {
    Say: (call: grpc.ServerUnaryCall<SayRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const req = call.request;
      void sleep(req.delay_ms ?? 0).then(() => {
        if (call.cancelled) return;
        const code = req.reply_status ?? 0;
        if (code !== 0) callback({ code, details: `failing with ${statusName(code)} as asked` });
        else callback(null, { text: `you said ${req.text ?? ''}`, big: '-42', echoed: req.from, mood: 'MOOD_HAPPY' });
      });
    },
    Count: async (call: grpc.ServerWritableStream<{ count?: number; prefix?: string; delay_ms?: number }, unknown>) => {
      const { count = 0, prefix = '', delay_ms = 0 } = call.request;
      for (let index = 1; index <= count && !call.cancelled; index++) {
        call.write({ index, text: `${prefix}-${index}` });
        if (delay_ms > 0) await sleep(delay_ms);
      }
      call.end();
    },
    Sum: (call: grpc.ServerReadableStream<{ number?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let total = 0n;
      let count = 0;
      call.on('data', (m: { number?: string }) => {
        total += BigInt(m.number ?? '0');
        count += 1;
      });
      call.on('end', () => callback(null, { total: String(total), count }));
    },
    Chat: (call: grpc.ServerDuplexStream<{ user?: string; text?: string; seq?: string }, unknown>) => {
      call.on('data', (m: { user?: string; text?: string; seq?: string }) => call.write({ user: 'echo', text: `re: ${m.text ?? ''}`, seq: m.seq }));
      call.on('end', () => call.end());
    },
  };
}

export async function startServer(host: string, port: number): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService(loadEchoDefinition(), serverImplementation());
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return server;
}

/** The SayRequest of the unary call: every field kind the proto has, some nested and repeated. */
export const RICH_SAY = {
  text: 'hello',
  big: '-5',
  huge: '18446744073709551615',
  delta: '-3',
  stamp: '1234567890123',
  loud: true,
  ratio: 0.25,
  blob: Buffer.from([0, 1, 2, 255]),
  mood: 'MOOD_GRUMPY',
  from: { name: 'ada', age: 36, address: { street: 'Main St 1', city: 'Springfield', zip: 12345 }, tags: ['math', 'engines'] },
  friends: [{ name: 'charles', age: 42 }, { name: 'mary', age: 30 }],
  numbers: [1, 2, 300],
  labels: { team: 'core' },
};

/**
 * A text of 120 000 characters: its message spans several DATA frames (16 KiB each at most) and
 * the TCP segments of its stream leave the sender as over-MTU GSO frames.
 */
export const LARGE_TEXT = Array.from({ length: 12_000 }, (_, i) => `${String(i).padStart(5, '0')}-line`).join('');

/** A long, repetitive text: gzip shrinks it well below its size. */
export const COMPRESSIBLE = 'compress me please '.repeat(60);

/** The deadline of the deadline call and how long the server sleeps in it. */
export const DEADLINE_MS = 300;
export const DEADLINE_SLEEP_MS = 1500;

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

class Caller {
  readonly #client: Client;
  readonly #tap: SizeTap;
  readonly #gzip: boolean;

  /** `channelOptions`: more grpc-js channel options (`grpc.use_local_subchannel_pool`). */
  constructor(target: string, gzip: boolean, channelOptions: grpc.ChannelOptions = {}) {
    this.#tap = new SizeTap();
    this.#gzip = gzip;
    const Ctor = grpc.makeGenericClientConstructor(this.#tap.wrap(loadEchoDefinition(), 'client'), 'Echo');
    this.#client = new Ctor(target, grpc.credentials.createInsecure(), { ...channelOptions, ...(gzip ? { 'grpc.default_compression_algorithm': GZIP } : {}) }) as unknown as Client;
  }

  close(): void {
    this.#client.close();
  }

  async #record(
    label: string,
    method: CallRecord['method'],
    kind: RpcKind,
    deadlineMs: number | null,
    run: (options: grpc.CallOptions, sent: unknown[], received: unknown[]) => Promise<void>,
  ): Promise<CallRecord> {
    this.#tap.reset();
    const sent: unknown[] = [];
    const received: unknown[] = [];
    const options: grpc.CallOptions = deadlineMs === null ? {} : { deadline: Date.now() + deadlineMs };
    let code = 0;
    let details = '';
    try {
      await run(options, sent, received);
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (typeof e.code !== 'number') throw err;
      code = e.code;
      details = e.details;
    }
    return {
      label, method, kind, path: `/${SERVICE}/${method}`, code, details, sent, received,
      sentSizes: [...this.#tap.sent], receivedSizes: [...this.#tap.received], deadlineMs, gzip: this.#gzip,
    };
  }

  unary(label: string, request: SayRequest, deadlineMs: number | null = null): Promise<CallRecord> {
    return this.#record(label, 'Say', 'unary', deadlineMs, (options, sent, received) => {
      sent.push(request);
      return new Promise((resolve, reject) => {
        this.#client.Say!(request, options, (err: grpc.ServiceError | null, reply: unknown) => {
          if (err) reject(err);
          else {
            received.push(reply);
            resolve();
          }
        });
      });
    });
  }

  serverStreaming(label: string, count: number, prefix: string): Promise<CallRecord> {
    return this.#record(label, 'Count', 'server-streaming', null, (options, sent, received) => {
      const request = { count, prefix };
      sent.push(request);
      const call = this.#client.Count!(request, options) as grpc.ClientReadableStream<unknown>;
      return new Promise((resolve, reject) => {
        call.on('data', (m: unknown) => received.push(m));
        call.on('error', reject);
        call.on('status', (s: grpc.StatusObject) => (s.code === 0 ? resolve() : undefined));
      });
    });
  }

  clientStreaming(label: string, numbers: number[]): Promise<CallRecord> {
    return this.#record(label, 'Sum', 'client-streaming', null, (options, sent, received) => {
      return new Promise((resolve, reject) => {
        const call = this.#client.Sum!(options, (err: grpc.ServiceError | null, reply: unknown) => {
          if (err) reject(err);
          else {
            received.push(reply);
            resolve();
          }
        }) as grpc.ClientWritableStream<unknown>;
        for (const n of numbers) {
          const m = { number: String(n) };
          sent.push(m);
          call.write(m);
        }
        call.end();
      });
    });
  }

  bidi(label: string, texts: string[]): Promise<CallRecord> {
    return this.#record(label, 'Chat', 'bidi', null, async (options, sent, received) => {
      const call = this.#client.Chat!(options) as grpc.ClientDuplexStream<unknown, unknown>;
      const ended = new Promise<void>((resolve, reject) => {
        call.on('error', reject);
        call.on('status', (s: grpc.StatusObject) => (s.code === 0 ? resolve() : undefined));
      });
      // One at a time, each answered before the next: the messages interleave on the wire.
      for (const [i, text] of texts.entries()) {
        const m = { user: 'ada', text, seq: String(i + 1) };
        sent.push(m);
        const reply = new Promise<unknown>((resolve) => call.once('data', resolve));
        call.write(m);
        received.push(await reply);
      }
      call.end();
      await ended;
    });
  }
}

/** The whole matrix: its plain calls on one channel, then the gzip ones on a second channel. */
export async function runPlan(target: string): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  const plain = new Caller(target, false);
  try {
    out.push(await plain.unary('unary', RICH_SAY));
    out.push(await plain.unary('large unary', { text: LARGE_TEXT }));
    out.push(await plain.serverStreaming('server-streaming', 5, 'tick'));
    out.push(await plain.clientStreaming('client-streaming', [1, 2, 3, 4]));
    out.push(await plain.bidi('bidi', ['hi 1', 'hi 2', 'hi 3']));
    for (let code = 1; code <= 16; code++) out.push(await plain.unary(`status ${code}`, { text: `status ${code}`, reply_status: code }));
    out.push(await plain.unary('deadline', { text: 'too slow', delay_ms: DEADLINE_SLEEP_MS }, DEADLINE_MS));
  } finally {
    plain.close();
  }
  const gzip = new Caller(target, true);
  try {
    out.push(await gzip.unary('gzip unary', { text: COMPRESSIBLE }));
    out.push(await gzip.clientStreaming('gzip client-streaming', [7, 11, 13]));
    out.push(await gzip.bidi('gzip bidi', [COMPRESSIBLE.slice(0, 300), COMPRESSIBLE.slice(0, 400)]));
  } finally {
    gzip.close();
  }
  return out;
}

/**
 * For the sandbox: a small round every `intervalMs`, printed, until the process is killed. Each
 * round on a new channel (a new connection): a tap joins after the pods started, and the HPACK
 * state of a connection it did not see begin is unknown (only blocks that decode without it can be
 * shown), so new connections are what a test can count on seeing whole. Every call's first
 * message names its round, so each call can be told apart.
 */
async function loop(target: string, intervalMs: number): Promise<never> {
  for (let round = 1; ; round++) {
    const caller = new Caller(target, false);
    try {
      for (const r of [
        await caller.unary(`round ${round} unary`, { text: `round ${round}` }),
        await caller.serverStreaming(`round ${round} count`, 3, `r${round}`),
        await caller.unary(`round ${round} not found`, { text: `round ${round} missing`, reply_status: 5 }),
      ]) {
        console.log(JSON.stringify(r));
      }
    } finally {
      caller.close();
    }
    await sleep(intervalMs);
  }
}

/**
 * `--long-channel`: the way real services call (a channel opened once and kept for hours), for
 * the tap that joins it midway. Every round on ONE channel opened at the start ("long N"), and
 * every `freshEvery`-th round one more unary call on a channel of its own, opened and closed for
 * it ("fresh N"): the connections a tap sees begin, whose headers it can read.
 */
async function longChannelLoop(target: string, intervalMs: number, freshEvery: number): Promise<never> {
  const long = new Caller(target, false);
  for (let round = 1; ; round++) {
    const records = [await long.unary(`long ${round} unary`, { text: `long ${round}` }), await long.serverStreaming(`long ${round} count`, 3, `long${round}`)];
    if (round % freshEvery === 0) {
      // Its own subchannel pool: grpc-js would otherwise share the long channel's connection.
      const fresh = new Caller(target, false, { 'grpc.use_local_subchannel_pool': 1 });
      try {
        records.push(await fresh.unary(`fresh ${round} unary`, { text: `fresh ${round}` }));
      } finally {
        fresh.close();
      }
    }
    for (const r of records) console.log(JSON.stringify(r));
    await sleep(intervalMs);
  }
}

async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  const positional = rest.filter((a) => !a.startsWith('--'));
  if (mode === 'server') {
    const [host = '0.0.0.0', port = '50051'] = positional;
    await startServer(host, Number(port));
    console.log(`listening on ${host}:${port}`);
    return;
  }
  if (mode === 'client') {
    const [target = '127.0.0.1:50051'] = positional;
    if (rest.includes('--loop')) await loop(target, 300);
    if (rest.includes('--long-channel')) await longChannelLoop(target, 300, 10);
    for (const record of await runPlan(target)) console.log(JSON.stringify(record));
    return;
  }
  throw new Error('usage: grpc-service.ts server HOST PORT | client HOST:PORT [--loop | --long-channel]');
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
