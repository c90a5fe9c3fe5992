/** The KFL queries the benchmarks time (kfl-evals.ts), which the NDJSON quick-reject test also checks for exactness. */
export const BENCH_KFL_QUERIES: readonly string[] = [
  'http and response.status >= 500',
  'request.method == "POST" and request.path.startsWith("/api/orders")',
  'http && status_code >= 400 && status_code < 500',
  'request.headers["user-agent"] == r"curl/.*"',
  '"authorization" in request.headers',
  'dst.name == "carts" or dst.namespace == "payments"',
  'elapsed_time > 250000 and !(request.method == "GET")',
  'timestamp > now() - duration("5m")',
];
