/**
 * How a gRPC status reads in lists and on the service map: its outcome class. gRPC has no status
 * classes of its own; the canonical codes (google.rpc.Code, grpc/grpc doc/statuscodes.md) each name
 * the HTTP status they correspond to, and that HTTP status gives the class, so "client error" and
 * "server error" mean for gRPC what they mean for HTTP:
 *
 * | class | codes (HTTP status of google.rpc.Code) |
 * |---|---|
 * | success | OK 0 (200) |
 * | client-error | CANCELLED 1 (499), INVALID_ARGUMENT 3 (400), NOT_FOUND 5 (404), ALREADY_EXISTS 6 (409), PERMISSION_DENIED 7 (403), RESOURCE_EXHAUSTED 8 (429), FAILED_PRECONDITION 9 (400), ABORTED 10 (409), OUT_OF_RANGE 11 (400), UNAUTHENTICATED 16 (401) |
 * | server-error | UNKNOWN 2 (500), DEADLINE_EXCEEDED 4 (504), UNIMPLEMENTED 12 (501), INTERNAL 13 (500), UNAVAILABLE 14 (503), DATA_LOSS 15 (500), any code gRPC does not define, and a call that ended without a status |
 *
 * Imports only src/model.
 */
import type { OutcomeClass } from '../../../model/protocol-descriptor.ts';

const CLIENT_SIDE: ReadonlySet<number> = new Set([1, 3, 5, 6, 7, 8, 9, 10, 11, 16]);

/** The class of a `grpc-status` (null: the call ended without one). */
export function grpcOutcomeClass(status: number | null): OutcomeClass {
  if (status === 0) return 'success';
  if (typeof status === 'number' && CLIENT_SIDE.has(status)) return 'client-error';
  return 'server-error';
}

/** An error is any status but OK, and no status at all (reset, cut off, no answer). */
export const isGrpcError = (status: number | null): boolean => status !== 0;
