/**
 * A WebSocket entry (RFC 6455): one message, after an HTTP/1 Upgrade, linked to the upgrade entry.
 *
 * Why one message per entry, with `request` for a client-to-server message and `response` for a
 * server-to-client one (the other side null): WebSocket has no request/response pairing, and
 * Kubeshark's KFL2 variables say it models messages this way (`ws_request`, `ws_response`,
 * `ws_request_payload_data`, `ws_request_payload_length`, `ws_response_payload_length`,
 * `ws_opcode`), so its users' filters keep working. Control frames (ping, pong, close) are messages
 * of their own, in the order they came, even when they arrive between the fragments of a message.
 * docs/entries.md documents the shape.
 *
 * Imports only src/model (descriptor.ts, KFL and the TUI load it without the parsers).
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

/** `protocol.name` of every WebSocket entry, and its union tag. */
export const WEBSOCKET_PROTOCOL_NAME = 'websocket';

/** Kubeshark's `ws_opcode` values (RFC 6455 §5.2 opcodes 1, 2, 8, 9, 10). */
export type WebSocketOpcode = 'text' | 'binary' | 'close' | 'ping' | 'pong';

/** The message's application data, as the receiver's application gets it (de-masked, inflated). */
export interface WebSocketPayload {
  /** Bytes of application data, whole (after permessage-deflate), even when `text` is cut. */
  size: number;
  /** "text/plain; charset=utf-8" for text messages, "application/octet-stream" otherwise. */
  mimeType: string;
  /** Kept up to `--max-body` bytes: UTF-8, or base64 when `encoding` says so. */
  text: string;
  encoding?: 'base64';
  /** Present and true when only part of the payload is in `text`. */
  truncated?: boolean;
}

export interface WebSocketMessage {
  opcode: WebSocketOpcode;
  /** Frames the message came in: 1, or more for a fragmented message (RFC 6455 §5.4). */
  frames: number;
  /** Payload bytes on the wire, all frames together: the compressed size when `compressed`. */
  payloadLength: number;
  /** Sent with permessage-deflate (RFC 7692, RSV1 on the first frame). */
  compressed: boolean;
  /** Its frames were masked (every client frame must be, no server frame may be). */
  masked: boolean;
  payload: WebSocketPayload;
  /** Close frames only: the status code (RFC 6455 §7.4), 0 when the frame has none. */
  closeCode?: number;
  /** Close frames only: the reason text, possibly "". */
  closeReason?: string;
}

/**
 * `request`: a message the client sent; `response`: one the server sent. `upgradeId` is the id of
 * the HTTP/1 entry whose `101 Switching Protocols` started the WebSocket connection. The entry id
 * continues that connection's numbering (`<connection>-<n>`), so ids stay unique and in order.
 * `elapsedTime` is 0; `requestSize`/`responseSize` count the message's frames (headers and
 * payloads) on its own side.
 */
export interface WebSocketEntry extends EntryEnvelope<typeof WEBSOCKET_PROTOCOL_NAME, WebSocketMessage | null, WebSocketMessage> {
  upgradeId: string;
}

export const WEBSOCKET_PROTOCOL = Object.freeze({ name: WEBSOCKET_PROTOCOL_NAME, version: '13', abbr: 'WS' } as const);

/** A WebSocket entry among entries of every protocol. */
export function isWebSocketEntry(entry: EntryEnvelope): entry is WebSocketEntry {
  return entry.protocol.name === WEBSOCKET_PROTOCOL_NAME;
}

/** The message an entry carries, whichever side sent it (null only in a malformed entry read back). */
export function messageOf(entry: WebSocketEntry): WebSocketMessage | null {
  return entry.request ?? entry.response ?? null;
}
