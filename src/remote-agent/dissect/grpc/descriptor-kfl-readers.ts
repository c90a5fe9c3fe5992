/**
 * Hand-written KFL readers for the gRPC paths queries use most (`grpc and grpc.status != 0`,
 * `grpc.service == "..."`), each its own function literal for the reason src/kfl/direct.ts gives
 * (V8 keeps property-access feedback per literal).
 */
type Reader = (entry: unknown) => unknown;
type Obj = Record<string, unknown>;

/** The same test as KFL's isObject (src/kfl/values.ts): an array is not a record. */
function o(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export const GRPC_KFL_READERS: ReadonlyMap<string, Reader> = new Map<string, Reader>([
  ['grpc', (r) => (o(r) ? (r.grpc ?? null) : null)],
  ['grpc.status', (r) => {
    const a = o(r) ? r.grpc : null;
    return o(a) ? (a.status ?? null) : null;
  }],
  ['grpc.statusName', (r) => {
    const a = o(r) ? r.grpc : null;
    return o(a) ? (a.statusName ?? null) : null;
  }],
  ['grpc.service', (r) => {
    const a = o(r) ? r.grpc : null;
    return o(a) ? (a.service ?? null) : null;
  }],
  ['grpc.method', (r) => {
    const a = o(r) ? r.grpc : null;
    return o(a) ? (a.method ?? null) : null;
  }],
  ['grpc.message', (r) => {
    const a = o(r) ? r.grpc : null;
    return o(a) ? (a.message ?? null) : null;
  }],
]);
