/**
 * The demo shop (namespace `shop`): front-end -> catalogue -> db, real Node HTTP servers calling
 * each other by pod IP (the sandbox has no DNS and no kube-proxy), with a Service each, each in the
 * distroless-like image `sandbox.local/shop:1` (node and the apps only, no shell, USER 65532), as a
 * real deployment ships it. It looks
 * like a real system, deterministically: the front-end's users make the calls of SHOP_CALLS in
 * turn (GETs and JSON POSTs; a missing item, a bad order, a slow search), and the db answers 503 to
 * every DB_FAIL_EVERY-th request it gets, which the catalogue passes on as 502.
 */
import { fileURLToPath } from 'node:url';
import { templateHash } from './cluster.ts';
import type { FixturePod, FixtureService, SandboxFixture } from './types.ts';

/** The shop's script in this checkout: what other fixtures run as `node SHOP_SCRIPT` in `node:24-slim` (the checkout is mounted). */
export const SHOP_SCRIPT = fileURLToPath(new URL('./apps/shop-service.mjs', import.meta.url));

/** The demo shop's image, and the same script inside it, which the image runs (`/usr/local/bin/node /app/shop-service.mjs`). */
export const SHOP_IMAGE = 'sandbox.local/shop:1';
export const SHOP_IMAGE_SCRIPT = '/app/shop-service.mjs';

export const SHOP_IPS = { frontEnd: '10.244.0.10', catalogue: '10.244.0.11', db: '10.244.0.12' } as const;

/** One call of the front-end's users, and what the catalogue answers when the db does not fail. */
export interface ShopCall {
  method: 'GET' | 'POST';
  path: string;
  /** Sent as application/json. */
  body?: Record<string, unknown>;
  status: number;
}

/** What the front-end calls, one every `intervalMs`, in this order, round and round. */
export const SHOP_CALLS: readonly ShopCall[] = [
  { method: 'GET', path: '/catalogue', status: 200 },
  { method: 'GET', path: '/catalogue?sort=price', status: 200 },
  // A full scan in the db: 200-400 ms.
  { method: 'GET', path: '/catalogue/search?q=wool', status: 200 },
  { method: 'GET', path: '/tags', status: 200 },
  { method: 'GET', path: '/catalogue/item/3', status: 200 },
  { method: 'POST', path: '/orders', body: { item: 3, qty: 2 }, status: 201 },
  { method: 'GET', path: '/catalogue/item/42', status: 404 },
  // Refused by the catalogue itself (the db never sees it).
  { method: 'POST', path: '/orders', body: { item: 1, qty: 0 }, status: 400 },
  { method: 'GET', path: '/catalogue/size', status: 200 },
];

/** The call of SHOP_CALLS a captured request is (its body as sent: JSON text, or null), if any. */
export function shopCallOf(method: string, url: string, body: string | null): ShopCall | undefined {
  const sent = body === null ? undefined : JSON.stringify(JSON.parse(body));
  return SHOP_CALLS.find((c) => c.method === method && c.path === url && JSON.stringify(c.body) === sent);
}

/** The db answers every this many requests 503 (the catalogue then answers 502). */
export const DB_FAIL_EVERY = 10;

/** A slow call: the search's full scan takes at least 200 ms; everything else well under 50 ms. */
export const SHOP_SEARCH_MIN_MS = 200;

function pod(deploy: string, suffix: string, ip: string, env: Record<string, string>): FixturePod {
  return {
    namespace: 'shop',
    name: `${deploy}-${templateHash(deploy)}-${suffix}`,
    labels: { app: deploy },
    ip,
    ownerDeployment: deploy,
    // The image has all it needs (its ENTRYPOINT and CMD run SHOP_IMAGE_SCRIPT): no command, no checkout mounted.
    mountSource: false,
    containers: [{ name: deploy, image: SHOP_IMAGE, env: { SERVICE_NAME: deploy, PORT: '8080', ...env } }],
  };
}

function service(name: string): FixtureService {
  return { namespace: 'shop', name, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] };
}

/** front-end calls catalogue every `intervalMs`; catalogue asks db for (nearly) each request. */
export function demoShopFixture(o: { intervalMs?: number } = {}): SandboxFixture {
  return {
    namespaces: [{ name: 'shop' }],
    pods: [
      pod('front-end', 'x2x8q', SHOP_IPS.frontEnd, {
        CALL: `http://${SHOP_IPS.catalogue}:8080`,
        INTERVAL_MS: String(o.intervalMs ?? 1500),
        PLAN: JSON.stringify(SHOP_CALLS.map(({ method, path, body }) => ({ method, path, body }))),
      }),
      pod('catalogue', 'k4m2p', SHOP_IPS.catalogue, { UPSTREAM: `http://${SHOP_IPS.db}:8080` }),
      pod('db', 'q9w7z', SHOP_IPS.db, { FAIL_EVERY: String(DB_FAIL_EVERY) }),
    ],
    services: [service('front-end'), service('catalogue'), service('db')],
  };
}
