/**
 * Redaction of a gRPC call's decoded messages, with the redaction stage's own body rules
 * (PayloadRedactor.body, src/remote-agent/redact): a message decoded with a schema is JSON and is
 * redacted as a JSON body (values of sensitive keys: `password`, `token`, `apiKey`...); a message
 * decoded without one has no names, so each string field is redacted as a text body is (private key
 * blocks, and JSON, form or markup text inside the string). Bytes fields are left as binary bodies
 * are.
 *
 * The raw body (`request.postData.text`, `response.content.text`: the messages' bytes as base64)
 * holds the same values unredacted. It is replaced by `[REDACTED]` on each side where redaction
 * changed a decoded message, and kept otherwise (nothing found in what could be read; binary bodies
 * are kept the same way). Imports only src/model and this folder.
 */
import type { PayloadRedactor } from '../../../model/protocol-descriptor.ts';
import type { CarriedBody, GrpcCarrier } from './descriptor-carrier.ts';
import { MAX_FIELD_DEPTH } from './descriptor-fields.ts';

export function redactGrpc(entry: GrpcCarrier, redactor: PayloadRedactor): void {
  try {
    const call: unknown = entry.grpc;
    if (call === null || typeof call !== 'object') return;
    const rec = call as Record<string, unknown>;
    if (redactList(rec, 'requestMessages', redactor)) dropRaw(entry.request, 'postData', redactor.redacted);
    if (redactList(rec, 'responseMessages', redactor)) dropRaw(entry.response, 'content', redactor.redacted);
  } catch {
    // A hostile getter (NDJSON input): each part below guards itself; nothing more to do.
  }
}

/** Redacts `owner[field]` (a message list) in place; true when anything changed. */
function redactList(owner: Record<string, unknown>, field: string, redactor: PayloadRedactor): boolean {
  try {
    const list = owner[field];
    if (list === undefined || list === null) return false;
    if (!Array.isArray(list)) {
      owner[field] = [];
      return true;
    }
    let changed = false;
    for (const message of list) if (redactMessage(message, redactor)) changed = true;
    return changed;
  } catch {
    // A list that cannot be checked does not leave.
    try {
      owner[field] = [];
    } catch {
      // Frozen: nothing can be changed in place.
    }
    return true;
  }
}

function redactMessage(message: unknown, redactor: PayloadRedactor): boolean {
  if (message === null || typeof message !== 'object') return false;
  const m = message as Record<string, unknown>;
  let changed = false;
  if (m.json !== undefined) {
    const text = JSON.stringify(m.json);
    if (typeof text === 'string') {
      const redacted = redactor.body('application/json', text);
      if (redacted !== text) {
        changed = true;
        try {
          m.json = JSON.parse(redacted);
        } catch {
          m.json = redactor.redacted;
        }
      }
    }
  }
  if (m.fields !== undefined && m.fields !== null) {
    if (!Array.isArray(m.fields)) {
      m.fields = [];
      changed = true;
    } else if (redactFields(m.fields, redactor, 0)) {
      changed = true;
    }
  }
  return changed;
}

function redactFields(fields: readonly unknown[], redactor: PayloadRedactor, depth: number): boolean {
  let changed = false;
  for (const field of fields) {
    if (field === null || typeof field !== 'object') continue;
    const f = field as Record<string, unknown>;
    if (typeof f.string === 'string') {
      const redacted = redactor.body('text/plain', f.string);
      if (redacted !== f.string) {
        f.string = redacted;
        changed = true;
      }
    } else if (f.string !== undefined) {
      f.string = redactor.redacted;
      changed = true;
    }
    if (f.message !== undefined && f.message !== null) {
      // Deeper than is shown (or not a list): not checked, so not kept.
      if (!Array.isArray(f.message) || depth + 1 >= MAX_FIELD_DEPTH) {
        delete f.message;
        f.string = redactor.redacted;
        changed = true;
      } else if (redactFields(f.message, redactor, depth + 1)) {
        changed = true;
      }
    }
  }
  return changed;
}

/** The raw bytes of a side whose decoded messages lost something: they hold it too. */
function dropRaw(side: unknown, field: 'postData' | 'content', redacted: string): void {
  try {
    if (side === null || typeof side !== 'object') return;
    const body = (side as Record<string, unknown>)[field];
    if (body === null || typeof body !== 'object') return;
    const b = body as Partial<CarriedBody>;
    b.text = redacted;
    delete b.encoding;
  } catch {
    // Frozen: nothing can be changed in place.
  }
}
