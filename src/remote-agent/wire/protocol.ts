/**
 * The agent's stdio wire protocol, version 1 (docs/agent-protocol.md). The agent writes one JSON
 * object per line on stdout and reads control lines on stdin. Kept in one module so the agent and
 * the CLI that consumes it (over `kubectl exec`) cannot drift apart.
 *
 * Compatibility rule: within a major `version`, frames only gain optional fields and new frame
 * types; readers ignore fields and types they do not know.
 */
import type { Entry } from '../../model/entry.ts';
import type { ProtocolTallies } from '../../model/protocol-tally.ts';
import type { TlsCounts } from '../../model/tls-counts.ts';
import type { UndissectedCounts } from '../../model/undissected.ts';

export const AGENT_PROTOCOL_VERSION = 1;

/**
 * What this agent can do; a consumer checks these instead of guessing from versions. Which
 * protocols it dissects is in the hello frame's `protocols` (`protocols` here says it is there).
 */
export const AGENT_CAPABILITIES: readonly string[] = Object.freeze([
  'protocols',
  'protocol-counts',
  'filter-pushdown',
  'redaction',
  'stats',
  'backpressure-drop',
  'undissected-counts',
  // --tls: TLS plaintext through eBPF (hello.tls says whether it runs; stats.tls counts it).
  'tls-plaintext',
]);

/**
 * What is wrong with an agent's hello for a reader of AGENT_PROTOCOL_VERSION, or null when nothing
 * is. Within a major version frames only gain optional fields (the rule above); another version (or
 * none: not our agent) may mean the same fields differently, so its frames are not to be read.
 * The agent's own words are quoted bounded: a hello comes from a pod.
 */
export function wireVersionMismatch(hello: HelloFrame): string | null {
  const version: unknown = (hello as { version?: unknown }).version;
  if (version === AGENT_PROTOCOL_VERSION) return null;
  const agentVersion: unknown = (hello as { agentVersion?: unknown }).agentVersion;
  const agent = typeof agentVersion === 'string' ? ` (agent ${JSON.stringify(agentVersion.slice(0, 40))})` : '';
  const theirs = typeof version === 'number' && Number.isSafeInteger(version) ? `wire protocol version ${version}` : 'no wire protocol version';
  return `the capture agent speaks ${theirs}${agent}; this kubectl-shark reads version ${AGENT_PROTOCOL_VERSION}`;
}

/** Control lines longer than this are rejected (a query is short; this bounds stdin memory). */
export const MAX_CONTROL_LINE_BYTES = 64 * 1024;

/**
 * The longest frame line a reader of an agent run with `--max-body maxBodyBytes` has to accept, so
 * it can bound its memory without losing entries: an entry's two bodies JSON-escaped (at most 6
 * bytes per byte, as `\u0001`), its two heads (at most 64 KiB each, the HTTP/1 dissector's limit,
 * repeated in the cookie and query maps) escaped alike, and 1 MiB for the rest; at least 16 MiB.
 */
export function maxFrameLineBytes(maxBodyBytes: number): number {
  return Math.max(16 * 1024 * 1024, 2 * 6 * maxBodyBytes + 2 * 2 * 6 * 64 * 1024 + 1024 * 1024);
}

export interface RedactionInfo {
  readonly enabled: boolean;
  /** Normalised sensitive names in effect (defaults plus --redact-keys); empty when disabled. */
  readonly keys: readonly string[];
}

export interface HelloFrame {
  readonly type: 'hello';
  readonly version: number;
  readonly agentVersion: string;
  readonly capabilities: readonly string[];
  /**
   * The protocols the agent dissects: the `protocol.name` of the entries it can send, one per
   * protocol descriptor of its dissectors (`["http"]`). Absent from agents before it (they
   * dissected HTTP/1 only and said so as the capability `http/1.x`).
   */
  readonly protocols?: readonly string[];
  /** Interface captured ("any", "eth0"), or "-" when reading a pcap from stdin. */
  readonly iface: string;
  readonly pid: number;
  readonly source: 'af_packet' | 'pcap';
  readonly redaction: RedactionInfo;
  /** The KFL filter in effect at start (null: every entry is sent). */
  readonly filter: string | null;
  readonly maxMemoryBytes: number;
  /** Wall clock of the agent at start, Unix ms (lets a consumer see clock skew between pods). */
  readonly startedAtMs: number;
  /**
   * The agent's /proc/self/oom_score_adj: 1000 makes it the kernel's first victim when the pod runs
   * out of memory (null: unreadable; absent from agents before it yielded to the app).
   */
  readonly oomScoreAdj?: number | null;
  /** The agent's nice value (19: the lowest CPU priority; null: unreadable). */
  readonly nice?: number | null;
  /**
   * With --tls: true when the TLS probes are loaded and attached to what the first scan found (TLS
   * plaintext entries will come), false when they could not be (a TLS_UNAVAILABLE warning says
   * why; packet capture goes on). Absent without --tls.
   */
  readonly tls?: boolean;
}

