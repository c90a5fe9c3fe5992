/**
 * Random KFL queries for property tests (src/kfl/property.test.ts, the push-down check's test):
 * sequences of real tokens, most of them not valid queries, from a seeded PRNG so a failure
 * reproduces.
 */

/** mulberry32: a small deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const KFL_TOKENS = [
  'http', 'dns', 'grpc', 'tls', 'and', 'or', 'not', '&&', '||', '!', '==', '!=', '<', '<=', '>', '>=', 'in', '(', ')',
  '[', ']', ',', '.', '..', '*', '-', '+', '/', '%', '[*]', 'request', 'response', 'status', 'headers', '"Accept"',
  'request.headers["accept"]', 'response.status', 'status_code', 'namespaces', 'src.pod.name', '.json()', '.size()',
  '.startsWith("a")', '.matches(r"a+")', 'r"4.*"', 'r"("', '"x"', "'y'", '"\\u00e9"', '"\\u12"', '0', '-1', '3.5',
  '1e3', 'true', 'false', 'nil', 'null', 'size(', 'len(', 'map_get(', 'limit(', 'redact(', 'datetime(', 'duration(',
  'now()', 'hours(', '"5m"', '"request.path"', 'foo(', '..name', 'a', 'b', '@', '=', '&', '|', '"unterminated',
  '\n', '   ', '#', '\\', '`raw`', 'r`x`',
];

/** 1 to 14 tokens, joined with or without spaces. */
export function randomTokens(next: () => number): string {
  const n = 1 + Math.floor(next() * 14);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(KFL_TOKENS[Math.floor(next() * KFL_TOKENS.length)]!);
  return parts.join(next() < 0.5 ? ' ' : '');
}

/** Operands for randomPredicate: fields the agent knows and fields it does not, in both dialects. */
export const KFL_OPERANDS = [
  'request.path', 'request.method', 'response.status', 'request.headers["Host"]', 'request..name', 'response.content.text.json()..name',
  'status_code', 'method', 'path', 'url', 'elapsed_time', 'src.ip', 'dst.port', 'elapsedTime', 'timestamp', 'tls', 'http',
  'src.name', 'dst.name', 'src.namespace', 'dst.namespace', 'src.pod', 'dst.service', 'src.pod.name', 'dst.service.name',
  'dst.pod.namespace', 'namespaces', 'pods', 'services', 'id', '..name', '..namespace', 'src["name"]', 'dst.*', 'src[request.method]',
  'node', 'capture', 'src_name', '"carts"', '"shop"', '"frontend"', '"production"', '"/src/x"', '"0-1"', '""', '200', '0', 'nil',
];

const COMPARE = ['==', '!=', '<', '>=', 'in'];
const METHODS = ['.startsWith("c")', '.contains("o")', '.size() > 0', '.matches(r"^[a-z]+$")'];

/** A well-formed boolean query over KFL_OPERANDS: comparisons, methods, and/or/not, parentheses. */
export function randomPredicate(next: () => number, depth = 3): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const r = next();
  if (depth > 0 && r < 0.3) return `(${randomPredicate(next, depth - 1)} ${pick(['and', 'or', '&&', '||'])} ${randomPredicate(next, depth - 1)})`;
  if (depth > 0 && r < 0.4) return `not (${randomPredicate(next, depth - 1)})`;
  if (r < 0.55) return `${pick(KFL_OPERANDS)}${pick(METHODS)}`;
  if (r < 0.6) return pick(KFL_OPERANDS);
  return `${pick(KFL_OPERANDS)} ${pick(COMPARE)} ${pick(KFL_OPERANDS)}`;
}
