import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharkError } from '../model/errors.ts';
import { ApiHealth, type ApiOutage } from './api-health.ts';

const refused = (): Error => Object.assign(new Error('request to https://127.0.0.1:1/api failed, reason: connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const unavailable = (): SharkError => new SharkError('KUBE_API', 'listing pods failed: the server is currently unable to handle the request', { status: 503 });

function recorder() {
  const log: string[] = [];
  const waits: number[] = [];
  return {
    log,
    waits,
    events: {
      unreachable: (o: ApiOutage) => log.push(`unreachable ${o.reason}`),
      waiting: (_o: ApiOutage, retryInMs: number) => waits.push(retryInMs),
      resumed: (o: ApiOutage, downMs: number) => log.push(`resumed after ${downMs >= 0 ? 'some' : 'negative'} ms (${o.reason})`),
    },
  };
}

test('only an outage counts: refused, timed out, 502/503/504; not a 403, a 404, a TLS failure or a 500', () => {
  const r = recorder();
  const health = new ApiHealth(async () => undefined, r.events, { firstDelayMs: 10_000 });
  for (const err of [
    new SharkError('KUBE_FORBIDDEN', 'forbidden'),
    new SharkError('KUBE_API', 'x failed: etcd', { status: 500 }),
    Object.assign(new Error('Not Found'), { statusCode: 404 }),
    Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
  ]) {
    assert.equal(health.failed(err), false);
  }
  assert.equal(health.isDown, false);
  assert.equal(health.failed(Object.assign(new Error('Service Unavailable'), { statusCode: 503 })), true);
  assert.equal(health.isDown, true);
  assert.equal(health.failed(Object.assign(new Error('no answer within 30 s'), { code: 'KUBE_REQUEST_TIMEOUT' })), true);
  health.stop();
  assert.deepEqual(r.log, ['unreachable HTTP 503'], 'told once per outage');
});

test('one probe retries with capped backoff; failures keep the outage (a 503 too); only a probe that lists ends it', async () => {
  const r = recorder();
  const answers: (Error | null)[] = [refused(), unavailable(), unavailable(), null];
  const tries: number[] = [];
  const started = Date.now();
  const health = new ApiHealth(
    async () => {
      tries.push(Date.now() - started);
      const next = answers.shift();
      if (next) throw next;
    },
    r.events,
    { firstDelayMs: 20, maxDelayMs: 60, tickMs: 5 },
  );
  assert.equal(await Promise.race([health.whenUp().then(() => 'at once'), new Promise((r) => setTimeout(() => r('waited'), 5))]), 'at once');
  assert.equal(health.failed(refused()), true);
  assert.equal(health.failed(refused()), true);
  const waiting = [health.whenUp(), health.whenUp()];
  const order: string[] = [];
  await Promise.all(waiting.map((w, i) => w.then(() => order.push(`waiter ${i}`))));
  assert.equal(health.isDown, false);
  assert.deepEqual(order, ['waiter 0', 'waiter 1']);
  // Delays 20, 40, 60 (capped), 60: four probes, the last answered.
  assert.equal(tries.length, 4);
  const gaps = tries.map((t, i) => t - (tries[i - 1] ?? 0));
  assert.ok(gaps[0]! >= 18 && gaps[1]! >= 38 && gaps[2]! >= 58 && gaps[3]! >= 58, `gaps ${gaps}`);
  assert.ok(gaps[3]! < 200, `capped: ${gaps}`);
  // The reason follows the probe's latest failure, in a word.
  assert.deepEqual(r.log, ['unreachable ECONNREFUSED', 'resumed after some ms (HTTP 503)']);
  assert.ok(r.waits.length >= 4, 'a countdown while down');
  assert.ok(r.waits.every((ms) => ms >= 0 && ms <= 60));
  await health.whenUp();
  health.stop();
});

test('a watch answered ends the outage at once; stop() lets every waiter go', async () => {
  const r = recorder();
  const health = new ApiHealth(() => Promise.reject(refused()), r.events, { firstDelayMs: 60_000 });
  health.failed(refused());
  const waiter = health.whenUp();
  health.succeeded();
  await waiter;
  assert.equal(r.log.length, 2);
  health.failed(refused());
  const another = health.whenUp();
  health.stop();
  await another;
  assert.equal(r.log.length, 3, 'stopping is no resumption');
});
