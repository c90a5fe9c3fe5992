/**
 * gRPC and HTTP/2 in the TUI's list, detail pane and service map (ink-testing-library), from entries built as
 * the dissectors build them: named rows, the call and its messages in the detail, and every new
 * field made display-safe.
 */
import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { EntryList } from './entry-list.tsx';
import { DetailPane } from './detail-pane.tsx';
import { detailLines } from './detail-lines.ts';
import { ServiceGraphBuilder } from '../pipeline/service-graph.ts';
import { layoutGraph } from './graph-layout.ts';
import { mapItems } from './map-items.ts';
import { ServiceMap } from './service-map.tsx';
import { buildEntry, buildGrpcEntry, buildHttp2Entry, rawMessage, schemaMessage } from '../../test/helpers/entries.ts';
import { plain } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const src = { name: 'frontend', namespace: 'shop' };
const dst = { name: 'carts', namespace: 'shop' };

test('list: gRPC rows show call or stream, Service/Method and the status name, coloured by class', () => {
  const entries = [
    buildGrpcEntry({ src, dst, rpc: 'GetCart' }),
    buildGrpcEntry({ src, dst, rpc: 'AddItem', grpcStatus: 9 }),
    buildGrpcEntry({ src, dst, rpc: 'Checkout', grpcStatus: 14 }),
    buildGrpcEntry({ src, dst, rpc: 'Watch', responseMessageCount: 1200 }),
    buildHttp2Entry({ src, dst, url: '/healthz' }),
  ];
  const frame = render(<EntryList entries={entries} firstIndex={0} selected={4} width={140} height={7} emptyText="none" />).lastFrame() ?? '';
  const lines = plain(frame).split('\n');
  assert.match(lines[1]!, /gRPC\s+frontend -> carts\s+call\s+shop\.v1\.Cart\/GetCart\s+OK\s/);
  assert.match(lines[2]!, /call\s+shop\.v1\.Cart\/AddItem\s+FAILED_PRECONDITION\s/, 'the longest name whole at 140 columns');
  assert.match(lines[3]!, /shop\.v1\.Cart\/Checkout\s+UNAVAILABLE\s/);
  assert.match(lines[4]!, /stream\s+shop\.v1\.Cart\/Watch \(1 → 1,200 msgs\)\s+OK\s/);
  assert.match(lines[5]!, /HTTP\/2\s+frontend -> carts\s+GET\s+\/healthz\s+200\s/);
  const rows = frame.split('\n');
  assert.match(rows[1]!, /\u001b\[32m\s*OK/, 'OK green');
  assert.match(rows[3]!, /\u001b\[31m\s*UNAVAILABLE/, 'a server-side status red');
  assert.ok(lines.every((line) => line.length <= 140));
});

test('detail: the call table, HTTP/2 stream and trailers, each kept message readable, counts of the rest', () => {
  const entry = buildGrpcEntry({
    src, dst, grpcStatus: 5, grpcMessage: 'no cart 7', timeoutMs: 2000,
    requestMessages: [schemaMessage({ cartId: '7' }, 'shop.v1.GetCartRequest')],
    responseMessages: [rawMessage([{ no: 1, wire: 'len', string: 'alice' }, { no: 2, wire: 'len', message: [{ no: 1, wire: 'varint', value: 42 }] }], 14)],
    responseMessageCount: 3,
    trailers: { 'grpc-status': '5', 'grpc-message': 'no%20cart%207' },
    streamId: 5,
  });
  const frame = plain(render(<DetailPane lines={detailLines(entry)} scroll={0} width={100} height={80} curl={undefined} />).lastFrame());
  assert.match(frame, /^gRPC call\nshop\.v1\.Cart\/GetCart {2}5 NOT_FOUND\nCall \(9\)\n {2}Service: shop\.v1\.Cart\n {2}Method: GetCart\n {2}Status: 5 NOT_FOUND\n {2}Message: no cart 7\n {2}Deadline: 2s/m);
  assert.match(frame, /^Trailers \(2\)\n {2}grpc-status: 5/m);
  assert.match(frame, /^HTTP\/2 stream \(1\)\n {2}Id: 5/m);
  assert.match(frame, /^Request message 1 of 1 \(protobuf shop\.v1\.GetCartRequest, 14 B\)\n {2}\{\n {4}"cartId": "7"\n {2}\}/m);
  assert.match(frame, /^Response messages\nshowing 1 of 3 messages/m);
  assert.match(frame, /^Response message 1 of 3 \(protobuf, no schema, 14 B\)\n {2}1: "alice"\n {2}2 \{\n {4}1: 42\n {2}\}/m);
  assert.doesNotMatch(frame, /binary body/, 'the raw protobuf bytes are not shown beside the decoded messages');
});

test('detail: control characters in every new field are shown escaped, never sent to the terminal', () => {
  const evil = '\u001b]52;c;aWQ=\u0007\u001b[2J\u009b';
  const entry = buildGrpcEntry({
    service: `svc${evil}`, rpc: `m${evil}`, grpcStatus: 3, grpcMessage: `bad${evil}`, responseEncoding: `gz${evil}`,
    requestMessages: [schemaMessage({ [`k${evil}`]: `v${evil}` }, `T${evil}`)],
    responseMessages: [rawMessage([{ no: 1, wire: 'len', string: `s${evil}` }, { no: 2, wire: 'len', bytes: evil }])],
    trailers: { [`t${evil}`]: `v${evil}` },
    reset: { by: 'server', code: 2, name: `X${evil}` },
  });
  const lines = detailLines(entry).map((l) => l.text);
  const row = render(<EntryList entries={[entry]} firstIndex={0} selected={0} width={120} height={3} emptyText="" />).lastFrame() ?? '';
  for (const text of [...lines, plain(row)]) assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, JSON.stringify(text));
  assert.ok(lines.some((l) => l.includes('Message: bad\\u001b]52;c;aWQ=')), 'shown escaped');
});

test('service map: a gRPC edge of its own, labelled gRPC with its server-side share; the table counts both classes', () => {
  const builder = new ServiceGraphBuilder();
  const calls = [
    buildGrpcEntry({ src, dst }), buildGrpcEntry({ src, dst, grpcStatus: 5 }), buildGrpcEntry({ src, dst, grpcStatus: 14 }),
    buildGrpcEntry({ src, dst }), buildEntry({ src, dst: { name: 'catalogue', namespace: 'shop' } }), buildHttp2Entry({ src, dst }),
  ];
  calls.forEach((entry, seq) => builder.add(entry, seq));
  const graph = builder.graph();
  const layout = layoutGraph(graph);
  const items = mapItems(graph, layout);
  const frame = plain(render(<ServiceMap graph={graph} layout={layout} items={items} selected={0} pending={undefined} width={120} height={30} />).lastFrame());
  assert.match(frame, /gRPC 4 serr 25%/);
  assert.match(frame, /HTTP 1─/);
  assert.match(frame, /CALLER -> CALLEE\s+PROTO\s+REQS\s+CERR%\s+SERR%\s+NO RSP/);
  assert.match(frame, /frontend -> carts\s+gRPC\s+4\s+25%\s+25%\s+0\s/);
  assert.match(frame, /frontend -> carts\s+HTTP\/2\s+1\s+0%\s+0%\s+0\s/, 'HTTP/2 whole in the PROTO column');
});
