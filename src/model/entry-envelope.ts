/**
 * What every entry has, whatever its protocol (the shared envelope of the Entry union in entry.ts):
 * Kubeshark's entry field names, so its users' KFL and jq keep working. Each protocol folder adds
 * its own `request`/`response` shape (src/remote-agent/dissect/<protocol>/entry.ts).
 */

export interface Protocol {
  /** Kubeshark's protocol name, the union tag: every HTTP variant is "http". */
  readonly name: string;
  readonly version: string;
  readonly abbr: string;
}

export interface Endpoint {
  ip: string;
  port: number;
  /**
   * Workload or host name when known, else "": from a cluster, the service's name when a service
   * covers the address, else the workload (Deployment) or pod name; from a capture file, its
   * name records.
   */
  name: string;
  namespace: string;
  /** From a cluster: the pod owning the address ("" when it is not a pod's). Absent otherwise. */
  pod?: string;
  /** From a cluster: the service whose address this is or whose endpoints include it, else "". */
  service?: string;
}

/** How a kept body is written when its bytes are not UTF-8. */
export type BodyEncoding = 'base64';

export type EntryErrorType = 'timeout' | 'connection' | 'dissection' | 'pair-not-found';

export interface EntryError {
  type: EntryErrorType;
  msg: string;
}

/**
 * `N`: the protocol name (union tag); `Req`/`Res`: the protocol's request and response shapes.
 * A one-sided record (a DNS answer whose query was not captured, a WebSocket message) has the side
 * it lacks as null.
 */
export interface EntryEnvelope<N extends string = string, Req = unknown, Res = unknown> {
  /** Deterministic: `<connection or flow index>-<pair index within it>`. */
  id: string;
  protocol: Protocol & { readonly name: N };
  /** The client. */
  src: Endpoint;
  /** The server. */
  dst: Endpoint;
  /** Request start, Unix milliseconds (integer). */
  timestamp: number;
  /** Request start, ISO 8601 with microseconds. */
  startTime: string;
  /** Response start minus request start, milliseconds (float); 0 when there is no response. */
  elapsedTime: number;
  requestSize: number;
  responseSize: number;
  /** True when the plaintext came through eBPF TLS capture. */
  tls: boolean;
  request: Req;
  response: Res | null;
  error: EntryError | null;
}
