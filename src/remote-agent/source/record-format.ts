/**
 * What the streaming engine (capture-file.ts) needs from a capture format: both pcap and pcapng
 * are sequences of length-prefixed records, so one engine handles buffering across chunks and a
 * format only answers "how long is the record starting here" and "handle this whole record".
 */
export interface RecordFormat {
  /** Bytes that must be available before `recordLength` can answer (may change after a record). */
  readonly headerBytes: number;
  /** True once the file header (pcap) or first section header (pcapng) was read. */
  readonly started: boolean;
  /**
   * Total length of the record at `b[off]`, given `headerBytes` bytes there. Throws a SharkError
   * (CAPTURE_BAD_BLOCK) when the length is impossible: the file cannot be followed any further.
   */
  recordLength(b: Uint8Array, off: number): number;
  /** Handles the complete record `b[off, off + len)`; views into `b` are valid only during the call. */
  record(b: Uint8Array, off: number, len: number): void;
}

/** Largest captured length accepted for one packet: past it the length field is garbage. */
export const MAX_CAPTURED_LENGTH = 256 * 1024;
