/**
 * WebSocket (RFC 6455, with RFC 7692 permessage-deflate) dissector. It is never chosen by content:
 * a WebSocket connection starts as HTTP/1, and the HTTP/1 dissector hands it over after the
 * `101 Switching Protocols` (DissectContext.handOff), under the Upgrade token `websocket`.
 */
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream, HandOff, SniffResult } from '../dissector.ts';
import { WebSocketConnection } from './connection.ts';
import { WEBSOCKET_PROTOCOL_NAME } from './entry.ts';
import { WEBSOCKET_DISSECTOR_ID } from './frame-parser.ts';

export const websocketDissector: Dissector = Object.freeze({
  id: WEBSOCKET_DISSECTOR_ID,
  protocol: WEBSOCKET_PROTOCOL_NAME,
  ports: Object.freeze([]),
  // Frames have no signature of their own: a connection is WebSocket only by its upgrade.
  sniff: (): SniffResult => 'no',
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream =>
    // Opened without a hand-off (no upgrade seen): nothing negotiated, client taken to be side a.
    new WebSocketConnection(conn, ctx, { to: 'websocket', parentId: '', nextOrdinal: 0, clientDir: 0, offsets: [0, 0], params: {} }),
  handOffs: Object.freeze(['websocket']),
  takeOver: (conn: ConnectionInfo, ctx: DissectContext, handOff: HandOff): DissectorStream => new WebSocketConnection(conn, ctx, handOff),
});
