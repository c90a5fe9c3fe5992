/** HTTP/1.0 and HTTP/1.1 (RFC 9112) dissector: detection by content, one parser per direction. */
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import type { ConnectionInfo } from '../../tcp/stream.ts';
import { Http1Connection } from './connection.ts';
import { sniffHttp1 } from './start-line.ts';

export const http1Dissector: Dissector = Object.freeze({
  id: 'http1',
  protocol: 'http',
  ports: Object.freeze([80, 8080, 8000, 3000, 5000, 8888]),
  // HTTP/1 starts with a request line one way and a status line the other: either direction decides.
  sniff: (prefix: Uint8Array) => sniffHttp1(prefix),
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new Http1Connection(conn, ctx),
});
