import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressFormatter, formatIPv4, formatIPv6 } from './ip-address.ts';
import { ipv6Bytes } from '../../test/helpers/packets.ts';

function v6(s: string): string {
  const b = new Uint8Array(20);
  b.set(ipv6Bytes(s), 2); // at an offset, as inside a packet
  return formatIPv6(b, 2);
}

test('IPv4 dotted quad from 4 bytes at an offset', () => {
  assert.equal(formatIPv4(Uint8Array.from([9, 10, 0, 0, 1, 9]), 1), '10.0.0.1');
  assert.equal(formatIPv4(Uint8Array.from([255, 255, 255, 255]), 0), '255.255.255.255');
});

test('IPv6 follows RFC 5952: lowercase, no leading zeros, longest zero run compressed', () => {
  assert.equal(v6('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(v6('0:0:0:0:0:0:0:0'), '::');
  assert.equal(v6('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(v6('fe80:0:0:0:0:0:0:0'), 'fe80::');
  assert.equal(v6('FE80:0:0:0:0200:5EFF:FE00:5301'), 'fe80::200:5eff:fe00:5301');
  // 4.2.2: a single zero group is not compressed.
  assert.equal(v6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
  // 4.2.3: the longest run wins; on a tie the first one.
  assert.equal(v6('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(v6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
});

test('IPv4-mapped IPv6 uses the mixed notation (RFC 5952 section 5)', () => {
  const b = Uint8Array.from([...Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]);
  assert.equal(formatIPv6(b, 0), '::ffff:192.0.2.1');
});

test('AddressFormatter caches IPv4 strings and stays correct past its cache limit', () => {
  const f = new AddressFormatter();
  const b = new Uint8Array(4);
  for (let i = 0; i < 10_000; i++) {
    b[0] = 10;
    b[1] = (i >> 16) & 0xff;
    b[2] = (i >> 8) & 0xff;
    b[3] = i & 0xff;
    assert.equal(f.ipv4(b, 0), `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`);
  }
  b.set([192, 168, 1, 1]);
  const first = f.ipv4(b, 0);
  assert.equal(first, '192.168.1.1');
  assert.equal(f.ipv4(b, 0), first);
  assert.equal(f.ipv6(Uint8Array.from(ipv6Bytes('2001:db8::2')), 0), '2001:db8::2');
});
