/**
 * json(): a body text parsed as JSON, base64-decoded first when its sibling `encoding` says so
 * (the entry keeps non-UTF-8 bodies as base64). Browser-safe: atob and TextDecoder only.
 */

const utf8 = new TextDecoder('utf-8');

/** Bytes of a base64 text as UTF-8 text; null when it is not base64. */
export function decodeBase64(text: string): string | null {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return utf8.decode(bytes);
}

/** UTF-8 text as base64 (redaction re-encodes a base64 body it rewrote). */
export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** JSON.parse that answers null instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function isBase64Holder(parent: unknown): boolean {
  return parent !== null && typeof parent === 'object' && (parent as Record<string, unknown>)['encoding'] === 'base64';
}

/**
 * A json() reader with a one-entry memo: one query often reads several paths from the same body
 * (`x.json().a == 1 and x.json().b == 2`), and the TUI tests the same entry repeatedly.
 */
export function jsonReader(): (text: unknown, base64: boolean) => unknown {
  let lastText: string | undefined;
  let lastBase64 = false;
  let lastValue: unknown = null;
  return (text, base64) => {
    if (typeof text !== 'string') return text !== null && typeof text === 'object' ? text : null;
    if (text === lastText && base64 === lastBase64) return lastValue;
    const decoded = base64 ? decodeBase64(text) : text;
    lastText = text;
    lastBase64 = base64;
    lastValue = decoded === null ? null : parseJson(decoded);
    return lastValue;
  };
}