export interface EntryFrame {
  readonly type: 'entry';
  readonly entry: Entry;
  /**
   * Optional: the TCP sequence number (0 to 2^32-1) of the request's first byte, client to server.
   * Agents at both ends of a connection report the same number for the same call, however late
   * each joined the connection, so a consumer merging several agents keeps one copy. Not part of
   * the entry; readers that do not need it ignore it.
   */
  readonly requestSeq?: number;
}

/**
 * An entry frame as parseAgentLine read it: with the entry's JSON text as the agent wrote it
 * (checked to be exactly one JSON value, the one `entry` holds), when the line had the agent's own
 * layout. Never on the wire: it lets the CLI write the entry without serialising it again
 * (src/pipeline/entry-splice.ts).
 */
export interface ReadEntryFrame extends EntryFrame {
  readonly entryJson?: string;
}

/** Cumulative counters since the agent started. */
export interface StatsFrame {
  readonly type: 'stats';
  /** Frames that reached the agent (after the kernel socket filter). */
  readonly packets: number;
  readonly bytes: number;
  /** Frames the kernel dropped because the ring was full (PACKET_STATISTICS). */
  readonly kernelDrops: number;
  /** Entries dissected. */
  readonly entries: number;
  /** Entry frames written to stdout. */
  readonly sent: number;
  /** Entries that did not match the filter (or came after its limit()). */
  readonly filtered: number;
  /** Entries dropped because stdout could not keep up or memory was short. */
  readonly dropped: number;
  /** Frames or segments that could not be decoded. */
  readonly malformed: number;
  /** Bytes lost in TCP streams (holes, caps): entries near them may be missing or incomplete. */
  readonly gapBytes: number;
  /**
   * Traffic no dissector took, by a guess of its protocol: TCP connections, UDP datagrams and UDP
   * flows keyed by protocol id ("tls", "http2", "redis", "postgresql", "dns", "unknown"). Absent
   * from agents before it existed (no `undissected-counts` capability); read it with
   * undissectedFrom(), which drops what does not look right.
   */
  readonly undissected?: UndissectedCounts;
  /**
   * Exceptions that were bugs in the agent, not bad input (each dropped one connection; the first of
   * each kind also came as an INTERNAL_ERROR warning). Absent from agents before it.
   */
  readonly internalErrors?: number;
  /**
   * By `protocol.name`: entries dissected and protocol violations (malformed messages, connections
   * given up). Absent from agents before it (no `protocol-counts` capability); read it with
   * talliesFrom(), which drops what does not look right.
   */
  readonly protocols?: ProtocolTallies;
  /**
   * TLS plaintext capture (--tls, when the probes run): probe records, their plaintext bytes, records
   * the kernel lost (ring full), connections shown, records dropped for want of their connection
   * and records of a connection's second hooked end. Absent otherwise; read it with tlsCountsFrom().
   */
  readonly tls?: TlsCounts;
  /** Times the reassembly state was thrown away because memory ran short. */
  readonly memoryResets: number;
  readonly rssBytes: number;
  /** Of which the JavaScript heap in use (the rest: the ring, buffers, garbage not yet returned). */
  readonly heapUsedBytes: number;
  /** Bytes written to stdout but not yet taken by the reader. */
  readonly queuedBytes: number;
  readonly uptimeMs: number;
  /** Present and true on the last stats frame, written just before the agent exits. */
  readonly final?: boolean;
}

export type NoticeCode =
  | 'REDACTION_OFF'
  | 'FILTER_INVALID'
  | 'FILTER_WARNING'
  | 'CONTROL_INVALID'
  | 'BACKPRESSURE'
  | 'MEMORY_PRESSURE'
  | 'HEAP_LIMITS'
  | 'OOM_SCORE'
  | 'CPU_PRIORITY'
  | 'KERNEL_DROPS'
  | 'CAPTURE_PERMISSION'
  | 'CAPTURE_NO_INTERFACE'
  | 'CAPTURE_SOCKET'
  | 'FFI_UNAVAILABLE'
  | 'CAPTURE_INPUT'
  | 'USAGE'
  | 'INTERNAL'
  /** A bug met while dissecting (the capture goes on): one per distinct throw site, with its stack. */
  | 'INTERNAL_ERROR'
  /** --tls, per process in scope: its TLS library is probed ("pid 12 (curl): libssl.so.3 (OpenSSL 3.0.22): ..."). */
  | 'TLS_HOOKED'
  /** --tls, per process in scope: why its TLS is not probed (no libssl, a stripped Go binary, the kernel refused). */
  | 'TLS_NOT_HOOKED'
  /** --tls: the probes cannot run here (why, and what to do); packet capture goes on without TLS plaintext. */
  | 'TLS_UNAVAILABLE'
  /** --tls: the kernel lost probe records (ring full): holes in TLS streams; repeated at most every 5 s. */
  | 'TLS_LOST';

