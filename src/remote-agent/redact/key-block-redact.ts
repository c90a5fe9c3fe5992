/**
 * Private keys in any body: the base64 between "-----BEGIN <label>-----" and "-----END" of a PEM
 * (RFC 7468), OpenSSH or PGP armor block whose label names a private key ("PRIVATE KEY",
 * "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK"...) becomes "[REDACTED]",
 * whatever field or part carries it. The BEGIN and END lines stay (they say what was there), so
 * do certificates and public keys. A block cut off before its END line is replaced to the end.
 * The label may be form-encoded ("BEGIN+PRIVATE+KEY", "%20"); the replacement holds no line break,
 * so it fits a JSON string or a form value as well as plain text.
 */
import { REDACTED } from './keys.ts';

const BEGIN = '-----BEGIN';
const DASHES = '-----';
/** Labels are short ("ENCRYPTED PRIVATE KEY"); a longer run is not a PEM header. */
const MAX_LABEL = 64;

export function redactPrivateKeyBlocks(text: string): string {
  let at = text.indexOf(BEGIN);
  if (at < 0) return text;
  let out = '';
  let last = 0;
  while (at >= 0) {
    const labelStart = at + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    if (labelEnd < 0 || labelEnd - labelStart > MAX_LABEL) {
      at = text.indexOf(BEGIN, labelStart);
      continue;
    }
    const contentStart = labelEnd + DASHES.length;
    if (!isPrivateKeyLabel(text.slice(labelStart, labelEnd))) {
      at = text.indexOf(BEGIN, contentStart);
      continue;
    }
    const end = text.indexOf('-----END', contentStart);
    const contentEnd = end < 0 ? text.length : end;
    if (text.slice(contentStart, contentEnd) !== REDACTED) {
      out += text.slice(last, contentStart) + REDACTED;
      last = contentEnd;
    }
    if (end < 0) break;
    at = text.indexOf(BEGIN, contentEnd + DASHES.length);
  }
  return last === 0 ? text : out + text.slice(last);
}

function isPrivateKeyLabel(raw: string): boolean {
  const label = raw.replace(/%20|\+/gi, ' ').toUpperCase();
  return label.includes('PRIVATE KEY');
}
