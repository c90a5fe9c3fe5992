/** Choosing how to redact a body from its media type (and, for JSON, its first character). */
import type { IsSensitive } from './name-matcher.ts';
import { looksLikeJson, redactJson } from './json-redact.ts';
import { isFormMime, isJsonMime, isMultipartMime, mimeEssence } from './mime.ts';
import { boundaryOf, redactMultipart } from './multipart-redact.ts';
import { redactParams } from './params-redact.ts';

/** Redacted UTF-8 body text; bodies of other types (HTML, XML, plain text...) come back as is. */
export function redactBodyText(text: string, mimeType: unknown, isSensitive: IsSensitive): string {
  const essence = mimeEssence(mimeType);
  if (isFormMime(essence)) return redactParams(text, isSensitive);
  if (isMultipartMime(essence)) {
    const boundary = boundaryOf(typeof mimeType === 'string' ? mimeType : '', text);
    return boundary === null ? text : redactMultipart(text, boundary, isSensitive);
  }
  if (isJsonMime(essence) || looksLikeJson(text)) return redactJson(text, isSensitive);
  if ((essence === '' || essence === 'text/plain') && looksLikeForm(text)) return redactParams(text, isSensitive);
  return text;
}

/**
 * "a=1&b=2" sent without a media type, or as text/plain (what fetch() declares for a string
 * body). Only pairs with sensitive names change, so a false positive costs nothing.
 */
function looksLikeForm(text: string): boolean {
  return text.indexOf('=') > 0 && !/\s/.test(text.trimEnd());
}

/**
 * Bodies kept as base64 (`encoding: 'base64'`, bytes that are not valid UTF-8). Most are
 * binary (images, protobuf, compressed data that could not be decoded) and are left alone, as is
 * every base64 body without a declared form, multipart or JSON type: sniffing would mean
 * decoding every binary body. Those three types are redacted on a Latin-1 view of the bytes (one
 * character per byte, so names, delimiters and untouched bytes survive the round trip), because
 * one binary file in a multipart upload is enough to make the whole body base64 while a
 * password field sits next to it.
 */
export function redactBase64BodyText(text: string, mimeType: unknown, isSensitive: IsSensitive): string {
  const essence = mimeEssence(mimeType);
  if (!isFormMime(essence) && !isMultipartMime(essence) && !isJsonMime(essence)) return text;
  const bytes = Buffer.from(text, 'base64').toString('latin1');
  const redacted = redactBodyText(bytes, mimeType, isSensitive);
  return redacted === bytes ? text : Buffer.from(redacted, 'latin1').toString('base64');
}
