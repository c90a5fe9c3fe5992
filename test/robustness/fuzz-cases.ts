/**
 * Fuzz cases for the read path: every case is a pure function of (master seed, case index), so a
 * failure is reproduced by its index alone. Each case runs through `readCaptures` (as the CLI
 * does, output formatting included) and through an instrumented copy of the pipeline that makes
 * exceptions visible which the stages would otherwise swallow into counters.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../../src/model/entry.ts';
import { SharkError, type SharkErrorCode } from '../../src/model/errors.ts';
import { readCaptures } from '../../src/pipeline/read-capture.ts';
import { stringifyJson } from '../../src/model/terminal-text.ts';
import { formatEntryLine } from '../../src/pipeline/sinks/text-line.ts';
import { DEFAULT_DISSECT_OPTIONS } from '../../src/remote-agent/dissect/dissector.ts';
import { descriptorOf } from '../../src/remote-agent/dissect/descriptors.ts';
import { DissectorRegistry } from '../../src/remote-agent/dissect/registry.ts';
import type { TcpSegment } from '../../src/remote-agent/ip/packet.ts';
import { PacketDecoder } from '../../src/remote-agent/ip/packet-decoder.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import type { Frame, NameRecord } from '../../src/remote-agent/source/frame.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { InternalErrors, ProtocolViolation } from '../../src/remote-agent/thrown-errors.ts';
import { TcpAssembler, type TcpLimits } from '../../src/remote-agent/tcp/assembler.ts';
import type { CloseReason, ConnectionInfo, Direction, StreamFactory, StreamHandler } from '../../src/remote-agent/tcp/stream.ts';
import { detailLines, rawJsonLines } from '../../src/tui/detail-lines.ts';
import { fitCell, rowCells } from '../../src/tui/entry-row.ts';
import { generateHttpCapture } from '../bench/make-http-capture.ts';
import { REPO_ROOT, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { Prng } from '../bench/prng.ts';
import { joinCapture, packetDataOffset, splitCapture } from './capture-records.ts';
import { TEMPLATES, damageBytes, validExchange } from './http-damage.ts';
import { TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

/** The public capture corpus vendored in the repository (test/fixtures/pcaps). */
const SHARED_PCAPS = sharedPcapsDir();
/** Error codes a capture read may end with (src/model/errors.ts). */
export const ALLOWED_CODES: ReadonlySet<SharkErrorCode> = new Set([
  'CAPTURE_NOT_A_CAPTURE',
  'CAPTURE_UNKNOWN_LINK_TYPE',
  'CAPTURE_TRUNCATED',
  'CAPTURE_BAD_BLOCK',
]);

/** Small caps for the instrumented pipeline, so adversarial input reaches them. */
export const FUZZ_TCP_LIMITS: TcpLimits = {
  maxBufferedBytesPerConnection: 64 * 1024,
  maxBufferedBytesTotal: 256 * 1024,
  maxBufferedSegmentsPerConnection: 256,
  maxConnections: 64,
  idleTimeoutUs: 30_000_000,
};

export interface Seed {
  readonly name: string;
  readonly data: Uint8Array;
}

/**
 * Captures of our own (test/fixtures): hostile-http.pcapng holds shell metacharacters in methods
 * and control bytes in headers, paths, bodies and name records (see its README).
 */
export const FIXTURE_SEEDS: readonly string[] = ['hostile/hostile-http.pcapng'];

/**
 * Real captures from the shared corpus (up to 700 KB each), generated ones, then the fixtures. A
 * case picks its seed by position: `fixtures: false` gives the corpus that the reproducers in
 * fuzz.test.ts (KNOWN_CASES) were found with.
 */
