/** Turning a request unit and its answer into a PostgresqlEntry. */
import { isoFromMicros } from '../../../model/entry.ts';
import type { Endpoint, EntryError } from '../../../model/entry-envelope.ts';
import type { SocketAddress } from '../../tcp/stream.ts';
import type { ResponseBuilder } from './backend-messages.ts';
import { POSTGRESQL_PROTOCOL_NAME, type PostgresqlEntry } from './entry.ts';
import type { RequestUnit } from './request-unit.ts';

/**
 * What came back for a unit: its response up to ReadyForQuery, a response broken off (the
 * connection closed or lost its framing first), or nothing by design (Terminate, CancelRequest).
 */
export type Answer =
  | { readonly kind: 'response'; readonly response: ResponseBuilder }
  | { readonly kind: 'partial'; readonly response: ResponseBuilder }
  | { readonly kind: 'none' };

export interface PostgresqlEntryParts {
  readonly id: string;
  readonly client: SocketAddress;
  readonly server: SocketAddress;
  readonly unit: RequestUnit;
  readonly who: { readonly database: string; readonly user: string };
  readonly answer: Answer | null;
  /** Why no answer came (timeout, cap, close); null when one did or none was expected. */
  readonly missing: EntryError | null;
}

export function buildPostgresqlEntry(p: PostgresqlEntryParts): PostgresqlEntry {
  const unit = p.unit;
  const res = p.answer !== null && p.answer.kind !== 'none' ? p.answer.response : null;
  const response = res?.finish() ?? null;
  let error = p.missing;
  if (p.answer?.kind === 'partial' && response !== null && response.error === null && response.encryptionAnswer === undefined) {
    error = { type: 'connection', msg: 'the response ended before ReadyForQuery' };
  }
  if (error === null && unit.damaged) error = { type: 'dissection', msg: 'part of the response was lost or could not be read' };
  return {
    id: p.id,
    protocol: { name: POSTGRESQL_PROTOCOL_NAME, version: '3.0', abbr: 'PGSQL' },
    src: endpoint(p.client),
    dst: endpoint(p.server),
    timestamp: Math.floor(unit.startUs / 1000),
    startTime: isoFromMicros(unit.startUs),
    elapsedTime: res === null ? 0 : Math.max(0, (res.startUs - unit.startUs) / 1000),
    requestSize: unit.bytes,
    responseSize: res?.bytes ?? 0,
    tls: false,
    request: unit.build(p.who),
    response,
    error,
  };
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}
