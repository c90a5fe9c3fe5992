/**
 * Choosing how to redact a body from its media type (and, without a telling type, its first
 * character). Private key blocks are removed from every text body first, whatever its type.
 */
import type { IsSensitive } from './name-matcher.ts';
import { redactGraphql } from './graphql-redact.ts';
import { looksLikeJson, redactJson } from './json-redact.ts';
import { redactPrivateKeyBlocks } from './key-block-redact.ts';
import { redactMarkup } from './markup-redact.ts';
import { isFormMime, isGraphqlMime, isJsonMime, isMarkupMime, isMultipartMime, mimeEssence } from './mime.ts';
import { boundaryOf, redactMultipart } from './multipart-redact.ts';
import { redactParams } from './params-redact.ts';

/** Redacted UTF-8 body text; plain text and other types lose only their private key blocks. */
export function redactBodyText(text: string, mimeType: unknown, isSensitive: IsSensitive): string {
  return redactTyped(redactPrivateKeyBlocks(text), typeof mimeType === 'string' ? mimeType : '', isSensitive);
}

/** The type-specific part, shared with multipart parts (which carry their own Content-Type). */
function redactTyped(text: string, mimeType: string, isSensitive: IsSensitive): string {
  const essence = mimeEssence(mimeType);
  // A form body is not a URL: "code" there is an authorization code only next to grant_type or state.
  if (isFormMime(essence)) return redactParams(text, { isSensitive, codeIsSecret: false });
  if (isMultipartMime(essence)) {
    const boundary = boundaryOf(mimeType, text);
    return boundary === null ? text : redactMultipart(text, boundary, isSensitive, redactPart);
  }
  if (isJsonMime(essence) || looksLikeJson(text)) return redactJson(text, isSensitive);
  if (isMarkupMime(essence)) return redactMarkup(text, isSensitive);
  if (isGraphqlMime(essence)) return redactGraphql(text, isSensitive);
  if (essence === '' || essence === 'text/plain') {
    if (looksLikeMarkup(text)) return redactMarkup(text, isSensitive);
    if (looksLikeForm(text)) return redactParams(text, { isSensitive, codeIsSecret: false });
  }
  return text;
}

/**
 * A multipart part: JSON (also untyped), form, XML/HTML and GraphQL parts are redacted like whole
 * bodies. Nested multipart parts are not opened: each level would be one more recursion on
 * hostile input.
 */
function redactPart(body: string, contentType: string, isSensitive: IsSensitive): string {
  const essence = mimeEssence(contentType);
  if (isMultipartMime(essence)) return body;
  return essence === '' && !looksLikeJson(body) ? body : redactTyped(body, contentType, isSensitive);
}

/**
 * "a=1&b=2" sent without a media type, or as text/plain (what fetch() declares for a string
 * body). Only pairs with sensitive names change, so a false positive costs nothing.
 */
function looksLikeForm(text: string): boolean {
  return text.indexOf('=') > 0 && !/\s/.test(text.trimEnd());
}

/** An untyped or text/plain body whose first non-blank character opens a tag. */
function looksLikeMarkup(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) continue;
    return c === 60 /* < */;
  }
  return false;
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