/** `warning`: the agent goes on. `error`: the agent stops after writing it (exit code 1 or 2). */
export interface NoticeFrame {
  readonly type: 'warning' | 'error';
  readonly code: NoticeCode;
  readonly message: string;
  /** For FILTER_INVALID: 1-based column of the problem in the query. */
  readonly column?: number;
}

/** Acknowledges a filter control frame: from the next entry on, only matches are sent. */
export interface FilterAppliedFrame {
  readonly type: 'filter';
  /** The query now in effect ("" = no filter). */
  readonly query: string;
}

/** Written once, last, when the agent exits on its own terms. */
export interface ByeFrame {
  readonly type: 'bye';
  readonly reason: StopReason;
}

export type StopReason = 'stdin-eof' | 'stop' | 'signal' | 'idle' | 'reader-gone' | 'end-of-input' | 'error';

export type AgentFrame = HelloFrame | EntryFrame | StatsFrame | NoticeFrame | FilterAppliedFrame | ByeFrame;

/**
 * Every frame type an agent writes, once: typed as a record over AgentFrame's types so the
 * compiler names one added to the union and not here. Readers (parseAgentLine, NDJSON input to
 * `read`) accept exactly these; docs/agent-protocol.md documents each (protocol.test.ts).
 */
const FRAME_TYPE_SET: Readonly<Record<AgentFrame['type'], true>> = { hello: true, entry: true, stats: true, warning: true, error: true, filter: true, bye: true };
export const AGENT_FRAME_TYPES: ReadonlySet<string> = new Set(Object.keys(FRAME_TYPE_SET));

export interface FilterControl {
  readonly type: 'filter';
  /** KFL; "" removes the filter. */
  readonly query: string;
}

export interface StopControl {
  readonly type: 'stop';
}

export type ControlFrame = FilterControl | StopControl;

export type ParsedControl = { readonly ok: true; readonly frame: ControlFrame } | { readonly ok: false; readonly message: string };

/** Parses one stdin line. Never throws: a bad line is a value the agent reports as a warning. */
export function parseControlLine(line: string): ParsedControl {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, message: `control line is not JSON: ${preview(line)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `control line is not a JSON object: ${preview(line)}` };
  }
  const type = (value as { type?: unknown }).type;
  if (type === 'stop') return { ok: true, frame: { type: 'stop' } };
  if (type === 'filter') {
    const query = (value as { query?: unknown }).query;
    if (typeof query !== 'string') return { ok: false, message: 'filter control frame needs a string "query" ("" removes the filter)' };
    return { ok: true, frame: { type: 'filter', query } };
  }
  return { ok: false, message: `unknown control frame type ${JSON.stringify(type)} (known: "filter", "stop")` };
}

/**
 * Parses one stdout line of an agent, for consumers. Returns null for a line that is not a frame
 * of a known type (a consumer reports it and goes on); fields are not deep-validated.
 */
export function parseAgentLine(line: string): AgentFrame | null {
  if (line.startsWith(ENTRY_LINE_START)) {
    const frame = parseEntryLine(line);
    if (frame !== null) return frame;
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !AGENT_FRAME_TYPES.has(type)) return null;
  if (type === 'entry' && typeof (value as { entry?: unknown }).entry !== 'object') return null;
  return value as AgentFrame;
}

/** How FrameWriter starts an entry frame: `{"type":"entry","entry":<entry>[,"requestSeq":<n>]}`. */
const ENTRY_LINE_START = '{"type":"entry","entry":';
const REQUEST_SEQ_TAIL = /,"requestSeq":(0|[1-9][0-9]{0,9})\}$/;

/**
 * An entry frame in the agent's own layout, its entry parsed from its own text (so that text is one
 * JSON value: what follows it is the frame's end); null for any other line (read the general way).
 */
function parseEntryLine(line: string): ReadEntryFrame | null {
  const tail = line.endsWith('}') ? REQUEST_SEQ_TAIL.exec(line.slice(-30)) : null;
  const end = tail === null ? line.length - 1 : line.length - tail[0].length;
  if (end <= ENTRY_LINE_START.length || line[end - 1] !== '}' || (tail === null && !line.endsWith('}'))) return null;
  const entryJson = line.slice(ENTRY_LINE_START.length, end);
  let entry: unknown;
  try {
    entry = JSON.parse(entryJson);
  } catch {
    return null;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  const frame = { type: 'entry', entry: entry as Entry, entryJson } as const;
  return tail === null ? frame : { ...frame, requestSeq: Number(tail[1]) };
}

function preview(line: string): string {
  const cut = line.length > 80 ? `${line.slice(0, 80)}...` : line;
  return JSON.stringify(cut);
}
