/**
 * Deterministic text bodies for the agent tests: printable ASCII, so entry frames carry them as
 * plain text (no base64) and `content.size` is the number of bytes sent.
 */

const LINE = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 -_.\n';

/** `size` bytes of text; `seed` shifts the pattern so bodies of equal size differ. */
export function textBody(size: number, seed = 0): Buffer {
  const out = Buffer.alloc(size);
  const unit = Buffer.from(LINE.repeat(4), 'ascii');
  const shift = seed % LINE.length;
  let at = 0;
  while (at < size) {
    at += unit.copy(out, at, shift, Math.min(unit.length, shift + (size - at)));
  }
  return out;
}
