/** Transport-layer units decoded from a frame, handed to TCP reassembly and the UDP flow table. */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface TcpSegment {
  readonly tsUs: number;
  /** Printable addresses ("10.0.0.1", "fe80::1"). */
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Unsigned 32-bit sequence number. */
  readonly seq: number;
  readonly ack: number;
  /** TCP flag bits (TCP_FIN ...). */
  readonly flags: number;
  /** Payload bytes; may be a view into a reused buffer: copy what you keep. */
  readonly payload: Uint8Array;
}

export interface UdpDatagram {
  readonly tsUs: number;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** Receives decoded transport units. */
export interface TransportSink {
  tcp(segment: TcpSegment): void;
  udp(datagram: UdpDatagram): void;
}
