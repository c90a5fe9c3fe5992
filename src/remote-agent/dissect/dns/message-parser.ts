/**
 * Parse stage: one DNS message (RFC 1035 §4.1) from its bytes. Hostile input is the norm here:
 * every read is bounds-checked, a compression pointer must point before the pointer itself (so
 * a chain cannot loop and ends in at most one hop per earlier byte), a name is at most 255 octets
 * (RFC 1035 §3.1), and section counts are trusted only as far as the bytes go.
 *
 * A message whose header reads is returned even when a later part does not: the sections parsed
 * so far are kept and `problem` says where it broke, so a query or answer that is cut or bent
 * still pairs and shows what it has.
 */
import { formatIPv4, formatIPv6 } from '../../../model/ip-address.ts';
import { className, optionName, svcParamName, TYPE, typeName } from './codes.ts';
import { RDATA_HEX_BYTES, type DnsFlags, type DnsQuestion, type DnsRecord } from './entry.ts';

export const HEADER_BYTES = 12;
/** RFC 1035 §3.1: a name is at most 255 octets on the wire (labels and their length bytes). */
const MAX_NAME_OCTETS = 255;
/**
 * Pointers followed per name. Labels add octets, so the octet limit ends any chain that moves
 * forward; this ends chains of pointers to pointers, which would cost a hop per byte of a message
 * built for it. A real name needs one or two.
 */
const MAX_NAME_POINTERS = 64;

/** One message as parsed, before it becomes an entry (the pair stage builds the entry). */
export interface DnsMessage {
  readonly id: number;
  /** QR: true for a response. */
  readonly isResponse: boolean;
  readonly opcode: number;
  /** The header's 4 bits, extended by an OPT record's upper 8 bits (RFC 6891 §6.1.3). */
  readonly rcode: number;
  readonly flags: DnsFlags;
  /** QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT as the header says (the sections may hold fewer). */
  readonly counts: readonly [number, number, number, number];
  readonly questions: DnsQuestion[];
  readonly answers: DnsRecord[];
  readonly authorities: DnsRecord[];
  readonly additionals: DnsRecord[];
  /** Bytes of the message. */
  readonly size: number;
  /** Bytes after the last record (0 in a well-formed message). */
  readonly trailingBytes: number;
  /** Where the message stopped making sense; undefined when every section parsed. */
  readonly problem: string | undefined;
}

/** Captured bytes that do not follow the wire format (caught here, never escapes the parser). */
class Malformed extends Error {}

/** The message in `b`, or null when not even its 12-byte header is there. */
export function parseDnsMessage(b: Uint8Array): DnsMessage | null {
  if (b.length < HEADER_BYTES) return null;
  const r = new Reader(b);
  const id = r.u16();
  const flagBits = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const;
  const questions: DnsQuestion[] = [];
  const sections: [DnsRecord[], DnsRecord[], DnsRecord[]] = [[], [], []];
  let problem: string | undefined;
  let extendedRcode = 0;
  try {
    for (let i = 0; i < counts[0]; i++) questions.push(readQuestion(r));
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < counts[s + 1]; i++) {
        const record = readRecord(r);
        if (record.opt !== undefined && s === 2) extendedRcode = record.opt.extendedRcode;
        sections[s]!.push(record);
      }
    }
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    problem = err.message;
  }
  return {
    id,
    isResponse: (flagBits & 0x8000) !== 0,
    opcode: (flagBits >> 11) & 0x0f,
    rcode: (extendedRcode << 4) | (flagBits & 0x0f),
    flags: {
      authoritative: (flagBits & 0x0400) !== 0,
      truncated: (flagBits & 0x0200) !== 0,
      recursionDesired: (flagBits & 0x0100) !== 0,
      recursionAvailable: (flagBits & 0x0080) !== 0,
      authenticData: (flagBits & 0x0020) !== 0,
      checkingDisabled: (flagBits & 0x0010) !== 0,
    },
    counts,
    questions,
    answers: sections[0],
    authorities: sections[1],
    additionals: sections[2],
    size: b.length,
    trailingBytes: problem === undefined ? b.length - r.at : 0,
    problem,
  };
}

