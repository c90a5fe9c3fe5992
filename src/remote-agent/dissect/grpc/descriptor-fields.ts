/**
 * A protobuf message decoded without a schema (ProtoField trees, ./entry.ts) as text people read,
 * one field per line in the spirit of `protoc --decode_raw`: `1: "alice"`, `2 { ... }` for a
 * nested message, integers as they are, fixed-width values with their wire type (they may be
 * floats: only a schema says), bytes as base64. Imports only src/model and ./entry.ts.
 */
import type { ProtoField } from './entry.ts';

/** Nesting shown at most; deeper messages (hostile bytes parse as deep nests) are elided. */
export const MAX_FIELD_DEPTH = 32;
/** Lines rendered at most per message; the rest are counted. */
export const MAX_FIELD_LINES = 2_000;

export function renderFields(fields: readonly ProtoField[]): string {
  const lines: string[] = [];
  let more = 0;
  const walk = (list: readonly ProtoField[], depth: number): void => {
    const indent = '  '.repeat(depth);
    for (const field of list) {
      if (lines.length >= MAX_FIELD_LINES) {
        more++;
        continue;
      }
      if (field === null || typeof field !== 'object') continue;
      if (Array.isArray(field.message)) {
        if (depth + 1 >= MAX_FIELD_DEPTH) {
          lines.push(`${indent}${field.no} { … }`);
          continue;
        }
        lines.push(`${indent}${field.no} {`);
        walk(field.message, depth + 1);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${field.no}: ${fieldValue(field)}`);
      }
    }
  };
  walk(fields, 0);
  if (more > 0) lines.push(`… ${more} more fields not shown`);
  return lines.join('\n');
}

function fieldValue(field: ProtoField): string {
  if (typeof field.string === 'string') return JSON.stringify(field.string);
  if (typeof field.bytes === 'string') return `${field.bytes} (bytes, base64)`;
  if (field.value !== undefined) return field.wire === 'varint' ? String(field.value) : `${String(field.value)} (${field.wire})`;
  return field.wire === 'len' ? '""' : `(${String(field.wire)})`;
}
