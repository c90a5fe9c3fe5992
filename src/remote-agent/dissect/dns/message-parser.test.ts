import assert from 'node:assert/strict';
import { test } from 'node:test';
import { characterStrings, concat, ipv4, message, name, pointer, query, T, u16, u32 } from '../../../../test/helpers/dns-wire.ts';
import { parseDnsMessage } from './message-parser.ts';

test('header: id, QR, opcode, flags, rcode; questions in presentation form', () => {
  const m = parseDnsMessage(message({ id: 0xbeef, response: true, opcode: 0, rcode: 3, flags: 0x0400 | 0x0200 | 0x0100 | 0x0080, questions: [{ name: 'x.test', type: T.AAAA }] }))!;
  assert.equal(m.id, 0xbeef);
  assert.equal(m.isResponse, true);
  assert.equal(m.rcode, 3);
  assert.deepEqual(m.flags, { authoritative: true, truncated: true, recursionDesired: true, recursionAvailable: true, authenticData: false, checkingDisabled: false });
  assert.deepEqual(m.questions, [{ name: 'x.test', type: 'AAAA', class: 'IN' }]);
  assert.equal(m.problem, undefined);
  assert.equal(parseDnsMessage(new Uint8Array(11)), null, 'shorter than a header');
});

test('every common record type is read into its field; unknown types as hex', () => {
  const soa = concat(name('ns1.x.test'), name('hostmaster.x.test'), u32(2026120601), u32(900), u32(600), u32(86400), u32(3600));
  const https = concat(u16(1), name('.'), u16(1), u16(3), Uint8Array.of(2, 0x68, 0x32));
  const caa = concat(Uint8Array.of(0, 5), Buffer.from('issueletsencrypt.org'));
  const opt = concat(u16(10), u16(8), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  const m = parseDnsMessage(
    message({
      id: 1,
      response: true,
      questions: [{ name: 'x.test', type: T.ANY }],
      answers: [
        { name: 'x.test', type: T.A, rdata: ipv4('10.1.2.3') },
        { name: 'x.test', type: T.AAAA, rdata: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]) },
        { name: 'www.x.test', type: T.CNAME, rdata: name('x.test') },
        { name: 'x.test', type: T.NS, rdata: name('ns1.x.test') },
        { name: '3.2.1.10.in-addr.arpa', type: T.PTR, rdata: name('x.test') },
        { name: 'x.test', type: T.MX, rdata: concat(u16(10), name('mail.x.test')) },
        { name: 'x.test', type: T.TXT, rdata: characterStrings('v=spf1 -all', 'tab\there') },
        { name: 'x.test', type: T.SOA, rdata: soa },
        { name: '_http._tcp.x.test', type: T.SRV, rdata: concat(u16(1), u16(2), u16(8080), name('web.x.test')) },
        { name: 'x.test', type: T.HTTPS, rdata: https },
        { name: 'x.test', type: T.CAA, rdata: caa },
        { name: 'x.test', type: 65280, rdata: Uint8Array.of(0xde, 0xad) },
      ],
      additionals: [{ name: '.', type: T.OPT, class: 1232, ttl: 0x01008000, rdata: opt }],
    }),
  )!;
  assert.equal(m.problem, undefined);
  const data = m.answers.map(({ name: _n, class: _c, ttl: _t, ...rest }) => rest);
  assert.deepEqual(data, [
    { type: 'A', ip: '10.1.2.3' },
    { type: 'AAAA', ip: '2001:db8::1' },
    { type: 'CNAME', cname: 'x.test' },
    { type: 'NS', ns: 'ns1.x.test' },
    { type: 'PTR', ptr: 'x.test' },
    { type: 'MX', mx: { preference: 10, name: 'mail.x.test' } },
    { type: 'TXT', txts: ['v=spf1 -all', 'tab\\009here'] },
    { type: 'SOA', soa: { mname: 'ns1.x.test', rname: 'hostmaster.x.test', serial: 2026120601, refresh: 900, retry: 600, expire: 86400, minimum: 3600 } },
    { type: 'SRV', srv: { priority: 1, weight: 2, port: 8080, name: 'web.x.test' } },
    { type: 'HTTPS', svcb: { priority: 1, target: '.', params: [{ key: 'alpn', value: '026832' }] } },
    { type: 'CAA', caa: { flags: 0, tag: 'issue', value: 'letsencrypt.org' } },
    { type: 'TYPE65280', rdata: 'dead', rdLength: 2 },
  ]);
  assert.deepEqual(m.additionals[0], {
    name: '.',
    type: 'OPT',
    class: 'CLASS1232',
    ttl: 0x01008000,
    opt: { udpPayloadSize: 1232, extendedRcode: 1, version: 0, dnssecOk: true, options: [{ code: 10, name: 'COOKIE', data: '0102030405060708' }] },
  });
  assert.equal(m.rcode, 16, 'the OPT record extends the rcode (BADVERS)');
});

