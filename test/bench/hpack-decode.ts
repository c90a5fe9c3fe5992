/**
 * HPACK decode micro-benchmark (not part of `npm run bench`, no assertion): time per header block
 * for a gRPC unary call's request and response headers and an h2load request, Huffman-coded as
 * nghttp2 and grpc send them, on one connection: the first block of each kind carries literals
 * (the table fills), the following ones mostly dynamic table references, with the fields that
 * change per request (grpc-timeout, x-request-id, :path) as literals.
 *
 *   node test/bench/hpack-decode.ts
 */
import { HpackDecoder } from '../../src/remote-agent/dissect/http2/hpack.ts';
import { HpackEncoder, type FieldLine } from '../helpers/hpack-encoder.ts';

const BLOCKS = Number(process.env['HPACK_BENCH_BLOCKS'] ?? 200_000);

const h = (name: string, value: string, rep: FieldLine['rep'] = 'indexed'): FieldLine => ({ name, value, rep, huffman: true });

function grpcRequest(i: number): FieldLine[] {
  return [
    h(':method', 'POST'),
    h(':scheme', 'http'),
    h(':path', '/helloworld.Greeter/SayHello'),
    h(':authority', 'greeter.default.svc.cluster.local:50051'),
    h('content-type', 'application/grpc'),
    h('user-agent', 'grpc-node-js/1.14.7'),
    h('te', 'trailers'),
    h('grpc-accept-encoding', 'identity,deflate,gzip'),
    h('accept-encoding', 'identity'),
    h('grpc-timeout', `${9000 + (i % 1000)}m`, 'without'),
    h('x-request-id', `5f0c6a2e-${(100000 + i).toString(16)}-4b7d-9c1e-2a3b4c5d6e7f`, 'without'),
  ];
}

function grpcResponse(): FieldLine[] {
  return [h(':status', '200'), h('content-type', 'application/grpc'), h('grpc-accept-encoding', 'identity,deflate,gzip'), h('grpc-encoding', 'identity')];
}

function h2loadRequest(i: number): FieldLine[] {
  return [
    h(':method', 'GET'),
    h(':path', `/index.html?r=${i % 64}`, 'without'),
    h(':scheme', 'http'),
    h(':authority', '10.0.0.2:8080'),
    h('accept', '*/*'),
    h('accept-encoding', 'gzip, deflate'),
    h('user-agent', 'h2load nghttp2/1.64.0'),
  ];
}

/** A connection's worth of blocks: the first one fills the table, the rest refer to it. */
function connection(make: (i: number) => FieldLine[], n: number): Uint8Array[] {
  const enc = new HpackEncoder();
  return Array.from({ length: n }, (_, i) => enc.encode(make(i)));
}

function bench(label: string, blocks: readonly Uint8Array[]): void {
  // Decoding the same connection again and again: one decoder per pass, as a new connection.
  const passes = Math.ceil(BLOCKS / blocks.length);
  let fields = 0;
  for (let warm = 0; warm < 3; warm++) {
    const dec = new HpackDecoder();
    for (const b of blocks) {
      const r = dec.decode(b);
      if (!r.ok) throw new Error(`${label}: ${r.reason}`);
    }
  }
  const started = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) {
    const dec = new HpackDecoder();
    for (const b of blocks) {
      const r = dec.decode(b);
      if (r.ok) fields += r.fields.length;
    }
  }
  const ns = Number(process.hrtime.bigint() - started);
  const count = passes * blocks.length;
  const bytes = blocks.reduce((s, b) => s + b.length, 0) / blocks.length;
  process.stdout.write(
    `${label.padEnd(34)} ${(ns / count).toFixed(0).padStart(6)} ns/block  ${((count * 1e9) / ns / 1e6).toFixed(2)} M blocks/s  ${bytes.toFixed(0)} B/block  ${(fields / count).toFixed(0)} fields\n`,
  );
}

const first = (make: (i: number) => FieldLine[]): Uint8Array[] => Array.from({ length: 100 }, (_, i) => new HpackEncoder().encode(make(i)));

bench('gRPC request, first on connection', first(grpcRequest));
bench('gRPC request, 100 on a connection', connection(grpcRequest, 100));
bench('gRPC response, 100 on a connection', connection(() => grpcResponse(), 100));
bench('h2load request, first on connection', first(h2loadRequest));
bench('h2load request, 100 on a connection', connection(h2loadRequest, 100));
