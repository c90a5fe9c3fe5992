/**
 * Present stage: what DNS tells everyone outside its folder (src/model/protocol-descriptor.ts): the
 * list row (`Query  api.shop.test A  NXDOMAIN`), the detail tables, the dedup key, the service-map
 * label, the KFL word `dns` and Kubeshark's KFL2 `dns_*` variables, and its redaction (none).
 * Imports only src/model and its own entry.ts.
 */
import { formatBytes } from '../../../model/byte-units.ts';
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, OutcomeClass, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import type { DnsEntry, DnsFlags, DnsQuestion, DnsRecord } from './entry.ts';

/** Characters of a question kept in a dedup key (names may be long; the key stays small). */
const DEDUP_NAME_CHARS = 255;
/** Text data of one record shown in a detail row before it is cut. */
const DETAIL_DATA_CHARS = 512;

function isDns(entry: unknown): entry is DnsEntry {
  const protocol = (entry as { protocol?: { name?: unknown } } | null)?.protocol;
  return protocol?.name === 'dns';
}

function questionText(q: DnsQuestion | undefined): string {
  return q === undefined ? '(no question)' : `${q.name} ${q.type}`;
}

/** The data of a record as dig writes it after the type (`10.1.2.3`, `10 mail.x.test.`-like). */
export function recordData(r: DnsRecord): string {
  if (r.ip !== undefined) return r.ip;
  if (r.cname !== undefined) return r.cname;
  if (r.ns !== undefined) return r.ns;
  if (r.ptr !== undefined) return r.ptr;
  if (r.mx !== undefined) return `${r.mx.preference} ${r.mx.name}`;
  if (r.txts !== undefined) return r.txts.map((t) => `"${t.replace(/"/g, '\\"')}"`).join(' ');
  if (r.soa !== undefined) {
    const s = r.soa;
    return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
  }
  if (r.srv !== undefined) return `${r.srv.priority} ${r.srv.weight} ${r.srv.port} ${r.srv.name}`;
  if (r.uri !== undefined) return `${r.uri.priority} ${r.uri.weight} "${r.uri.target}"`;
  if (r.caa !== undefined) return `${r.caa.flags} ${r.caa.tag} "${r.caa.value}"`;
  if (r.svcb !== undefined) return [String(r.svcb.priority), r.svcb.target, ...r.svcb.params.map((p) => `${p.key}=0x${p.value}`)].join(' ');
  if (r.opt !== undefined) {
    const o = r.opt;
    const options = o.options.map((x) => `${x.name}=0x${x.data}`);
    return [`udp ${o.udpPayloadSize}`, `version ${o.version}`, ...(o.dnssecOk ? ['do'] : []), ...options].join(', ');
  }
  if (r.rdata !== undefined) return `\\# ${r.rdLength ?? r.rdata.length / 2} ${r.rdata}`;
  return '';
}

function flagsText(f: DnsFlags): string {
  const on: string[] = [];
  if (f.authoritative) on.push('aa');
  if (f.truncated) on.push('tc');
  if (f.recursionDesired) on.push('rd');
  if (f.recursionAvailable) on.push('ra');
  if (f.authenticData) on.push('ad');
  if (f.checkingDisabled) on.push('cd');
  return on.length === 0 ? '(none)' : on.join(' ');
}

function outcomeClassOf(entry: DnsEntry): OutcomeClass {
  const res = entry.response;
  if (res === null) return 'none';
  if (res.rcode === 0) return 'success';
  // SERVFAIL and the like are the server's failure; NXDOMAIN, REFUSED, FORMERR answer the question.
  return res.rcode === 2 ? 'server-error' : 'client-error';
}

function summarize(entry: DnsEntry): RowSummary {
  const res = entry.response;
  const qs = entry.request.questions;
  const more = qs.length > 1 ? ` +${qs.length - 1}` : '';
  const outcome = res === null ? '' : `${res.rcodeName}${res.flags.truncated ? ' (truncated)' : ''}`;
  const first = qs[0];
  return {
    verb: entry.request.opCode,
    target: `${questionText(first)}${more}`,
    outcome,
    outcomeClass: outcomeClassOf(entry),
    // What a DNS user calls a failed lookup: no answer came, or it came with an error code.
    isError: res === null || res.rcode !== 0,
    verbQuery: `dns and request.opCode == ${kflString(entry.request.opCode)}`,
    ...(first === undefined
      ? {}
      : { targetQuery: `dns and request.questions[0].name == ${kflString(first.name)} and request.questions[0].type == ${kflString(first.type)}` }),
    ...(res === null ? {} : { outcomeQuery: `dns and response.code == ${kflString(res.code)}` }),
  };
}

function recordRows(records: readonly DnsRecord[], path: string): DetailRow[] {
  return records.map((r, i) => {
    let data = recordData(r);
    if (data.length > DETAIL_DATA_CHARS) data = `${data.slice(0, DETAIL_DATA_CHARS)}…`;
    return { label: r.name, value: `${r.ttl} ${r.class} ${r.type} ${data}`.trimEnd(), selector: `${path}[${i}].name` };
  });
}

