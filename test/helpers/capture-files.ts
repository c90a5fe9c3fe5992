/** Builders of pcap and pcapng file bytes for tests (not used by the product). */

class Writer {
  readonly #bytes: number[] = [];
  readonly #le: boolean;

  constructor(littleEndian: boolean) {
    this.#le = littleEndian;
  }

  u8(v: number): this {
    this.#bytes.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    if (this.#le) this.#bytes.push(v & 0xff, (v >>> 8) & 0xff);
    else this.#bytes.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  u32(v: number): this {
    const b = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    this.#bytes.push(...(this.#le ? b.reverse() : b));
    return this;
  }

  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.#bytes.push(b[i]);
    return this;
  }

  pad4(): this {
    while (this.#bytes.length % 4 !== 0) this.#bytes.push(0);
    return this;
  }

  get length(): number {
    return this.#bytes.length;
  }

  done(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

export interface PcapPacket {
  readonly sec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  readonly frac: number;
  readonly data: Uint8Array;
  readonly origLen?: number;
}

export interface PcapSpec {
  littleEndian?: boolean;
  nanoseconds?: boolean;
  /** The whole link-type field (may carry FCS bits). */
  linkType?: number;
  snapLen?: number;
}

export function pcapFile(spec: PcapSpec, packets: readonly PcapPacket[]): Uint8Array {
  const w = new Writer(spec.littleEndian ?? true);
  w.u32(spec.nanoseconds === true ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0);
  w.u32(spec.snapLen ?? 262144).u32(spec.linkType ?? 1);
  for (const p of packets) {
    w.u32(p.sec).u32(p.frac).u32(p.data.length).u32(p.origLen ?? p.data.length).bytes(p.data);
  }
  return w.done();
}

export interface BlockOption {
  readonly code: number;
  readonly value: ArrayLike<number>;
}

/** One pcapng block with the given body (and options appended after it, ended by opt_endofopt). */
export function pcapngBlock(
  littleEndian: boolean,
  type: number,
  body: (w: Writer) => void,
  options: readonly BlockOption[] = [],
): Uint8Array {
  const inner = new Writer(littleEndian);
  body(inner);
  inner.pad4();
  if (options.length > 0) {
    for (const o of options) inner.u16(o.code).u16(o.value.length).bytes(o.value).pad4();
    inner.u16(0).u16(0);
  }
  const content = inner.done();
  const total = content.length + 12;
  return new Writer(littleEndian).u32(type).u32(total).bytes(content).u32(total).done();
}

export function shb(littleEndian: boolean, options: readonly BlockOption[] = []): Uint8Array {
  return pcapngBlock(littleEndian, 0x0a0d0d0a, (w) => w.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff), options);
}

export interface IdbSpec {
  linkType: number;
  snapLen?: number;
  /** if_tsresol byte. */
  tsresol?: number;
  /** if_tsoffset in seconds (non-negative, < 2^32, for the builder's simplicity). */
  tsoffset?: number;
  fcslen?: number;
}

export function idb(littleEndian: boolean, spec: IdbSpec): Uint8Array {
  const options: BlockOption[] = [];
  options.push({ code: 2, value: new TextEncoder().encode('eth0') }); // if_name: an option we skip
  if (spec.tsresol !== undefined) options.push({ code: 9, value: [spec.tsresol] });
  if (spec.fcslen !== undefined) options.push({ code: 13, value: [spec.fcslen] });
  if (spec.tsoffset !== undefined) {
    const o = new Writer(littleEndian);
    if (littleEndian) o.u32(spec.tsoffset).u32(0);
    else o.u32(0).u32(spec.tsoffset);
    options.push({ code: 14, value: o.done() });
  }
  return pcapngBlock(littleEndian, 1, (w) => w.u16(spec.linkType).u16(0).u32(spec.snapLen ?? 0), options);
}

/** Enhanced Packet Block; the timestamp is given as its raw 64-bit unit count (hi, lo). */
export function epb(littleEndian: boolean, iface: number, tsHi: number, tsLo: number, data: Uint8Array, origLen = data.length): Uint8Array {
  return pcapngBlock(
    littleEndian,
    6,
    (w) => w.u32(iface).u32(tsHi).u32(tsLo).u32(data.length).u32(origLen).bytes(data),
    [{ code: 1, value: new TextEncoder().encode('a comment') }],
  );
}

export function spb(littleEndian: boolean, data: Uint8Array, origLen = data.length): Uint8Array {
  return pcapngBlock(littleEndian, 3, (w) => w.u32(origLen).bytes(data));
}

/** Obsolete Packet Block (type 2). */
export function pb(littleEndian: boolean, iface: number, tsHi: number, tsLo: number, data: Uint8Array): Uint8Array {
  return pcapngBlock(littleEndian, 2, (w) => w.u16(iface).u16(0).u32(tsHi).u32(tsLo).u32(data.length).u32(data.length).bytes(data));
}

export interface NrbRecord {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  readonly address: readonly number[];
  readonly names: readonly string[];
}

export function nrb(littleEndian: boolean, records: readonly NrbRecord[]): Uint8Array {
  return pcapngBlock(littleEndian, 4, (w) => {
    for (const r of records) {
      const names = r.names.flatMap((n) => [...new TextEncoder().encode(n), 0]);
      w.u16(r.address.length === 4 ? 1 : 2).u16(r.address.length + names.length).bytes(r.address).bytes(names).pad4();
    }
    w.u16(0).u16(0);
  });
}