function readQuestion(r: Reader): DnsQuestion {
  const name = r.name();
  return { name, type: typeName(r.u16()), class: className(r.u16()) };
}

function readRecord(r: Reader): DnsRecord {
  const name = r.name();
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const length = r.u16();
  const start = r.at;
  const end = start + length;
  if (end > r.bytes.length) throw new Malformed(`record ${name} ${typeName(type)}: data of ${length} bytes runs past the message`);
  const record: DnsRecord = { name, type: typeName(type), class: className(cls), ttl };
  const data = new Reader(r.bytes, start, end);
  try {
    readData(data, type, cls, ttl, record);
    if (data.at !== end) throw new Malformed('data longer than its type');
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    // Data that does not parse as its type says: kept raw, the rest of the message still reads.
    clearData(record);
    setRaw(record, r.bytes, start, end);
  }
  r.at = end;
  return record;
}

/** Fills the type's data field of `record` from `d` (a reader bounded to the record's data). */
function readData(d: Reader, type: number, cls: number, ttl: number, record: DnsRecord): void {
  switch (type) {
    case TYPE.A:
      d.need(4);
      record.ip = formatIPv4(d.bytes, d.at);
      d.at += 4;
      return;
    case TYPE.AAAA:
      d.need(16);
      record.ip = formatIPv6(d.bytes, d.at);
      d.at += 16;
      return;
    case TYPE.CNAME:
      record.cname = d.name();
      return;
    case TYPE.NS:
      record.ns = d.name();
      return;
    case TYPE.PTR:
      record.ptr = d.name();
      return;
    case TYPE.MX: {
      const preference = d.u16();
      record.mx = { preference, name: d.name() };
      return;
    }
    case TYPE.TXT:
    case TYPE.SPF: {
      const txts: string[] = [];
      while (d.at < d.end) txts.push(d.characterString());
      record.txts = txts;
      return;
    }
    case TYPE.SOA: {
      const mname = d.name();
      const rname = d.name();
      record.soa = { mname, rname, serial: d.u32(), refresh: d.u32(), retry: d.u32(), expire: d.u32(), minimum: d.u32() };
      return;
    }
    case TYPE.SRV: {
      const priority = d.u16();
      const weight = d.u16();
      const port = d.u16();
      // RFC 2782: the target is not compressed, but servers do compress it and resolvers accept it.
      record.srv = { priority, weight, port, name: d.name() };
      return;
    }
    case TYPE.URI: {
      const priority = d.u16();
      const weight = d.u16();
      record.uri = { priority, weight, target: escapeText(d.bytes, d.at, d.end) };
      d.at = d.end;
      return;
    }
    case TYPE.CAA: {
      const flags = d.u8();
      const tagLength = d.u8();
      d.need(tagLength);
      const tag = escapeText(d.bytes, d.at, d.at + tagLength);
      d.at += tagLength;
      record.caa = { flags, tag, value: escapeText(d.bytes, d.at, d.end) };
      d.at = d.end;
      return;
    }
    case TYPE.SVCB:
    case TYPE.HTTPS: {
      const priority = d.u16();
      const target = d.name();
      const params: { key: string; value: string }[] = [];
      while (d.at < d.end) {
        const key = d.u16();
        const length = d.u16();
        d.need(length);
        params.push({ key: svcParamName(key), value: hex(d.bytes, d.at, d.at + length) });
        d.at += length;
      }
      record.svcb = { priority, target, params };
      return;
    }
    case TYPE.OPT: {
      const options: { code: number; name: string; data: string }[] = [];
      while (d.at < d.end) {
        const code = d.u16();
        const length = d.u16();
        d.need(length);
        options.push({ code, name: optionName(code), data: hex(d.bytes, d.at, d.at + length) });
        d.at += length;
      }
      record.opt = { udpPayloadSize: cls, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options };
      return;
    }
    default:
      setRaw(record, d.bytes, d.at, d.end);
      d.at = d.end;
  }
}

