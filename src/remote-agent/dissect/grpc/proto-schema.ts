/**
 * `--proto-descriptor FILE`: a FileDescriptorSet (what `protoc -o FILE` and `buf build -o FILE`
 * write) loaded into @bufbuild/protobuf's registry, so gRPC messages decode to protobuf's canonical
 * JSON by the types the RPC's service descriptor names.
 *
 * Imports: a set written without `--include_imports` lacks the files its files import. The
 * well-known types (google/protobuf/timestamp.proto, any, struct, wrappers...) are taken from the
 * copies @bufbuild/protobuf carries; any other missing import makes the file refused with a
 * message naming what is missing and how to write the set with its imports.
 *
 * Loaded before a capture starts (../index.ts imports this lazily: the agent bundle carries it,
 * but only `--proto-descriptor` evaluates it). Errors are SharkErrors whose messages say what,
 * where and what to do; `cmd/` turns them into exit codes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { create, createFileRegistry, fromBinary, toJson, type FileRegistry } from '@bufbuild/protobuf';
import * as wkt from '@bufbuild/protobuf/wkt';
import { FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { SharkError } from '../../../model/errors.ts';
import { formatBytes } from '../../../model/byte-units.ts';
import type { ProtobufSchema } from '../dissector.ts';

/**
 * Largest descriptor file read (and uploaded by `tap`): sets of whole API surfaces (googleapis
 * with its imports) are a few MiB.
 */
export const MAX_PROTO_DESCRIPTOR_BYTES = 16 * 1024 * 1024;

const HOW_TO_MAKE = 'write one with `protoc --include_imports -o FILE.pb your.proto` or `buf build -o FILE.pb`';

/** A descriptor file as read (what `tap` uploads) and loaded. */
export interface LoadedProtoDescriptor {
  readonly bytes: Uint8Array;
  readonly schema: ProtobufSchema;
}

/** Reads and loads the descriptor file at `path`; `flag` names it in messages. */
export function loadProtoDescriptorFile(path: string, flag = '--proto-descriptor'): LoadedProtoDescriptor {
  const bytes = readBounded(path, flag);
  return { bytes, schema: loadProtoDescriptor(bytes, `${flag} ${path}`) };
}

/** Loads a FileDescriptorSet's bytes; `where` names their origin in messages (the flag and file). */
export function loadProtoDescriptor(bytes: Uint8Array, where: string): ProtobufSchema {
  const fail = (what: string) => new SharkError('USAGE', `${where}: ${what}: ${HOW_TO_MAKE}`, { file: where });
  if (bytes.length === 0) throw fail('the file is empty, not a FileDescriptorSet');
  if (looksLikeProtoSource(bytes)) throw fail('this is .proto source text; the flag takes the compiled FileDescriptorSet');
  let set;
  try {
    set = fromBinary(FileDescriptorSetSchema, bytes);
  } catch (err) {
    throw fail(`not a FileDescriptorSet (${messageOf(err)})`);
  }
  if (set.file.length === 0 || set.file.some((f) => f.name === '')) throw fail('not a FileDescriptorSet (it holds no named .proto files)');
  const files = withWellKnownImports(set.file);
  const missing = missingImports(files);
  if (missing.length > 0) {
    const list = missing.map(([dep, by]) => `${dep} (imported by ${by})`).join(', ');
    throw fail(`the set lacks imported files: ${list}`);
  }
  let registry: FileRegistry;
  try {
    registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
  } catch (err) {
    throw fail(`the descriptors do not resolve (${messageOf(err)})`);
  }
  return schemaOf(registry);
}

function schemaOf(registry: FileRegistry): ProtobufSchema {
  return {
    rpcTypes(service, method) {
      const m = registry.getService(service)?.methods.find((x) => x.name === method);
      return m === undefined ? null : { input: m.input.typeName, output: m.output.typeName };
    },
    toJson(typeName, bytes) {
      const desc = registry.getMessage(typeName);
      if (desc === undefined) throw new Error(`no message type ${typeName} in the descriptor set`);
      // Unknown fields are not part of the JSON mapping: reading them would only cost.
      return toJson(desc, fromBinary(desc, bytes, { readUnknownFields: false }), { registry });
    },
  };
}

/** The well-known files @bufbuild/protobuf carries, by .proto name. */
function wellKnownFiles(): Map<string, FileDescriptorProto> {
  const byName = new Map<string, FileDescriptorProto>();
  for (const value of Object.values(wkt)) {
    if (typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'file' && 'proto' in value) {
      const proto = (value as { proto: FileDescriptorProto }).proto;
      byName.set(proto.name, proto);
    }
  }
  return byName;
}

/** `files` with the well-known files they import and lack put first, in dependency order. */
function withWellKnownImports(files: readonly FileDescriptorProto[]): FileDescriptorProto[] {
  const have = new Set(files.map((f) => f.name));
  const known = wellKnownFiles();
  const added: FileDescriptorProto[] = [];
  const add = (name: string) => {
    const proto = known.get(name);
    if (have.has(name) || proto === undefined) return;
    have.add(name);
    for (const dep of proto.dependency) add(dep);
    added.push(proto);
  };
  for (const f of files) for (const dep of f.dependency) add(dep);
  return [...added, ...files];
}

/** [import, importer] for every import no file of `files` is. */
function missingImports(files: readonly FileDescriptorProto[]): Array<[string, string]> {
  const have = new Set(files.map((f) => f.name));
  return files.flatMap((f) => f.dependency.filter((d) => !have.has(d)).map((d): [string, string] => [d, f.name]));
}

/** A .proto file given by mistake: text starting with `syntax`, `edition`, `package`, a comment... */
function looksLikeProtoSource(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1').trimStart();
  return /^(?:syntax|edition|package|import|message|service|option|\/\/|\/\*)/.test(head);
}

function readBounded(path: string, flag: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new SharkError('IO_ERROR', `${flag} ${path}: cannot read the file (${messageOf(err)})`, { file: path });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_PROTO_DESCRIPTOR_BYTES) {
      throw new SharkError('USAGE', `${flag} ${path}: the file is larger than the ${formatBytes(MAX_PROTO_DESCRIPTOR_BYTES)} a descriptor set may be: give a set of only the services you read (protoc -o with just their .proto files)`, { file: path });
    }
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, null);
      if (n === 0) break;
      at += n;
    }
    return out.subarray(0, at);
  } catch (err) {
    if (err instanceof SharkError) throw err;
    throw new SharkError('IO_ERROR', `${flag} ${path}: cannot read the file (${messageOf(err)})`, { file: path });
  } finally {
    closeSync(fd);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
