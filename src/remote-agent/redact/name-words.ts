/** Splitting a name (header, parameter, cookie, form field, JSON key) into lower-case words. */

const SEP = 0;
const UPPER = 1;
const LOWER = 2;
const DIGIT = 3;

/** Non-ASCII code units count as lower-case letters: part of a word, never a case boundary. */
function kindOf(c: number): number {
  if (c >= 97 && c <= 122) return LOWER;
  if (c >= 65 && c <= 90) return UPPER;
  if (c >= 48 && c <= 57) return DIGIT;
  return c < 128 ? SEP : LOWER;
}

/**
 * Words of `name`: every ASCII character that is not a letter or digit separates ("-", "_", ".",
 * space, but also "[", "+", ":"...); so do lower->upper ("authToken"), letter<->digit
 * ("password2"), and the last capital of an acronym followed by a lower-case letter
 * ("XMLHttpRequest" -> xml http request, "userID" -> user id).
 */
export function nameWords(name: string): string[] {
  const words: string[] = [];
  const n = name.length;
  let start = -1;
  let prev = SEP;
  for (let i = 0; i < n; i++) {
    const k = kindOf(name.charCodeAt(i));
    if (k === SEP) {
      if (start >= 0) words.push(name.slice(start, i).toLowerCase());
      start = -1;
    } else if (start < 0) {
      start = i;
    } else if (
      (prev === DIGIT) !== (k === DIGIT) ||
      (prev === LOWER && k === UPPER) ||
      (prev === UPPER && k === UPPER && i + 1 < n && kindOf(name.charCodeAt(i + 1)) === LOWER)
    ) {
      words.push(name.slice(start, i).toLowerCase());
      start = i;
    }
    prev = k;
  }
  if (start >= 0) words.push(name.slice(start).toLowerCase());
  return words;
}
