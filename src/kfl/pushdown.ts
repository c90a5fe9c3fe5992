/**
 * Whether a --filter may also run inside the agents (filter push-down, to spare the exec channel).
 * Agents see entries before the CLI names them from the cluster and makes their ids unique, each
 * agent would count a limit() on its own, and a pod's clock and time zone are not the CLI's. So a
 * query may run there only if everything it reads is known, unchanged, to the agent.
 *
 * The check is on the syntax tree, by whitelist: the fields, KFL2 variables and functions listed
 * here are agent-side; anything else (a new field, a future variable) is CLI-only until added.
 * A wrong "no" only costs bandwidth; a wrong "yes" would drop entries the user asked for.
 */
import type { CallNode, Node } from './ast.ts';
import { ALIASES, MAX_ALIAS_SEGMENTS, PROTOCOL_WORDS } from './fields.ts';
import { compileKfl } from './index.ts';
import { lex } from './lexer.ts';
import { parse } from './parser.ts';
import { RELATIVE_UNITS_MS } from './time.ts';

/**
 * Top-level entry fields the agent fills itself and the CLI never rewrites (not id, src, dst);
 * `http2` and `grpc` are what an HTTP/2 entry and a gRPC call add (dissect/http1/entry.ts).
 */
const AGENT_ENTRY_FIELDS: ReadonlySet<string> = new Set([
  'protocol', 'timestamp', 'startTime', 'elapsedTime', 'requestSize', 'responseSize', 'tls', 'request', 'response', 'error',
  'http2', 'grpc',
]);

/** Endpoint fields the agent knows: the addresses. Names, namespaces, pods and services come from the cluster. */
const AGENT_ENDPOINT_FIELDS: ReadonlySet<string> = new Set(['ip', 'port']);

/** KFL2 variables computed from agent-side fields only. */
export const AGENT_ALIASES: ReadonlySet<string> = new Set([
  'method', 'url', 'path', 'status_code', 'http_version', 'query_string', 'request_body_size', 'response_body_size',
  'request_headers_size', 'response_headers_size', 'elapsed_time', 'capture_source',
  'grpc_status', 'grpc_method', 'grpc_service',
]);

/**
 * Functions whose result depends only on their arguments. Not limit() (counted per agent), not
 * redact() (applied by the CLI), not now() (the pod's clock), not datetime() (a date-time without
 * zone is read in the local time zone, the pod's).
 */
const AGENT_FUNCTIONS: ReadonlySet<string> = new Set([
  'size', 'len', 'timestamp', 'duration', 'map_get', ...Object.keys(RELATIVE_UNITS_MS),
]);

/** True when `query` compiles and reads only what the agent knows; false for an empty query. */
export function pushdownSafe(query: string): boolean {
  if (!compileKfl(query, { nowMs: 0 }).ok) return false;
  const tree = parse(lex(query));
  return tree !== null && agentKnows(tree);
}

function agentKnows(node: Node): boolean {
  switch (node.kind) {
    case 'literal':
    case 'regex':
      return true;
    case 'list':
      return node.items.every(agentKnows);
    case 'root':
      return false; // `..name` from the entry itself reaches ids and endpoint names
    case 'unary':
      return agentKnows(node.operand);
    case 'binary':
      return agentKnows(node.left) && agentKnows(node.right);
    case 'logical':
      return node.operands.every(agentKnows);
    case 'call':
      if (node.target === null) return AGENT_FUNCTIONS.has(node.name) && node.args.every(agentKnows);
      return pathKnown(node);
    case 'ident':
    case 'member':
    case 'index':
    case 'wildcard':
    case 'descend':
      return pathKnown(node);
  }
}

type Step = Extract<Node, { kind: 'member' | 'index' | 'wildcard' | 'descend' }> | CallNode;

/** A path: its leading static names decide, as the compiler resolves them (src/kfl/paths.ts); keys and method arguments must be agent-side too. */
function pathKnown(node: Node): boolean {
  const steps: Step[] = [];
  let base: Node = node;
  while (base.kind === 'member' || base.kind === 'index' || base.kind === 'wildcard' || base.kind === 'descend' || (base.kind === 'call' && base.target !== null)) {
    steps.push(base);
    base = base.kind === 'call' ? base.target! : base.target;
  }
  steps.reverse();
  for (const s of steps) {
    if (s.kind === 'index' && !agentKnows(s.key)) return false;
    if (s.kind === 'call' && !s.args.every(agentKnows)) return false;
  }
  if (base.kind !== 'ident') return agentKnows(base);
  const names = [base.name];
  for (const s of steps) {
    const name = s.kind === 'member' ? s.name : s.kind === 'index' && s.key.kind === 'literal' && typeof s.key.value === 'string' ? s.key.value : undefined;
    if (name === undefined) break;
    names.push(name);
  }
  return namesKnown(names);
}

/** Mirrors resolveNames in paths.ts: a protocol word alone, else the longest KFL2 variable, else an entry path. */
function namesKnown(names: readonly string[]): boolean {
  if (names.length === 1 && PROTOCOL_WORDS.has(names[0]!)) return true; // protocol name, version, abbr, tls
  for (let k = Math.min(MAX_ALIAS_SEGMENTS, names.length); k >= 1; k--) {
    const alias = names.slice(0, k).join('.');
    if (ALIASES.has(alias)) return AGENT_ALIASES.has(alias);
  }
  const [first, second] = names;
  if (first === 'src' || first === 'dst') return second !== undefined && AGENT_ENDPOINT_FIELDS.has(second);
  return AGENT_ENTRY_FIELDS.has(first!);
}
