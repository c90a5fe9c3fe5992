#!/usr/bin/env python3
"""An impairing Ethernet bridge for the own-traffic tests (this kernel has no netem).

    impair-bridge.py IF_A IF_B [--seed N] [--loss P] [--reorder P] [--dup P] [--hold-ms MS]

Runs inside its own network namespace, between two veth ends. Every frame read on one interface
(AF_PACKET raw socket) is written to the other, except that each IPv4 TCP frame independently, with
a PRNG seeded per direction from --seed (so the decisions are reproducible):
  - is dropped with probability --loss,
  - is sent twice with probability --dup,
  - is held back with probability --reorder and sent after the next frame of the same direction
    (or after --hold-ms when no frame follows), so that frame overtakes it.
Other frames (ARP ...) pass untouched.

Offloads: the namespaces at both ends keep TSO/GSO and checksum offload on, like pods do, so the
frames that reach us can be larger than the MTU and carry only a partial TCP checksum. We read
them with a virtio-net header (PACKET_VNET_HDR), which tells the segment size and where the
checksum goes; we cut such frames into MTU-sized TCP segments ourselves and complete every
checksum, so the impairment applies per wire-sized segment and the far end receives valid frames.

Prints "ready" on stdout once listening; on SIGTERM/SIGINT prints one JSON line of counters on
stdout and exits.
"""
import argparse
import json
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4
VNET_HDR = struct.Struct("=BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
F_NEEDS_CSUM = 1
GSO_NONE = 0
GSO_TCPV4 = 1
GSO_ECN = 0x80
ETH_HLEN = 14
TCP_FIN = 0x01
TCP_PSH = 0x08
TCP_CWR = 0x80


def ones_sum(data):
    """One's complement sum of 16-bit words in native byte order (RFC 1071 is order-independent)."""
    if len(data) & 1:
        data = bytes(data) + b"\0"
    s = sum(memoryview(data).cast("H"))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def csum_bytes(data):
    """The Internet checksum of data, as the two bytes to store in the packet."""
    return struct.pack("=H", ~ones_sum(data) & 0xFFFF)


def ipv4_tcp_offsets(frame):
    """(ip_offset, ihl, tcp_offset, thl) when frame is Ethernet/IPv4/TCP, else None."""
    if len(frame) < ETH_HLEN + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = ETH_HLEN
    ihl = (frame[ip] & 0x0F) * 4
    if frame[ip] >> 4 != 4 or frame[ip + 9] != 6 or len(frame) < ip + ihl + 20:
        return None
    tcp = ip + ihl
    thl = (frame[tcp + 12] >> 4) * 4
    if len(frame) < tcp + thl:
        return None
    return ip, ihl, tcp, thl


def build_segment(frame, offs, payload, seq_delta, ip_id_delta, first, last):
    ip, ihl, tcp, thl = offs
    iph = bytearray(frame[ip : ip + ihl])
    tcph = bytearray(frame[tcp : tcp + thl])
    struct.pack_into("!H", iph, 2, ihl + thl + len(payload))
    ip_id = struct.unpack_from("!H", iph, 4)[0]
    struct.pack_into("!H", iph, 4, (ip_id + ip_id_delta) & 0xFFFF)
    iph[10:12] = b"\0\0"
    iph[10:12] = csum_bytes(iph)
    seq = struct.unpack_from("!I", tcph, 4)[0]
    struct.pack_into("!I", tcph, 4, (seq + seq_delta) & 0xFFFFFFFF)
    flags = tcph[13]
    if not last:
        flags &= ~(TCP_FIN | TCP_PSH)
    if not first:
        flags &= ~TCP_CWR
    tcph[13] = flags
    tcph[16:18] = b"\0\0"
    pseudo = iph[12:20] + struct.pack("!BBH", 0, 6, thl + len(payload))
    tcph[16:18] = csum_bytes(bytes(pseudo) + bytes(tcph) + bytes(payload))
    return bytes(frame[:ip]) + bytes(iph) + bytes(tcph) + bytes(payload)


def to_wire_frames(vnet, frame, stats):
    """Turns one received frame (maybe GSO, maybe partial checksum) into wire-ready frames."""
    flags, gso_type, _hdr_len, gso_size, csum_start, csum_offset = vnet
    kind = gso_type & ~GSO_ECN
    if kind == GSO_TCPV4 and gso_size > 0:
        offs = ipv4_tcp_offsets(frame)
        if offs is not None:
            stats["gso_frames"] += 1
            payload = memoryview(frame)[offs[2] + offs[3] :]
            out = []
            count = (len(payload) + gso_size - 1) // gso_size
            for i in range(count):
                chunk = payload[i * gso_size : (i + 1) * gso_size]
                out.append(build_segment(frame, offs, chunk, i * gso_size, i, i == 0, i == count - 1))
            stats["gso_segments"] += len(out)
            return out
    if kind != GSO_NONE:
        stats["gso_unsupported"] += 1
    if flags & F_NEEDS_CSUM:
        # The field holds the pseudo-header sum: the checksum over the rest completes it.
        stats["csum_completed"] += 1
        buf = bytearray(frame)
        at = csum_start + csum_offset
        buf[at : at + 2] = csum_bytes(buf[csum_start:])
        return [bytes(buf)]
    return [frame]


class Direction:
    def __init__(self, name, tx, rng, args, stats):
        self.name = name
        self.tx = tx
        self.rng = rng
        self.args = args
        self.stats = stats
        self.held = None
        self.held_until = 0.0

    def send(self, frame):
        try:
            self.tx.send(frame)
            self.stats["sent"] += 1
        except OSError as err:
            self.stats["send_errors"] += 1
            self.stats["last_send_error"] = "%s (%d bytes)" % (err, len(frame))

    def flush_held(self):
        if self.held is not None:
            held, self.held = self.held, None
            self.send(held)

    def forward(self, frame, impair):
        if not impair:
            self.send(frame)
            return
        a = self.args
        r = self.rng.random()
        if r < a.loss:
            self.stats["dropped"] += 1
        elif r < a.loss + a.dup:
            self.stats["duplicated"] += 1
            self.send(frame)
            self.send(frame)
            self.flush_held()
        elif r < a.loss + a.dup + a.reorder:
            self.flush_held()
            self.stats["reordered"] += 1
            self.held = frame
            self.held_until = time.monotonic() + a.hold_ms / 1000.0
        else:
            self.send(frame)
            self.flush_held()


def open_rx(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 * 1024 * 1024)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    return s


def open_tx(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: sends only
    s.bind((ifname, 0))
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("if_a")
    p.add_argument("if_b")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--loss", type=float, default=0.02)
    p.add_argument("--reorder", type=float, default=0.10)
    p.add_argument("--dup", type=float, default=0.01)
    p.add_argument("--hold-ms", type=float, default=3.0)
    args = p.parse_args()

    stats = {
        "received": 0, "sent": 0, "dropped": 0, "duplicated": 0, "reordered": 0,
        "gso_frames": 0, "gso_segments": 0, "gso_unsupported": 0, "csum_completed": 0,
        "send_errors": 0, "last_send_error": "",
    }
    rx_a, rx_b = open_rx(args.if_a), open_rx(args.if_b)
    tx_a, tx_b = open_tx(args.if_a), open_tx(args.if_b)
    # Frames read on A go out on B and the other way round; one PRNG per direction.
    dirs = {
        rx_a.fileno(): (rx_a, Direction("a->b", tx_b, random.Random(args.seed * 2 + 0), args, stats)),
        rx_b.fileno(): (rx_b, Direction("b->a", tx_a, random.Random(args.seed * 2 + 1), args, stats)),
    }

    def stop(_sig, _frame):
        for _, d in dirs.values():
            d.flush_held()
        sys.stdout.write(json.dumps(stats) + "\n")
        sys.stdout.flush()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    poller = select.poll()
    for fd in dirs:
        poller.register(fd, select.POLLIN)
    while True:
        now = time.monotonic()
        deadlines = [d.held_until for _, d in dirs.values() if d.held is not None]
        timeout_ms = max(0.0, (min(deadlines) - now) * 1000.0) if deadlines else 1000.0
        events = poller.poll(timeout_ms)
        for fd, _ev in events:
            rx, d = dirs[fd]
            for _ in range(64):
                try:
                    data, addr = rx.recvfrom(262144)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                stats["received"] += 1
                vnet = VNET_HDR.unpack_from(data, 0)
                frame = data[VNET_HDR.size :]
                impair = ipv4_tcp_offsets(frame) is not None
                for wire in to_wire_frames(vnet, frame, stats):
                    d.forward(wire, impair)
        now = time.monotonic()
        for _, d in dirs.values():
            if d.held is not None and now >= d.held_until:
                d.flush_held()


if __name__ == "__main__":
    main()
