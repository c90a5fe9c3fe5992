/**
 * What HTTP/1 hands on with an upgrade (HandOff.opening): the upgrade request, for a protocol that
 * answers it after the switch. h2c does (RFC 7540 §3.2: the request becomes HTTP/2 stream 1, its
 * response comes as HTTP/2), so the request and that response are one entry, built by the taker,
 * and the `101 Switching Protocols` exchange is not an entry of its own. WebSocket does not: it
 * ignores the opening and the 101 stays an HTTP entry.
 */
import type { HttpRequest } from './entry.ts';

export interface UpgradeOpening {
  readonly kind: 'http1-upgrade';
  /** The request's ordinal on the connection: its entry is `<connection>-<ordinal>`. */
  readonly ordinal: number;
  /** The request as an HTTP entry's request (HTTP/1.1, body and all). */
  readonly request: HttpRequest;
  /** Capture time of the request's first byte. */
  readonly startUs: number;
  /** Its bytes on the wire. */
  readonly requestSize: number;
  /** Its TCP sequence (EntryMeta.requestSeq). */
  readonly requestSeq: number | undefined;
  /** The taker answers the request itself: HTTP/1 then emits no entry for the upgrade exchange. */
  claim(): void;
}

export function isUpgradeOpening(x: unknown): x is UpgradeOpening {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'http1-upgrade';
}