export function loadSeeds(options: { fixtures?: boolean } = {}): Seed[] {
  const seeds: Seed[] = [];
  const dirs = readdirSync(SHARED_PCAPS).filter((d) => statSync(join(SHARED_PCAPS, d)).isDirectory());
  for (const dir of dirs.sort()) {
    for (const f of readdirSync(join(SHARED_PCAPS, dir)).sort()) {
      if (!/\.pcap(ng)?$/.test(f)) continue;
      const path = join(SHARED_PCAPS, dir, f);
      if (statSync(path).size > 700_000) continue;
      // HTTP captures are the point; other protocols only feed the decoders, keep a few.
      if (dir !== 'http' && seeds.filter((s) => !s.name.startsWith('http/')).length >= 12) continue;
      seeds.push({ name: `${dir}/${f}`, data: new Uint8Array(readFileSync(path)) });
    }
  }
  const generated = [
    { seed: 11, targetBytes: 40_000, concurrency: 3 },
    { seed: 12, targetBytes: 60_000, concurrency: 5, overMtuRatio: 0.2 },
    { seed: 13, targetBytes: 40_000, concurrency: 4, reorderRatio: 0.05, duplicateRatio: 0.05 },
    { seed: 14, targetBytes: 120_000, concurrency: 8 },
  ];
  for (const g of generated) seeds.push({ name: `generated(seed=${g.seed},bytes=${g.targetBytes})`, data: generateHttpCapture(g).data });
  if (options.fixtures !== false) {
    for (const f of FIXTURE_SEEDS) seeds.push({ name: `fixtures/${f}`, data: new Uint8Array(readFileSync(join(REPO_ROOT, 'test', 'fixtures', f))) });
  }
  return seeds;
}

export interface FuzzCase {
  readonly masterSeed: number;
  readonly index: number;
  readonly description: string;
  readonly data: Uint8Array;
  /** Size of the chunks handed to the parser (chunk boundaries matter for straddling records). */
  readonly chunkBytes: number;
}

function flipBits(rng: Prng, data: Uint8Array, n: number, lo = 0, hi = data.length): void {
  if (hi <= lo) return;
  for (let i = 0; i < n; i++) data[rng.int(lo, hi - 1)]! ^= 1 << rng.int(0, 7);
}

function recordLevel(rng: Prng, seed: Seed): { data: Uint8Array; what: string } | null {
  const split = splitCapture(seed.data);
  if (split === null || split.records.length < 2) return null;
  const recs = split.records.slice();
  const ops: string[] = [];
  const n = rng.int(1, 6);
  for (let k = 0; k < n; k++) {
    const i = rng.int(0, recs.length - 1);
    const j = rng.int(0, recs.length - 1);
    const op = rng.int(0, 4);
    if (op === 0) {
      const t = recs[i]!;
      recs[i] = recs[j]!;
      recs[j] = t;
      ops.push(`swap(${i},${j})`);
    } else if (op === 1) {
      recs.splice(i, 0, recs[j]!);
      ops.push(`dup(${j}->${i})`);
    } else if (op === 2 && recs.length > 1) {
      const cnt = rng.int(1, Math.min(20, recs.length - 1));
      recs.splice(i, cnt);
      ops.push(`drop(${i},${cnt})`);
    } else if (op === 3) {
      const end = Math.min(recs.length, i + rng.int(2, 30));
      const win = recs.slice(i, end);
      for (let a = win.length - 1; a > 0; a--) {
        const b = rng.int(0, a);
        const t = win[a]!;
        win[a] = win[b]!;
        win[b] = t;
      }
      recs.splice(i, win.length, ...win);
      ops.push(`shuffle(${i},${win.length})`);
    } else {
      recs.reverse();
      ops.push('reverse');
    }
  }
  return { data: joinCapture(split.prefix, recs, split.tail), what: `records:${ops.join(',')}` };
}

function recordFields(rng: Prng, seed: Seed): { data: Uint8Array; what: string } | null {
  const split = splitCapture(seed.data);
  if (split === null || split.records.length === 0) return null;
  const recs = split.records.map((r) => r.slice());
  const i = rng.int(0, recs.length - 1);
  const r = recs[i]!;
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const value = rng.pick([0, 1, 0xffffffff, 0x7fffffff, 0x10000, 0x40000, 0x40001, rng.u32(), r.length + 1, r.length - 17]) >>> 0;
  const fieldOffsets = split.format === 'pcap' ? [0, 4, 8, 12] : [0, 4, 8, 12, 16, 20, 24];
  const off = rng.pick(fieldOffsets);
  if (off + 4 <= r.length) v.setUint32(off, value, split.littleEndian);
  return { data: joinCapture(split.prefix, recs, split.tail), what: `record[${i}].u32@${off}=${value}` };
}

