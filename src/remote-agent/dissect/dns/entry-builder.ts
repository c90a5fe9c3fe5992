/** Turning a parsed query (and maybe its response messages) into a DnsEntry. */
import { isoFromMicros } from '../../../model/entry.ts';
import type { Endpoint, EntryError } from '../../../model/entry-envelope.ts';
import type { SocketAddress } from '../../tcp/stream.ts';
import { opcodeName } from './codes.ts';
import { rcodeMnemonic, rcodeText, type DnsEntry, type DnsRequest, type DnsResponse } from './entry.ts';
import type { DnsMessage } from './message-parser.ts';

export type DnsTransport = 'udp' | 'tcp';

export interface DnsEntryParts {
  readonly id: string;
  readonly transport: DnsTransport;
  readonly client: SocketAddress;
  readonly server: SocketAddress;
  readonly query: DnsMessage;
  readonly queryUs: number;
  /** The response's messages in order (several for a zone transfer), empty when unanswered. */
  readonly responses: readonly DnsMessage[];
  readonly responseUs: number;
  readonly error: EntryError | null;
}

export function buildDnsEntry(p: DnsEntryParts): DnsEntry {
  const answered = p.responses.length > 0;
  return {
    id: p.id,
    protocol: { name: 'dns', version: p.transport, abbr: 'DNS' },
    src: endpoint(p.client),
    dst: endpoint(p.server),
    timestamp: Math.floor(p.queryUs / 1000),
    startTime: isoFromMicros(p.queryUs),
    elapsedTime: answered ? Math.max(0, (p.responseUs - p.queryUs) / 1000) : 0,
    requestSize: p.query.size,
    responseSize: p.responses.reduce((sum, m) => sum + m.size, 0),
    tls: false,
    request: buildRequest(p.query),
    response: answered ? buildResponse(p.responses) : null,
    error: p.error ?? problemOf(p.query, 'query') ?? firstProblem(p.responses),
  };
}

function buildRequest(m: DnsMessage): DnsRequest {
  return {
    id: m.id,
    opCode: opcodeName(m.opcode),
    flags: m.flags,
    questions: m.questions,
    answers: m.answers,
    authorities: m.authorities,
    additionals: m.additionals,
  };
}

function buildResponse(messages: readonly DnsMessage[]): DnsResponse {
  const first = messages[0]!;
  // A zone transfer ends with the rcode of its last message (an error stops it there).
  const rcode = messages[messages.length - 1]!.rcode;
  return {
    id: first.id,
    code: rcodeText(rcode),
    rcode,
    rcodeName: rcodeMnemonic(rcode),
    flags: first.flags,
    questions: first.questions,
    answers: messages.length === 1 ? first.answers : messages.flatMap((m) => m.answers),
    authorities: messages.length === 1 ? first.authorities : messages.flatMap((m) => m.authorities),
    additionals: messages.length === 1 ? first.additionals : messages.flatMap((m) => m.additionals),
    messages: messages.length,
  };
}

function problemOf(m: DnsMessage, side: string): EntryError | null {
  return m.problem === undefined ? null : { type: 'dissection', msg: `malformed ${side}: ${m.problem}` };
}

function firstProblem(messages: readonly DnsMessage[]): EntryError | null {
  for (const m of messages) {
    const e = problemOf(m, 'response');
    if (e !== null) return e;
  }
  return null;
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}