test('compression pointers are followed backwards, in owner names and in data', () => {
  // Question name at offset 12; the answer's owner and its CNAME target point into it.
  const q = query(7, 'www.x.test');
  const bytes = concat(q.subarray(0, 6), u16(1), q.subarray(8), pointer(12), u16(T.CNAME), u16(1), u32(60), u16(6), Uint8Array.of(3, 0x61, 0x70, 0x69), pointer(16));
  const m = parseDnsMessage(bytes)!;
  assert.equal(m.problem, undefined);
  assert.deepEqual(m.answers[0], { name: 'www.x.test', type: 'CNAME', class: 'IN', ttl: 60, cname: 'api.x.test' });
});

test('hostile names end: loops, forward pointers, over-long names and cut labels are problems, never hangs', () => {
  const header = (an: number): Uint8Array => concat(u16(1), u16(0x8180), u16(0), u16(an), u16(0), u16(0));
  const cases: Record<string, Uint8Array> = {
    'pointer to itself': concat(header(1), pointer(12)),
    'pointer forward': concat(header(1), pointer(14), name('a.test')),
    'pointer loop through a label': concat(header(1), Uint8Array.of(1, 0x61), pointer(12)),
    'label past the end': concat(header(1), Uint8Array.of(40, 0x61)),
    'reserved label type': concat(header(1), Uint8Array.of(0x41, 0x61)),
    'name over 255 octets': concat(header(1), ...new Array(5).fill(concat(Uint8Array.of(63), new Uint8Array(63).fill(0x61))), Uint8Array.of(0)),
    'counts past the bytes': concat(header(50), name('a.test'), u16(1), u16(1), u32(1), u16(4), ipv4('1.2.3.4')),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    const m = parseDnsMessage(bytes);
    assert.ok(m !== null && m.problem !== undefined, what);
  }
  // A chain of pointers to pointers, each two bytes back, kept in an unknown record's data; the
  // next record's owner is the chain's last pointer: a real name needs a hop or two, not hundreds.
  const chained = (hops: number): Uint8Array => {
    const dataStart = 12 + 8 + 10; // header, "a.test", type/class/ttl/rdlength
    const chain = Array.from({ length: hops }, (_, i) => pointer(i === 0 ? 12 : dataStart + (i - 1) * 2));
    const last = dataStart + (hops - 1) * 2;
    return concat(header(2), name('a.test'), u16(65280), u16(1), u32(1), u16(hops * 2), ...chain, pointer(last), u16(T.A), u16(1), u32(1), u16(4), ipv4('1.2.3.4'));
  };
  assert.equal(parseDnsMessage(chained(3))!.answers[1]?.name, 'a.test');
  const started = performance.now();
  const long = parseDnsMessage(chained(5000))!;
  assert.ok(performance.now() - started < 200);
  assert.match(long.problem ?? '', /more than 64 pointers/);
});

test('a record whose data does not fit its type is kept raw; the rest of the message still reads', () => {
  const m = parseDnsMessage(
    message({
      id: 2,
      response: true,
      answers: [
        { name: 'x.test', type: T.A, rdata: Uint8Array.of(1, 2, 3) },
        { name: 'x.test', type: T.A, rdata: ipv4('10.0.0.1') },
      ],
    }),
  )!;
  assert.equal(m.problem, undefined);
  assert.deepEqual(m.answers[0], { name: 'x.test', type: 'A', class: 'IN', ttl: 300, rdata: '010203', rdLength: 3 });
  assert.equal(m.answers[1]!.ip, '10.0.0.1');
});

test('labels with dots, backslashes and non-printable bytes are escaped as master files write them', () => {
  const odd = concat(Uint8Array.of(5, 0x61, 0x2e, 0x5c, 0x0a, 0xff), name('test'));
  const bytes = concat(u16(3), u16(0x0100), u16(1), u16(0), u16(0), u16(0), odd, u16(1), u16(1));
  assert.equal(parseDnsMessage(bytes)!.questions[0]!.name, 'a\\.\\\\\\010\\255.test');
});