function setRaw(record: DnsRecord, b: Uint8Array, start: number, end: number): void {
  record.rdata = hex(b, start, Math.min(end, start + RDATA_HEX_BYTES));
  record.rdLength = end - start;
}

function clearData(record: DnsRecord): void {
  for (const key of ['ip', 'cname', 'ns', 'ptr', 'mx', 'txts', 'soa', 'srv', 'uri', 'caa', 'svcb', 'opt'] as const) delete record[key];
}

/** Bounds-checked reads of the message `bytes`, between `at` and `end`. */
class Reader {
  readonly bytes: Uint8Array;
  at: number;
  readonly end: number;

  constructor(bytes: Uint8Array, at = 0, end = bytes.length) {
    this.bytes = bytes;
    this.at = at;
    this.end = end;
  }

  need(n: number): void {
    if (this.at + n > this.end) throw new Malformed(`cut short at byte ${this.at}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const v = (this.bytes[this.at]! << 8) | this.bytes[this.at + 1]!;
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const v = ((b[this.at]! << 24) >>> 0) + ((b[this.at + 1]! << 16) | (b[this.at + 2]! << 8) | b[this.at + 3]!);
    this.at += 4;
    return v;
  }

  /** A <character-string> (RFC 1035 §3.3): a length byte and that many bytes. */
  characterString(): string {
    const length = this.u8();
    this.need(length);
    const s = escapeText(this.bytes, this.at, this.at + length);
    this.at += length;
    return s;
  }

  /**
   * A domain name at `at` (RFC 1035 §3.1, §4.1.4), in presentation form. Pointers may lead
   * anywhere in the message before the pointer (not only inside this reader's bounds: rdata names
   * point back into earlier records); the reader moves past the name as written here.
   */
  name(): string {
    const b = this.bytes;
    let pos = this.at;
    let limit = this.end;
    let jumped = false;
    let pointers = 0;
    let octets = 0;
    let out = '';
    for (;;) {
      if (pos >= limit) throw new Malformed(`name cut short at byte ${pos}`);
      const len = b[pos]!;
      if (len === 0) {
        if (!jumped) this.at = pos + 1;
        return out === '' ? '.' : out;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (pos + 1 >= limit) throw new Malformed(`name pointer cut short at byte ${pos}`);
        const target = ((len & 0x3f) << 8) | b[pos + 1]!;
        // Only backwards: a chain of pointers alone always ends; with labels the octet limit ends it.
        if (target >= pos) throw new Malformed(`name pointer at byte ${pos} does not point back (to ${target})`);
        if (++pointers > MAX_NAME_POINTERS) throw new Malformed(`name at byte ${this.at} follows more than ${MAX_NAME_POINTERS} pointers`);
        if (!jumped) this.at = pos + 2;
        jumped = true;
        pos = target;
        // Earlier bytes are the message's, whatever this reader's window.
        limit = b.length;
        continue;
      }
      if (kind !== 0) throw new Malformed(`name label type 0x${kind.toString(16)} at byte ${pos}`);
      octets += len + 1;
      if (octets + 1 > MAX_NAME_OCTETS) throw new Malformed(`name longer than ${MAX_NAME_OCTETS} octets at byte ${pos}`);
      if (pos + 1 + len > limit) throw new Malformed(`label cut short at byte ${pos}`);
      if (out !== '') out += '.';
      out += escapeLabel(b, pos + 1, pos + 1 + len);
      pos += 1 + len;
    }
  }
}

/** A label as master files write it (RFC 1035 §5.1): `.` and `\` escaped, other non-printables as \DDD. */
function escapeLabel(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x2e || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\${String(c).padStart(3, '0')}`;
  }
  return s;
}

/** Text data (TXT, CAA value, URI): printable ASCII and space as they are, `\` and the rest escaped. */
function escapeText(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\${String(c).padStart(3, '0')}`;
  }
  return s;
}

function hex(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('hex');
}