function recordBitflips(rng: Prng, seed: Seed, headers: boolean): { data: Uint8Array; what: string } | null {
  const split = splitCapture(seed.data);
  if (split === null || split.records.length === 0) return null;
  const recs = split.records.map((r) => r.slice());
  const n = rng.int(1, 12);
  for (let k = 0; k < n; k++) {
    const r = recs[rng.int(0, recs.length - 1)]!;
    const data = packetDataOffset(split, r);
    // Link + IP + TCP headers are within the first ~70 bytes of the packet data.
    if (headers) flipBits(rng, r, rng.int(1, 3), data, Math.min(r.length, data + 70));
    else flipBits(rng, r, rng.int(1, 3), Math.min(r.length, data + 54), r.length);
  }
  return { data: joinCapture(split.prefix, recs, split.tail), what: `${headers ? 'header' : 'payload'}-bitflips(${n} records)` };
}

function httpCapture(rng: Prng, damaged: boolean): { data: Uint8Array; what: string } {
  const builder = new TcpCaptureBuilder();
  const conns = rng.int(1, 4);
  const names: string[] = [];
  for (let c = 0; c < conns; c++) {
    let exchanges: Exchange[];
    if (damaged) {
      exchanges = [];
      const n = rng.int(1, 5);
      for (let i = 0; i < n; i++) {
        const ex = validExchange(rng);
        const dc = rng.chance(0.5) ? damageBytes(rng, ex.client) : { bytes: ex.client, what: '' };
        const ds = rng.chance(0.7) ? damageBytes(rng, ex.server) : { bytes: ex.server, what: '' };
        exchanges.push({ client: dc.bytes, server: ds.bytes });
        names.push(`ex(${dc.what}|${ds.what})`);
      }
    } else {
      const t = TEMPLATES[rng.int(0, TEMPLATES.length - 1)]!(rng);
      exchanges = t.exchanges;
      names.push(t.name);
    }
    const bytes = exchanges.reduce((n, e) => n + e.client.length + e.server.length, 0);
    // Tiny segments only on small conversations: 100k one-byte packets test nothing more.
    const segments = bytes > 50_000 ? [536, 1448, 9000, 65000] : [1, 7, 100, 536, 1448, 1448, 9000, 65000];
    builder.conversation(rng, c, exchanges, {
      maxSegment: rng.pick(segments),
      handshake: rng.chance(0.8),
      close: rng.chance(0.7),
      clientPort: 40000 + c,
      serverPort: rng.pick([80, 8080, 3000, 443, 5432]),
    });
  }
  return { data: builder.build(rng, rng.chance(0.5)), what: `${damaged ? 'damaged-http' : 'http-template'}:${names.join(';')}` };
}

