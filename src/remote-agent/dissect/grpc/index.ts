/**
 * gRPC over HTTP/2: what the HTTP/2 dissector and the commands ask of this folder. A gRPC call is
 * an HTTP/2 stream whose request content-type is application/grpc; the HTTP/2 connection opens a
 * collector for it and puts the summary it finishes with into the entry (`entry.grpc`, ./entry.ts).
 * `read`, `tap` and the agent load `--proto-descriptor` with loadProtoDescriptorFile and pass the
 * schema in DissectOptions.protobufSchema.
 */
import type { LoadedProtoDescriptor } from './proto-schema.ts';

export { isGrpcContentType } from './call-headers.ts';
export { openGrpcCall, type GrpcCallCollector } from './call-collector.ts';
export type { LoadedProtoDescriptor } from './proto-schema.ts';

/**
 * Reads and loads a FileDescriptorSet file (`--proto-descriptor`). The schema code (the
 * descriptor registry and JSON mapping of @bufbuild/protobuf) is imported only here, so a run
 * without the flag never evaluates it. Rejects with a SharkError: IO_ERROR when the file cannot be
 * read, USAGE when it is not a usable set (the message says what, where and what to do).
 * `tap` uploads the bytes to its agents, which load them again.
 */
export async function loadProtoDescriptorFile(path: string, flag?: string): Promise<LoadedProtoDescriptor> {
  const { loadProtoDescriptorFile: load } = await import('./proto-schema.ts');
  return load(path, flag);
}
