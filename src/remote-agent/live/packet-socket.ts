/**
 * An AF_PACKET socket with a TPACKET_V3 receive ring mapped into our memory (Documentation/
 * networking/packet_mmap.rst). The order of the set-up steps matters:
 *
 *  1. socket(AF_PACKET, SOCK_DGRAM, protocol 0): a packet socket with protocol 0 is hooked to no
 *     device, so nothing queues before the filter and the ring are in place;
 *  2. SO_ATTACH_FILTER, so only TCP/UDP over IP ever reaches the ring;
 *  3. PACKET_VERSION = TPACKET_V3 (refused once a ring exists), then PACKET_RX_RING;
 *  4. mmap the ring;
 *  5. bind to ETH_P_ALL on the interface (ifindex 0 = every interface): capture starts here.
 *
 * SOCK_DGRAM rather than SOCK_RAW: the kernel strips the link header, so frames from interfaces with
 * different link layers (lo, veth, tun, ipip...) all start at the IP header and one link type fits
 * them all when capturing on 'any'.
 */
import { SharkError } from '../../model/errors.ts';
import { listInterfaces } from './interfaces.ts';
import { loadLibc, MAP_FAILED, type Libc, type PollHandle } from './libc.ts';
import { BPF_K, BPF_RET, captureFilter, encodeFilter } from './socket-filter.ts';

const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_RX_RING = 5;
const PACKET_STATISTICS = 6;
const PACKET_VERSION = 10;
const TPACKET_V3 = 2;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

const EPERM = 1;
const EACCES = 13;
const ENODEV = 19;

/** tp_frame_size: TPACKET_V3 packs packets of any size into a block; the kernel only checks the arithmetic. */
const FRAME_SIZE = 2048;

export interface PacketSocketOptions {
  /** 'any' or an interface name. */
  readonly iface: string;
  readonly blockSize: number;
  readonly blockCount: number;
  readonly blockTimeoutMs: number;
}

export interface PacketStatistics {
  readonly packets: number;
  readonly drops: number;
  readonly freezes: number;
}

export class PacketSocket {
  readonly fd: number;
  /** The mapped ring; detached by close() so that stale views read as empty instead of faulting. */
  readonly ring: ArrayBuffer;
  readonly #libc: Libc;
  readonly #address: bigint;
  readonly #length: number;
  #poll: PollHandle | null = null;
  #closed = false;

  private constructor(libc: Libc, fd: number, address: bigint, length: number) {
    this.#libc = libc;
    this.fd = fd;
    this.#address = address;
    this.#length = length;
    this.ring = libc.view(address, length);
  }

  static open(options: PacketSocketOptions): PacketSocket {
    const libc = loadLibc();
    const ifindex = resolveInterface(libc, options.iface);
    const loopback = libc.ifNameToIndex('lo');
    const program = encodeFilter(captureFilter({ loopbackIfindex: loopback > 0 ? loopback : null }));

    const fd = libc.socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw syscallError(libc, 'socket(AF_PACKET)', options.iface);
    const length = options.blockSize * options.blockCount;
    let address: bigint | null = null;
    try {
      if (!attachFilter(libc, fd, program)) throw syscallError(libc, 'SO_ATTACH_FILTER', options.iface);

      if (libc.setsockopt(fd, SOL_PACKET, PACKET_VERSION, u32s(TPACKET_V3), 4) < 0) {
        throw syscallError(libc, 'PACKET_VERSION TPACKET_V3', options.iface);
      }
      const framesPerBlock = options.blockSize / FRAME_SIZE;
      // struct tpacket_req3: block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word.
      const req = u32s(options.blockSize, options.blockCount, FRAME_SIZE, framesPerBlock * options.blockCount, options.blockTimeoutMs, 0, 0);
      if (libc.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, req.length) < 0) {
        throw syscallError(libc, `PACKET_RX_RING (${options.blockCount} x ${options.blockSize} bytes)`, options.iface);
      }

      const mapped = libc.mmap(length, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
      if (mapped === MAP_FAILED || mapped === 0n) throw syscallError(libc, `mmap of the ${length}-byte ring`, options.iface);
      address = mapped;

      // struct sockaddr_ll: u16 family, be16 protocol, i32 ifindex, then hatype/pkttype/halen/addr (unused).
      const sll = new Uint8Array(20);
      const sllView = new DataView(sll.buffer);
      sllView.setUint16(0, AF_PACKET, true);
      sllView.setUint16(2, ETH_P_ALL, false);
      sllView.setInt32(4, ifindex, true);
      if (libc.bind(fd, sll, sll.length) < 0) throw syscallError(libc, 'bind', options.iface);

      return new PacketSocket(libc, fd, address, length);
    } catch (err) {
      if (address !== null) libc.munmap(address, length);
      libc.close(fd);
      throw err;
    }
  }