/** Builds case `index`: deterministic for a given seed list and master seed. */
export function makeCase(seeds: readonly Seed[], masterSeed: number, index: number): FuzzCase {
  const rng = new Prng((masterSeed * 1_000_003 + index) >>> 0);
  const seed = seeds[rng.int(0, seeds.length - 1)]!;
  const kind = rng.int(0, 13);
  let data: Uint8Array;
  let what: string;
  let from = seed.name;
  switch (kind) {
    case 0: {
      const at = rng.int(0, seed.data.length);
      data = seed.data.slice(0, at);
      what = `truncate@${at}`;
      break;
    }
    case 1: {
      data = seed.data.slice();
      const n = rng.int(1, 64);
      flipBits(rng, data, n);
      what = `bitflips(${n})`;
      break;
    }
    case 2:
    case 3: {
      const r = recordBitflips(rng, seed, kind === 2);
      data = r?.data ?? seed.data;
      what = r?.what ?? 'unchanged';
      break;
    }
    case 4: {
      data = seed.data.slice();
      const runs = rng.int(1, 4);
      for (let i = 0; i < runs && data.length > 0; i++) {
        const at = rng.int(0, data.length - 1);
        data.set(rng.bytes(Math.min(rng.int(1, 512), data.length - at)), at);
      }
      what = `random-runs(${runs})`;
      break;
    }
    case 5: {
      const len = rng.int(0, 8192);
      const body = rng.bytes(len);
      const prefix = rng.int(0, 3);
      from = 'random';
      if (prefix === 0) {
        data = body;
        what = `random-file(${len})`;
      } else {
        // A valid-looking file header keeps the parser going into the random part.
        const split = splitCapture(seed.data);
        const head = split?.prefix ?? seed.data.subarray(0, 24);
        data = joinCapture(head, [body]);
        what = `valid-header+random(${len})`;
      }
      break;
    }
    case 6:
    case 7: {
      const r = recordLevel(rng, seed);
      data = r?.data ?? seed.data;
      what = r?.what ?? 'unchanged';
      break;
    }
    case 8: {
      const r = recordFields(rng, seed);
      data = r?.data ?? seed.data;
      what = r?.what ?? 'unchanged';
      break;
    }
    case 9:
    case 10: {
      const r = httpCapture(rng, false);
      data = r.data;
      what = r.what;
      from = 'built';
      break;
    }
    case 11:
    case 12: {
      const r = httpCapture(rng, true);
      data = r.data;
      what = r.what;
      from = 'built';
      break;
    }
    default: {
      // Record damage and bit flips together: reassembly and dissection see both.
      const r = recordLevel(rng, seed);
      data = (r?.data ?? seed.data).slice();
      flipBits(rng, data, rng.int(1, 16), Math.min(64, data.length), data.length);
      what = `${r?.what ?? ''}+bitflips`;
    }
  }
  const chunkBytes = rng.pick([1 + rng.int(0, 15), rng.int(16, 4096), 65536, 1 << 20]);
  // One-byte chunks on a big input only cost time.
  const chunk = data.length > 100_000 && chunkBytes < 512 ? 4096 : chunkBytes;
  return { masterSeed, index, description: `case ${index} (seed ${masterSeed}): ${from} ${what} (${data.length} bytes, chunks of ${chunk})`, data, chunkBytes: chunk };
}

// ---------------------------------------------------------------------------------------------
// Running a case.

export interface CaseFailure {
  readonly seed: number;
  readonly index: number;
  readonly description: string;
  readonly where: string;
  readonly error: string;
}

export interface CaseOutcome {
  readonly failures: CaseFailure[];
  readonly readOutcome: 'ok' | SharkErrorCode;
  readonly entries: number;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `non-Error thrown: ${String(err)}`;
}

function* chunksOf(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, Math.min(data.length, off + size));
}

async function* asyncChunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  // Copies, like a file stream hands out fresh buffers.
  for (const c of chunksOf(data, size)) yield c.slice();
}

const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const PASTE_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Captured bytes never reach a terminal raw: every way an entry is printed or shown is display-safe. */
function checkEntry(entry: Entry): void {
  const json = stringifyJson(entry);
  if (/[\u007f-\u009f\u2028\u2029]/.test(json)) throw new Error('NDJSON line carries a raw DEL, C1 or line separator');
  if (TERMINAL_CONTROL.test(formatEntryLine(entry))) throw new Error(`text line carries a control character: ${stringifyJson(formatEntryLine(entry))}`);
  const cells = rowCells(entry);
  for (const name of ['route', 'method', 'path', 'status'] as const) {
    if (TERMINAL_CONTROL.test(fitCell(cells[name], 40))) throw new Error(`list cell ${name} carries a control character`);
  }
  for (const line of [...detailLines(entry), ...rawJsonLines(entry)]) {
    if (TERMINAL_CONTROL.test(line.text)) throw new Error(`detail line carries a control character: ${stringifyJson(line.text)}`);
  }
  const replay = descriptorOf(entry)?.replayCommand?.(entry);
  if (replay !== undefined && PASTE_CONTROL.test(replay)) throw new Error('copy as curl carries a control character other than LF');
}