function represent(entry: DnsEntry): readonly DetailSection[] {
  const req = entry.request;
  const res = entry.response;
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Query', text: `${req.opCode} ${req.questions.map(questionText).join(', ')}`.trimEnd() },
    {
      kind: 'table',
      title: 'Header',
      rows: [
        { label: 'Transport', value: entry.protocol.version.toUpperCase() },
        { label: 'Id', value: `${req.id} (0x${req.id.toString(16).padStart(4, '0')})`, selector: 'request.id' },
        { label: 'Flags', value: flagsText(req.flags) },
      ],
    },
    { kind: 'table', title: 'Questions', rows: req.questions.map((q, i) => ({ label: q.name, value: `${q.class} ${q.type}`, selector: `request.questions[${i}].name` })) },
    { kind: 'table', title: 'Records', rows: recordRows([...req.answers, ...req.authorities], 'request.answers') },
    { kind: 'table', title: 'Additionals', rows: recordRows(req.additionals, 'request.additionals') },
  ];
  if (res === null) {
    sections.push({ kind: 'heading', title: 'Response', text: 'no response', outcomeClass: 'server-error', absent: true });
    return sections;
  }
  sections.push(
    { kind: 'heading', title: 'Response', text: `${res.rcodeName} (${res.code})${res.flags.truncated ? ', truncated' : ''}`, outcomeClass: outcomeClassOf(entry) },
    {
      kind: 'table',
      title: 'Header',
      rows: [
        { label: 'Code', value: `${res.rcode} ${res.rcodeName}`, selector: 'response.code' },
        { label: 'Flags', value: flagsText(res.flags) },
        ...(res.messages > 1 ? [{ label: 'Messages', value: `${res.messages} (zone transfer)` }] : []),
      ],
    },
    { kind: 'table', title: 'Answers', rows: recordRows(res.answers, 'response.answers') },
    { kind: 'table', title: 'Authorities', rows: recordRows(res.authorities, 'response.authorities') },
    { kind: 'table', title: 'Additionals', rows: recordRows(res.additionals, 'response.additionals') },
  );
  return sections;
}

function dedupKey(entry: DnsEntry): string {
  const q = entry.request.questions[0];
  const question = q === undefined ? '' : `${q.name.toLowerCase().slice(0, DEDUP_NAME_CHARS)} ${q.type} ${q.class}`;
  return `${entry.request.id}|${question}`;
}

/** The fields of DNS entries, for KFL's "did you mean" (docs/entries.md lists them). */
const RECORD_FIELDS = ['name', 'type', 'class', 'ttl', 'ip', 'cname', 'ns', 'ptr', 'mx', 'txts', 'soa', 'srv', 'uri', 'caa', 'svcb', 'opt', 'rdata', 'rdLength'];
const PATHS: readonly string[] = [
  'request.id', 'request.opCode', 'request.flags', 'request.questions', 'request.questions.name', 'request.questions.type',
  'request.questions.class', 'request.answers', 'request.authorities', 'request.additionals',
  'response.id', 'response.code', 'response.rcode', 'response.rcodeName', 'response.flags', 'response.questions',
  'response.messages', 'response.answers', 'response.authorities', 'response.additionals',
  ...['authoritative', 'truncated', 'recursionDesired', 'recursionAvailable', 'authenticData', 'checkingDisabled'].flatMap((f) => [`request.flags.${f}`, `response.flags.${f}`]),
  ...['answers', 'authorities', 'additionals'].flatMap((s) => RECORD_FIELDS.map((f) => `response.${s}.${f}`)),
];

/**
 * KFL2 variables Kubeshark documents for DNS. On other entries they are null, like any path that
 * is not there (`status_code` on a DNS entry): `dns_questions == nil` holds for HTTP.
 */
const dnsOnly = (read: (e: DnsEntry) => unknown) => (e: unknown): unknown => (isDns(e) ? read(e) : null);
const VARIABLES: readonly KflVariable[] = Object.freeze([
  { name: 'dns_questions', kind: 'computed', get: dnsOnly((e) => e.request.questions.map((q) => q.name)) },
  { name: 'dns_answers', kind: 'computed', get: dnsOnly((e) => e.response?.answers.map(recordData) ?? []) },
  { name: 'dns_question_types', kind: 'computed', get: dnsOnly((e) => e.request.questions.map((q) => q.type)) },
  { name: 'dns_request', kind: 'computed', get: dnsOnly(() => true) },
  { name: 'dns_response', kind: 'computed', get: dnsOnly((e) => e.response !== null) },
  { name: 'dns_request_length', kind: 'computed', get: dnsOnly((e) => e.requestSize) },
  { name: 'dns_response_length', kind: 'computed', get: dnsOnly((e) => e.responseSize) },
  { name: 'dns_total_size', kind: 'computed', get: dnsOnly((e) => e.requestSize + e.responseSize) },
] satisfies KflVariable[]);

export const dnsDescriptor: ProtocolDescriptor<DnsEntry> = Object.freeze({
  name: 'dns',
  abbr: 'DNS',
  longName: 'Domain Name System',
  defaultPorts: Object.freeze([53, 5353, 5355]),
  referenceUrl: 'https://www.rfc-editor.org/rfc/rfc1035',
  summarize,
  represent,
  dedupKey,
  edgeLabel: () => 'DNS',
  kfl: Object.freeze({
    words: Object.freeze([{ word: 'dns', matches: (p: { readonly name: unknown }) => p.name === 'dns' }]),
    variables: VARIABLES,
    paths: Object.freeze(PATHS),
  }),
  /**
   * Nothing to redact by default: names, addresses and record data are what DNS publishes to
   * anyone who asks (TXT verification tokens and DKIM keys are public by design), and they are
   * what a user of this tool looks for; a TSIG record carries a MAC, not its key. The entry is
   * returned as it is (the contract allows the same object).
   */
  redact: (entry: DnsEntry): DnsEntry => entry,
});
