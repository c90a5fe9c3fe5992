/**
 * Sec-WebSocket-Protocol values (RFC 6455 §11.3.4: a comma list of subprotocols). Browsers
 * cannot set an Authorization header on a WebSocket, so tokens ride in this list:
 * - Kubernetes' "base64url.bearer.authorization.k8s.io.<token>" (and any "...bearer.<token>"):
 *   the part after the prefix becomes [REDACTED], the prefix stays;
 * - a pair such as "access_token, <token>" or "Authorization, <token>": the element after an
 *   element that is itself a sensitive name becomes [REDACTED].
 * Other subprotocols ("v4.channel.k8s.io", "graphql-transport-ws") are kept.
 */
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';

const K8S_SUFFIX = '.k8s.io.';
const BARE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

export function redactWebSocketProtocols(value: string, isSensitive: IsSensitive): string {
  const items = value.split(',');
  let changed = false;
  let previousIsName = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const token = item.trim();
    let next = item;
    const keep = bearerPrefixLength(token);
    if (previousIsName && token !== '') next = item.replace(token, REDACTED);
    else if (keep > 0 && keep < token.length) next = item.replace(token, token.slice(0, keep) + REDACTED);
    // Only a bare name ("access_token", "Authorization") announces a token in the next element.
    previousIsName = keep === 0 && BARE_NAME.test(token) && isSensitive(token);
    if (next !== item) {
      items[i] = next;
      changed = true;
    }
  }
  return changed ? items.join(',') : value;
}

/** Length of the "...bearer." prefix to keep (through ".k8s.io." when present), 0 when none. */
function bearerPrefixLength(token: string): number {
  const lower = token.toLowerCase();
  const bearer = lower.indexOf('bearer.');
  if (bearer < 0 || (bearer > 0 && lower[bearer - 1] !== '.')) return 0;
  const k8s = lower.indexOf(K8S_SUFFIX, bearer);
  return k8s >= 0 ? k8s + K8S_SUFFIX.length : bearer + 'bearer.'.length;
}
