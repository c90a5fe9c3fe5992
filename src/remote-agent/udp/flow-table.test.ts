import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UdpDatagram } from '../ip/packet.ts';
import { UdpFlowTable } from './flow-table.ts';

const dgram = (srcPort: number, dstPort: number, tsUs: number, src = '10.0.0.1', dst = '10.0.0.2'): UdpDatagram => ({
  tsUs,
  srcIp: src,
  dstIp: dst,
  srcPort,
  dstPort,
  payload: new Uint8Array(1),
});

test('both directions are one flow, opened once, with the opener known', () => {
  let opened = 0;
  const table = new UdpFlowTable(() => ++opened);
  assert.deepEqual(table.datagram(dgram(40000, 53, 1)), { flow: 1, isNew: true, fromOpener: true });
  assert.deepEqual(table.datagram(dgram(53, 40000, 2, '10.0.0.2', '10.0.0.1')), { flow: 1, isNew: false, fromOpener: false });
  assert.deepEqual(table.datagram(dgram(40001, 53, 3)), { flow: 2, isNew: true, fromOpener: true }, 'another source port is another flow');
  assert.equal(table.size, 2);
});

test('idle flows are forgotten after the timeout (capture time); past the cap the least recently active goes', () => {
  let opened = 0;
  const table = new UdpFlowTable(() => ++opened, { idleTimeoutUs: 1000, maxFlows: 3 });
  table.datagram(dgram(1, 53, 0));
  table.datagram(dgram(2, 53, 500));
  assert.equal(table.datagram(dgram(1, 53, 900)).isNew, false, 'active within the timeout');
  assert.equal(table.datagram(dgram(3, 53, 1600)).isNew, true);
  assert.equal(table.size, 2, 'flow 2 (idle since 500) was forgotten at 1600, flow 1 (900) was not');
  assert.equal(table.datagram(dgram(1, 53, 1700)).isNew, false);
  for (let port = 10; port < 100; port++) table.datagram(dgram(port, 53, 2000));
  assert.equal(table.size, 3, 'bounded by maxFlows');
  assert.equal(table.datagram(dgram(99, 53, 2001)).isNew, false, 'the newest flows stay');
  assert.equal(table.datagram(dgram(10, 53, 2002)).isNew, true, 'an evicted flow seen again is new');
});

test('a forgotten flow is told why, once: idle, evicted by the cap, or the end of the capture', () => {
  const forgotten: [number, string, number][] = [];
  let opened = 0;
  const table = new UdpFlowTable(() => ++opened, { idleTimeoutUs: 1000, maxFlows: 2 }, (flow, reason, tsUs) => forgotten.push([flow, reason, tsUs]));
  table.datagram(dgram(1, 53, 0));
  table.datagram(dgram(2, 53, 10));
  table.datagram(dgram(3, 53, 20));
  assert.deepEqual(forgotten, [[1, 'evicted', 20]]);
  table.expireIdle(1015);
  assert.deepEqual(forgotten.at(-1), [2, 'idle', 1015]);
  assert.deepEqual([...table.values()], [3]);
  table.closeAll(2000);
  assert.deepEqual(forgotten.at(-1), [3, 'end-of-capture', 2000]);
  assert.equal(table.size, 0);
  table.closeAll(3000);
  assert.equal(forgotten.length, 3);
});
