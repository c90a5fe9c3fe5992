/**
 * The demo shop (namespace `shop`): front-end -> catalogue -> db, real Node HTTP servers calling
 * each other by pod IP (the sandbox has no DNS and no kube-proxy), with a Service each.
 */
import { fileURLToPath } from 'node:url';
import { templateHash } from './cluster.ts';
import type { FixturePod, FixtureService, SandboxFixture } from './types.ts';

export const SHOP_SCRIPT = fileURLToPath(new URL('./apps/shop-service.mjs', import.meta.url));

export const SHOP_IPS = { frontEnd: '10.244.0.10', catalogue: '10.244.0.11', db: '10.244.0.12' } as const;

function pod(deploy: string, suffix: string, ip: string, env: Record<string, string>): FixturePod {
  return {
    namespace: 'shop',
    name: `${deploy}-${templateHash(deploy)}-${suffix}`,
    labels: { app: deploy },
    ip,
    ownerDeployment: deploy,
    containers: [{ name: deploy, image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: deploy, PORT: '8080', ...env } }],
  };
}

function service(name: string): FixtureService {
  return { namespace: 'shop', name, selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] };
}

/** front-end calls catalogue every `intervalMs`; catalogue asks db for each request. */
export function demoShopFixture(o: { intervalMs?: number } = {}): SandboxFixture {
  return {
    namespaces: [{ name: 'shop' }],
    pods: [
      pod('front-end', 'x2x8q', SHOP_IPS.frontEnd, {
        CALL: `http://${SHOP_IPS.catalogue}:8080`,
        INTERVAL_MS: String(o.intervalMs ?? 1500),
      }),
      pod('catalogue', 'k4m2p', SHOP_IPS.catalogue, { UPSTREAM: `http://${SHOP_IPS.db}:8080` }),
      pod('db', 'q9w7z', SHOP_IPS.db, {}),
    ],
    services: [service('front-end'), service('catalogue'), service('db')],
  };
}
