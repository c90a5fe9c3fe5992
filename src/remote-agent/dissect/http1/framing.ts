/**
 * Message body length rules, RFC 9112 §6.3, in the order the RFC lists them.
 */
import { fieldValues, type MessageHead } from './head.ts';

export type BodyPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Response body delimited by the end of the connection (§6.3 item 8). */
  | { readonly kind: 'close' }
  /** Framing is invalid: the message is unrecoverable (§6.3 items 4-5). */
  | { readonly kind: 'invalid'; readonly reason: string };

const NONE: BodyPlan = Object.freeze({ kind: 'none' });
const CHUNKED: BodyPlan = Object.freeze({ kind: 'chunked' });
const CLOSE: BodyPlan = Object.freeze({ kind: 'close' });

/** True when this response ends HTTP on the connection: 101, or a 2xx answer to CONNECT (§6.3 item 2). */
export function switchesProtocol(status: number, requestMethod: string | undefined): boolean {
  return status === 101 || (requestMethod === 'CONNECT' && status >= 200 && status < 300);
}

/** A 1xx other than 101 is interim: the final response to the same request follows (RFC 9110 §15.2). */
export function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

/**
 * How the body of `head` is delimited. For a response, `requestMethod` is the method of the request
 * it answers (undefined when unknown, e.g. capture started mid-connection).
 */
export function bodyPlan(head: MessageHead, requestMethod: string | undefined): BodyPlan {
  if (head.kind === 'response') {
    const s = head.status;
    if (requestMethod === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304) return NONE;
    if (switchesProtocol(s, requestMethod)) return NONE;
  }
  const te = fieldValues(head, 'transfer-encoding');
  if (te.length > 0) {
    // Transfer-Encoding overrides Content-Length (§6.3 item 3); chunked must be the final coding.
    // Almost always it is one field saying only that: no list to split.
    if (te.length === 1 && te[0] === 'chunked') return CHUNKED;
    const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
    if (codings[codings.length - 1] === 'chunked') return CHUNKED;
    return head.kind === 'response' ? CLOSE : { kind: 'invalid', reason: 'request Transfer-Encoding without final chunked' };
  }
  const cl = fieldValues(head, 'content-length');
  if (cl.length > 0) {
    const length = parseContentLength(cl);
    if (length < 0) return { kind: 'invalid', reason: `bad Content-Length: ${cl.join(', ').slice(0, 40)}` };
    return length === 0 ? NONE : { kind: 'length', length };
  }
  return head.kind === 'request' ? NONE : CLOSE;
}

/**
 * Content-Length value(s): 1*DIGIT; a list of identical values is accepted as that value (§6.3 item 5).
 * Returns -1 when invalid (negative, non-digit, beyond 2^53, differing values).
 */
export function parseContentLength(values: readonly string[]): number {
  // The usual one field of 1-15 digits, read without splitting it as a list.
  if (values.length === 1 && isDigits(values[0]!)) return Number(values[0]);
  let result = -1;
  for (const v of values) {
    for (const part of v.split(',')) {
      const s = part.trim();
      if (s.length === 0 || s.length > 15 || !/^[0-9]+$/.test(s)) return -1;
      const n = Number(s);
      if (result !== -1 && n !== result) return -1;
      result = n;
    }
  }
  return result;
}

/** 1-15 ASCII digits (below 2^53, so Number reads it exactly). */
function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