  /** Counts since the previous call (the kernel resets them on every read). */
  readStatistics(): PacketStatistics {
    if (this.#closed) return { packets: 0, drops: 0, freezes: 0 };
    const buf = new Uint8Array(12);
    const len: [number] = [buf.length];
    if (this.#libc.getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, buf, len) < 0) {
      throw syscallError(this.#libc, 'PACKET_STATISTICS', '');
    }
    const dv = new DataView(buf.buffer);
    // struct tpacket_stats_v3: tp_packets (includes the drops), tp_drops, tp_freeze_q_cnt.
    return { packets: dv.getUint32(0, true), drops: dv.getUint32(4, true), freezes: dv.getUint32(8, true) };
  }

  /**
   * From now on no packet reaches the ring (a filter that accepts nothing replaces the capture
   * filter); what is in the ring stays, and a block being filled is still handed over by the
   * retire timer. For the hand-over to a bigger ring (live-capture.ts). False when refused.
   */
  stopReceiving(): boolean {
    if (this.#closed) return true;
    return attachFilter(this.#libc, this.fd, encodeFilter(REJECT_ALL));
  }

  /** Calls `onReadable` from the event loop while the socket has a block for us. */
  startPolling(onReadable: () => void): void {
    if (this.#closed || this.#poll !== null) return;
    this.#poll = this.#libc.poll(this.fd, onReadable);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poll?.close();
    this.#poll = null;
    try {
      this.ring.transfer(0);
    } catch {
      /* not detachable: views stay, but nobody may use them after close anyway */
    }
    this.#libc.munmap(this.#address, this.#length);
    this.#libc.close(this.fd);
  }
}

/** Classic BPF `ret #0`: keep no byte of any packet. */
const REJECT_ALL = [{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 }];

/** SO_ATTACH_FILTER (replaces the socket's filter, if any); false when the kernel refused it. */
function attachFilter(libc: Libc, fd: number, program: Uint8Array): boolean {
  // struct sock_fprog: u16 len, 6 bytes padding, struct sock_filter *filter.
  const fprog = new Uint8Array(16);
  const fprogView = new DataView(fprog.buffer);
  fprogView.setUint16(0, program.length / 8, true);
  fprogView.setBigUint64(8, libc.address(program), true);
  return libc.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, fprog.length) >= 0;
}

function u32s(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const dv = new DataView(bytes.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v, true));
  return bytes;
}

/** 0 for 'any'; throws CAPTURE_NO_INTERFACE naming the interfaces that exist. */
function resolveInterface(libc: Libc, iface: string): number {
  if (iface === 'any') return 0;
  const index = iface === '' ? 0 : libc.ifNameToIndex(iface);
  if (index > 0) return index;
  throw noInterface(iface);
}

function noInterface(iface: string): SharkError {
  const available = listInterfaces();
  return new SharkError(
    'CAPTURE_NO_INTERFACE',
    `no network interface "${iface}" in this network namespace; there are: ${[...available, 'any'].join(', ')}`,
    { iface, available: available.join(',') },
  );
}

function syscallError(libc: Libc, step: string, iface: string): SharkError {
  const errno = libc.errno();
  const text = libc.strerror(errno);
  if (errno === EPERM || errno === EACCES) {
    return new SharkError(
      'CAPTURE_PERMISSION',
      `${step}: ${text}; capturing packets needs CAP_NET_RAW (run the agent as root or add the NET_RAW capability)`,
      { step, errno, iface },
    );
  }
  if (errno === ENODEV && iface !== '' && iface !== 'any') return noInterface(iface);
  return new SharkError('CAPTURE_SOCKET', `${step}${iface === '' ? '' : ` on ${iface}`}: ${text} (errno ${errno})`, { step, errno, iface });
}
