/**
 * What the TLS probes report, decoded from the BPF ring buffer (contract between the loader,
 * `probes/`, and the stream side, `plaintext-streams.ts`). One record per chunk of plaintext that
 * a hooked TLS library handed to (write) or got from (read) the application, plus the socket events
 * that tell which connection the plaintext belongs to. Everything here is already copied out of the
 * ring: a consumer may keep it.
 */

/** Which hook produced the event: OpenSSL (1.1.x, 3.x: SSL_write/SSL_read and their _ex) or Go crypto/tls. */
export type TlsLibrary = 'openssl' | 'go';

/** `write`: the hooked process encrypted these bytes and sent them; `read`: it received and decrypted them. */
export type TlsDirection = 'write' | 'read';

/** A TCP socket's addresses as the hooked process sees them (local = the hooked process's end). */
export interface TlsSocketTuple {
  readonly family: 4 | 6;
  readonly localIp: string;
  readonly localPort: number;
  readonly remoteIp: string;
  readonly remotePort: number;
}

/** What a data or skip record says about the call that moved the plaintext. */
interface TlsCallEventFields {
  /** Wall-clock microseconds (the kernel's monotonic stamp shifted by the agent's clock offset). */
  readonly tsUs: number;
  /** Process and thread ids in the agent's PID namespace (the tapped pod's, with --target). */
  readonly pid: number;
  readonly tid: number;
  readonly library: TlsLibrary;
  readonly direction: TlsDirection;
  /**
   * The library's connection object (OpenSSL `SSL *`, Go `*tls.Conn`): names the connection within
   * `pid` while it lives (an address can be reused after it is freed; a socket tuple disambiguates).
   */
  readonly connId: bigint;
  /** The socket's file descriptor when the hook could read it (Go), else -1. */
  readonly fd: number;
  /** The TCP socket the kernel saw this thread use during the call, when it saw one. */
  readonly tuple: TlsSocketTuple | null;
  /**
   * Bytes of this direction of this connection reported before this record (counted in the kernel
   * per connId), so a consumer sees exactly where a lost chunk leaves a hole.
   */
  readonly streamOffset: number;
}

export interface TlsDataEvent extends TlsCallEventFields {
  readonly kind: 'data';
  readonly bytes: Uint8Array;
}

/** Plaintext a call moved that no chunk carries (beyond the per-call cap): a hole of `lostBytes`. */
export interface TlsSkipEvent extends TlsCallEventFields {
  readonly kind: 'skip';
  readonly lostBytes: number;
}

/**
 * A TCP socket of an in-scope process was closed (the inet_sock_set_state tracepoint: bpf/README.md):
 * its plaintext stream is over. Key it by `tuple`: after a reset `pid` can name another process of the pod.
 */
export interface TlsCloseEvent {
  readonly kind: 'close';
  readonly tsUs: number;
  readonly pid: number;
  readonly tuple: TlsSocketTuple;
}

export type TlsEvent = TlsDataEvent | TlsSkipEvent | TlsCloseEvent;

/** Counters the probes keep (read from the kernel's per-CPU counters and the ring consumer). */
export interface TlsProbeCounters {
  /** Data/skip/close records taken from the ring. */
  events: number;
  /** Records the kernel could not put in the ring (ring full): their bytes are holes. */
  lostEvents: number;
  /** Plaintext bytes delivered in data records. */
  bytes: number;
}