function checkStats(stats: CaptureStats, where: string, out: string[]): void {
  for (const [k, v] of Object.entries(stats)) {
    if (k === 'undissected' || k === 'protocols') continue;
    if (k === 'tls') {
      // The TLS probes' counters: whole counts too (zero here: a capture file has no probes).
      for (const [field, n] of Object.entries(stats.tls)) if (n !== 0) out.push(`${where}: stats.tls.${field} = ${String(n)} from a capture file`);
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) out.push(`${where}: stats.${k} = ${String(v)}`);
  }
  // Violations per protocol: whole counts under dissectors' names, together every dissection error.
  let violations = 0;
  let protocolEntries = 0;
  for (const [name, t] of Object.entries(stats.protocols)) {
    for (const [field, n] of Object.entries(t)) {
      if (!/^[a-z][a-z0-9]*$/.test(name) || !Number.isSafeInteger(n) || n < 0) out.push(`${where}: stats.protocols.${name}.${field} = ${String(n)}`);
    }
    violations += t.violations;
    protocolEntries += t.entries;
  }
  if (violations !== stats.dissectionErrors) out.push(`${where}: ${violations} violations by protocol, ${stats.dissectionErrors} dissection errors`);
  if (protocolEntries !== stats.entries) out.push(`${where}: ${protocolEntries} entries by protocol, ${stats.entries} in all`);
  // Traffic not dissected: whole counts under known ids, each connection and datagram counted once.
  const sums: Record<string, number> = {};
  for (const [part, counts] of Object.entries(stats.undissected)) {
    sums[part] = 0;
    for (const [id, n] of Object.entries(counts as Record<string, number>)) {
      if (!/^[a-z][a-z0-9]*$/.test(id) || !Number.isSafeInteger(n) || n <= 0) out.push(`${where}: stats.undissected.${part}.${id} = ${String(n)}`);
      sums[part] += n;
    }
  }
  if (sums['connections']! > stats.connections) out.push(`${where}: ${sums['connections']} undissected connections of ${stats.connections}`);
  if (sums['datagrams']! > stats.packets) out.push(`${where}: ${sums['datagrams']} undissected datagrams of ${stats.packets} packets`);
  if (sums['udpFlows']! > sums['datagrams']!) out.push(`${where}: ${sums['udpFlows']} UDP flows for ${sums['datagrams']} datagrams`);
  // Hostile bytes are bad input, never a reason for a bug to surface (the reports say where).
  if (stats.internalErrors !== 0) out.push(`${where}: stats.internalErrors = ${String(stats.internalErrors)}`);
}

/** Wraps every handler so exceptions escaping a dissector are recorded (the assembler swallows them). */
class RecordingFactory implements StreamFactory {
  readonly #inner: StreamFactory;
  readonly errors: string[] = [];
  constructor(inner: StreamFactory) {
    this.#inner = inner;
  }
  open(conn: ConnectionInfo): StreamHandler {
    let h: StreamHandler;
    try {
      h = this.#inner.open(conn);
    } catch (err) {
      this.errors.push(`DissectorRegistry.open threw: ${describe(err)}`);
      throw err;
    }
    const errors = this.errors;
    const guard = <T>(what: string, f: () => T): T => {
      try {
        return f();
      } catch (err) {
        // A ProtocolViolation is how a dissector gives up on bytes that break its protocol: bad
        // input, counted by the stage (thrown-errors.ts). Anything else escaping is a bug.
        if (!(err instanceof ProtocolViolation)) errors.push(`dissector ${what} threw: ${describe(err)}`);
        throw err;
      }
    };
    return {
      data: (dir: Direction, bytes: Uint8Array, tsUs: number) => guard('data', () => h.data(dir, bytes, tsUs)),
      gap: (dir: Direction, lost: number, tsUs: number) => guard('gap', () => h.gap(dir, lost, tsUs)),
      end: (dir: Direction, tsUs: number) => guard('end', () => h.end(dir, tsUs)),
      close: (reason: CloseReason, tsUs: number) => guard('close', () => h.close(reason, tsUs)),
    };
  }
}

