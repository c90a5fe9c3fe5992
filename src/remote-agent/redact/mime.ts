/** Media type tests shared by whole bodies and multipart parts. */

/** Content-Type values repeat across entries; cleared when full, like the name cache. */
const essenceCache = new Map<string, string>();
const ESSENCE_CACHE_LIMIT = 256;

/** "Application/JSON; charset=utf-8" -> "application/json". */
export function mimeEssence(mimeType: unknown): string {
  if (typeof mimeType !== 'string') return '';
  const cached = essenceCache.get(mimeType);
  if (cached !== undefined) return cached;
  const semi = mimeType.indexOf(';');
  const essence = (semi < 0 ? mimeType : mimeType.slice(0, semi)).trim().toLowerCase();
  if (mimeType.length <= 200) {
    if (essenceCache.size >= ESSENCE_CACHE_LIMIT) essenceCache.clear();
    essenceCache.set(mimeType, essence);
  }
  return essence;
}

/** application/json, text/json, any "+json" suffix, NDJSON / JSON lines / JSON seq variants. */
export function isJsonMime(essence: string): boolean {
  const slash = essence.indexOf('/');
  return slash >= 0 && essence.indexOf('json', slash) >= 0;
}

export function isFormMime(essence: string): boolean {
  return essence === 'application/x-www-form-urlencoded';
}

export function isMultipartMime(essence: string): boolean {
  return essence.startsWith('multipart/');
}

/** XML (any "+xml" suffix or "xml" subtype) and HTML, scanned alike (markup-redact.ts). */
export function isMarkupMime(essence: string): boolean {
  if (essence === 'text/html') return true;
  const slash = essence.indexOf('/');
  return slash >= 0 && (essence.endsWith('+xml') || essence.endsWith('/xml'));
}

/** application/graphql (a bare GraphQL document); "+json" GraphQL types are JSON. */
export function isGraphqlMime(essence: string): boolean {
  return essence === 'application/graphql';
}
