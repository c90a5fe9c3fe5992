/**
 * Converts a classic pcap into pcapng with a name-resolution block, so entries read from it carry
 * workload names. Usage: node pcap-to-pcapng-with-names.ts IN.pcap NAMES.txt OUT.pcapng
 * NAMES.txt has "IP NAME" per line (IPv4). Small files only: it reads the input whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const [input, namesFile, output] = process.argv.slice(2);
if (!input || !namesFile || !output) {
  process.stderr.write('usage: pcap-to-pcapng-with-names IN.pcap NAMES.txt OUT.pcapng\n');
  process.exit(2);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

const pcap = readFileSync(input);
if (pcap.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${input}: expected a little-endian microsecond pcap`);
const linkType = pcap.readUInt32LE(20);
const snaplen = pcap.readUInt32LE(16);

const shb = Buffer.alloc(16);
shb.writeUInt32LE(0x1a2b3c4d, 0);
shb.writeUInt16LE(1, 4);
shb.writeUInt16LE(0, 6);
shb.writeBigInt64LE(-1n, 8);

const idb = Buffer.alloc(8);
idb.writeUInt16LE(linkType, 0);
idb.writeUInt32LE(snaplen, 4);

const records: Buffer[] = [];
for (const line of readFileSync(namesFile, 'utf8').split('\n')) {
  const [ip, name] = line.trim().split(/\s+/);
  if (!ip || !name) continue;
  const value = Buffer.concat([Buffer.from(ip.split('.').map(Number)), Buffer.from(`${name}\0`)]);
  const rec = Buffer.alloc(4 + pad4(value.length));
  rec.writeUInt16LE(1, 0); // nrb_record_ipv4
  rec.writeUInt16LE(value.length, 2);
  value.copy(rec, 4);
  records.push(rec);
}
records.push(Buffer.alloc(4)); // nrb_record_end

const out: Buffer[] = [block(0x0a0d0d0a, shb), block(1, idb), block(4, Buffer.concat(records))];
for (let off = 24; off + 16 <= pcap.length; ) {
  const sec = pcap.readUInt32LE(off);
  const usec = pcap.readUInt32LE(off + 4);
  const capLen = pcap.readUInt32LE(off + 8);
  const origLen = pcap.readUInt32LE(off + 12);
  const data = pcap.subarray(off + 16, off + 16 + capLen);
  off += 16 + capLen;
  const ts = BigInt(sec) * 1_000_000n + BigInt(usec);
  const epb = Buffer.alloc(20 + pad4(data.length));
  epb.writeUInt32LE(0, 0);
  epb.writeUInt32LE(Number(ts >> 32n), 4);
  epb.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  epb.writeUInt32LE(data.length, 12);
  epb.writeUInt32LE(origLen, 16);
  data.copy(epb, 20);
  out.push(block(6, epb));
}
writeFileSync(output, Buffer.concat(out));
