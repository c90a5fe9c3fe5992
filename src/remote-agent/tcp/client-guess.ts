/**
 * Which side of a connection is the client when the handshake was not captured (the capture
 * started mid-connection). A heuristic: servers listen on well-known or popular service ports,
 * clients use ephemeral (high) ports.
 */

/** Ports above 1023 that are nonetheless usually a server's listening port. */
const COMMON_SERVICE_PORTS: ReadonlySet<number> = new Set([
  1433, 1521, 2181, 2379, 3000, 3306, 4222, 5000, 5432, 5672, 6379, 6443, 8000, 8080, 8081, 8443,
  8888, 9000, 9042, 9090, 9092, 9200, 9300, 11211, 15672, 27017,
]);

export function isLikelyServicePort(port: number): boolean {
  return port < 1024 || COMMON_SERVICE_PORTS.has(port);
}

/** True when the sender (`srcPort`) of a mid-connection segment is more likely the client. */
export function guessSourceIsClient(srcPort: number, dstPort: number): boolean {
  const srcService = isLikelyServicePort(srcPort);
  const dstService = isLikelyServicePort(dstPort);
  if (srcService !== dstService) return dstService;
  // Both or neither look like services: ephemeral ports are allocated high. On a tie, the sender
  // of the first segment seen is as good a guess as any and keeps the result deterministic.
  return srcPort >= dstPort;
}
