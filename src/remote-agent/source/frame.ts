/**
 * What a packet source (capture file, AF_PACKET ring) hands to the link layer.
 * `data` may be a view into a buffer that is reused after the callback returns: copy what you keep.
 */
export interface Frame {
  /** Capture time, microseconds since the Unix epoch. */
  readonly tsUs: number;
  /** LINKTYPE_* value (tcpdump.org/linktypes.html) of the interface the frame came from. */
  readonly linkType: number;
  readonly data: Uint8Array;
  /** Length on the wire; `data.length` is smaller when the snaplen cut the frame. */
  readonly origLen: number;
}

/** A name resolution record from pcapng NRB blocks (IPv4 or IPv6 address -> names). */
export interface NameRecord {
  readonly ip: string;
  readonly names: readonly string[];
}

/** Receives what a capture source reads. Sources call these synchronously while parsing. */
export interface CaptureSink {
  frame(frame: Frame): void;
  names(record: NameRecord): void;
}
