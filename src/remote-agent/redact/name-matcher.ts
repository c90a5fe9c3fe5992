/** Deciding whether a name is sensitive: word and joined-run matching, with a bounded cache. */
import { DEFAULT_SENSITIVE_KEYS, normaliseKey, QUERY_ONLY_KEYS } from './keys.ts';
import { nameWords } from './name-words.ts';

export type IsSensitive = (name: string) => boolean;

/** The two name tests: everywhere, and for URL query and fragment parameters. */
export interface NameRules {
  readonly isSensitive: IsSensitive;
  readonly isSensitiveParam: IsSensitive;
}

/**
 * Names that contain a key but are never secret, compared as all words joined.
 * - "useragent": the User-Agent header (and userAgent / user_agent fields) would match "user";
 *   it identifies software, not a person. Kubeshark's Mizu made the same exception.
 * - "authority": HTTP/2's ":authority" pseudo-header is the host; it matches no default key, but
 *   is listed so that a broad extra key cannot hide which server was called.
 * An extra key equal to one of them removes the exemption: the operator asked for it explicitly.
 */
const EXEMPT = ['useragent', 'authority'];

/** Header names repeat across entries; the cache is cleared, not evicted, when full. */
const CACHE_LIMIT = 10_000;
/** Longer names (odd JSON keys) are decided without being cached so they cannot pin memory. */
const CACHE_NAME_MAX = 256;

/** A set of keys with a decision cache: word and joined-run matching over a name's words. */
class KeySetMatcher {
  readonly #keys: Set<string>;
  readonly #maxKeyLength: number;
  /** A name shorter than every key cannot match: decided without splitting or caching. */
  readonly #minKeyLength: number;
  readonly #exempt: Set<string>;
  readonly #cache = new Map<string, boolean>();

  constructor(keys: Set<string>, exempt: Set<string>) {
    this.#keys = keys;
    this.#maxKeyLength = [...keys].reduce((m, k) => Math.max(m, k.length), 0);
    this.#minKeyLength = [...keys].reduce((m, k) => Math.min(m, k.length), Infinity);
    this.#exempt = exempt;
  }

  readonly isSensitive = (name: string): boolean => {
    if (typeof name !== 'string' || name.length < this.#minKeyLength) return false;
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    const verdict = this.#decide(name);
    if (name.length <= CACHE_NAME_MAX) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(name, verdict);
    }
    return verdict;
  };

  #decide(name: string): boolean {
    const words = nameWords(name);
    if (words.length === 0) return false;
    if (this.#exempt.size > 0 && this.#exempt.has(words.join(''))) return false;
    const keys = this.#keys;
    const max = this.#maxKeyLength;
    for (let i = 0; i < words.length; i++) {
      let run = '';
      for (let j = i; j < words.length; j++) {
        run += words[j];
        if (run.length > max) break;
        if (keys.has(run)) return true;
      }
    }
    return false;
  }
}

export class NameMatcher implements NameRules {
  /** Defaults then extra keys, normalised, without duplicates. */
  readonly keys: readonly string[];
  /** Header, cookie, form field, multipart part, JSON key, XML/HTML and GraphQL names. */
  readonly isSensitive: IsSensitive;
  /** URL query and fragment parameter names: the keys plus QUERY_ONLY_KEYS. */
  readonly isSensitiveParam: IsSensitive;

  constructor(extraKeys: readonly unknown[] = []) {
    const keys: string[] = [...DEFAULT_SENSITIVE_KEYS];
    const set = new Set(keys);
    const extras = new Set<string>();
    for (const k of Array.isArray(extraKeys) ? extraKeys : []) {
      if (typeof k !== 'string') continue;
      const norm = normaliseKey(k);
      if (norm === '') continue;
      extras.add(norm);
      if (!set.has(norm)) {
        set.add(norm);
        keys.push(norm);
      }
    }
    this.keys = Object.freeze(keys);
    const exempt = new Set(EXEMPT.filter((e) => !extras.has(e)));
    this.isSensitive = new KeySetMatcher(set, exempt).isSensitive;
    this.isSensitiveParam = new KeySetMatcher(new Set([...set, ...QUERY_ONLY_KEYS]), exempt).isSensitive;
  }
}