/** The stages wired by hand, each watched: parser -> decoder -> assembler -> registry. */
export function runInstrumented(data: Uint8Array, chunkBytes: number, limits: TcpLimits = FUZZ_TCP_LIMITS): { problems: string[]; entries: number; stats: CaptureStats; maxBuffered: number } {
  const problems: string[] = [];
  const stats = newCaptureStats();
  let entries = 0;
  const registry = new DissectorRegistry({
    options: DEFAULT_DISSECT_OPTIONS,
    stats,
    emit: (e) => {
      entries++;
      try {
        checkEntry(e);
      } catch (err) {
        problems.push(`entry cannot be formatted: ${describe(err)}`);
      }
    },
  });
  const factory = new RecordingFactory(registry);
  const assembler = new TcpAssembler(factory, stats, limits, new InternalErrors(stats, (r) => problems.push(r.message)));
  let maxBuffered = 0;
  let lastTs = 0;
  const decoder = new PacketDecoder(
    {
      tcp(seg: TcpSegment): void {
        const malformed = stats.malformed;
        const internalErrors = stats.internalErrors;
        assembler.segment(seg);
        // The decoder only hands out well-formed segments: a malformed count here is a swallowed exception.
        if ((stats.malformed !== malformed || stats.internalErrors !== internalErrors) && problems.length < 5) {
          problems.push(`TcpAssembler.segment met a bug or called a well-formed segment malformed on ${seg.srcIp}:${seg.srcPort} -> ${seg.dstIp}:${seg.dstPort} seq ${seg.seq} flags ${seg.flags} len ${seg.payload.length}`);
        }
        const buffered = assembler.bufferedBytes;
        if (buffered > maxBuffered) maxBuffered = buffered;
        if (buffered > limits.maxBufferedBytesTotal && problems.length < 5) problems.push(`assembler.bufferedBytes ${buffered} > cap ${limits.maxBufferedBytesTotal}`);
        if (assembler.liveConnections > limits.maxConnections && problems.length < 5) problems.push(`assembler.liveConnections ${assembler.liveConnections} > cap ${limits.maxConnections}`);
      },
      udp(): void {},
    },
    stats,
  );
  const parser = new CaptureFileParser(
    {
      frame(frame: Frame): void {
        if (frame.tsUs > lastTs) lastTs = frame.tsUs;
        decoder.frame(frame);
      },
      names(_record: NameRecord): void {},
    },
    stats,
  );
  try {
    for (const c of chunksOf(data, chunkBytes)) parser.push(c);
    parser.end();
  } catch (err) {
    if (!(err instanceof SharkError && ALLOWED_CODES.has(err.code))) problems.push(`CaptureFileParser/PacketDecoder threw: ${describe(err)}`);
  }
  try {
    registry.oldestPendingUs();
    decoder.finish();
    assembler.closeAll(lastTs);
  } catch (err) {
    problems.push(`finish threw: ${describe(err)}`);
  }
  for (const e of factory.errors.slice(0, 3)) problems.push(e);
  if (assembler.bufferedBytes !== 0) problems.push(`assembler.bufferedBytes ${assembler.bufferedBytes} after closeAll`);
  if (assembler.liveConnections !== 0) problems.push(`assembler.liveConnections ${assembler.liveConnections} after closeAll`);
  checkStats(stats, 'instrumented', problems);
  return { problems, entries, stats, maxBuffered };
}

/** Runs one case through readCaptures and the instrumented pipeline. */
export async function runCase(c: FuzzCase): Promise<CaseOutcome> {
  const failures: CaseFailure[] = [];
  const fail = (where: string, error: string): void => {
    failures.push({ seed: c.masterSeed, index: c.index, description: c.description, where, error });
  };
  let readOutcome: CaseOutcome['readOutcome'] = 'ok';
  let entries = 0;
  try {
    const result = await readCaptures([{ label: 'fuzz', chunks: asyncChunks(c.data, c.chunkBytes) }], (e) => {
      entries++;
      checkEntry(e);
    });
    const bad: string[] = [];
    checkStats(result.stats, 'readCaptures', bad);
    for (const w of result.warnings) if (w.code === 'INTERNAL_ERROR') bad.push(w.message);
    for (const b of bad) fail('readCaptures stats', b);
  } catch (err) {
    if (err instanceof SharkError && ALLOWED_CODES.has(err.code)) readOutcome = err.code;
    else fail('readCaptures', describe(err));
  }
  const inst = runInstrumented(c.data, c.chunkBytes);
  for (const p of inst.problems) fail('instrumented pipeline', p);
  return { failures, readOutcome, entries };
}
