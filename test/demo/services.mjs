// One process per demo service (the role comes from SERVICE). Plain node:http so the recording is
// ordinary HTTP/1.1: keep-alive between services, JSON bodies, some errors and some slow calls.
// Behind two of them sit real data stores, reached with their ordinary clients: catalogue caches in
// redis-server (node-redis: GET/SET with expiry, a pipeline, cache misses, a wrong-type error) and
// orders keeps orders in PostgreSQL (pg: parameterised extended-protocol queries, a unique-key
// violation now and then). Every choice hangs on a request counter, so each recording says the same.
import http from 'node:http';
import pg from 'pg';
import { createClient } from 'redis';

const service = process.env.SERVICE;
const port = Number(process.env.PORT ?? 80);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let counter = 0;

function call(method, url, body) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', () => resolve({ status: 502, body: '' }));
    req.end(payload);
  });
}

function send(res, status, value, delayMs = 0) {
  const body = JSON.stringify(value);
  setTimeout(() => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  }, delayMs);
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}

// Opened on first use, so the recording holds each store's connection start-up.
let redis;
async function cache() {
  if (!redis) {
    // RESP3 (node-redis says HELLO 3); no CLIENT SETINFO or MAINT_NOTIFICATIONS at connect: past the
    // handshake the demo's Redis traffic is the catalogue's own commands.
    redis = createClient({ url: 'redis://redis:6379', disableClientInfo: true, maintNotifications: 'disabled' });
    redis.on('error', (err) => process.stderr.write(`redis: ${err.message}\n`));
    await redis.connect();
  }
  return redis;
}

// One connection (a pg.Pool would drop a connection after each failed query and log in again).
let postgres;
async function db() {
  if (!postgres) {
    postgres = new pg.Client({ host: 'postgres', port: 5432, user: 'shop', password: 'shop-demo-password', database: 'shop' });
    await postgres.connect();
  }
  return postgres;
}

const catalogueItems = (page) => Array.from({ length: 5 }, (_, i) => ({ id: `sock-${page * 5 + i}`, name: `Sock ${page * 5 + i}`, price: 7.99 + i }));

const handlers = {
  'front-end': async (req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      const [catalogue, cart] = await Promise.all([call('GET', 'http://catalogue/catalogue?size=5'), call('GET', 'http://carts/carts/57a98d98e4b00679b4a830b2')]);
      return send(res, catalogue.status >= 500 ? 502 : 200, { catalogue: catalogue.status, cart: cart.status });
    }
    if (req.method === 'POST' && req.url === '/orders') {
      const order = await call('POST', 'http://orders/orders', JSON.parse((await readBody(req)) || '{}'));
      return send(res, order.status, JSON.parse(order.body || '{}'));
    }
    if (req.url?.startsWith('/customers/')) {
      const user = await call('GET', `http://user${req.url}`);
      return send(res, user.status, JSON.parse(user.body || '{}'));
    }
    return send(res, 404, { error: 'not found' });
  },
  catalogue: async (req, res) => {
    counter++;
    const redis = await cache();
    const page = counter % 3;
    const key = `catalogue:page:${page}`;
    // A price update every 7th request drops one cached page, so the next read of it misses.
    if (counter % 7 === 0) await redis.del(`catalogue:page:${(page + 1) % 3}`);
    let items = await redis.get(key);
    if (items === null) {
      items = JSON.stringify(catalogueItems(page));
      await redis.set(key, items, { expiration: { type: 'EX', value: 300 } });
    }
    // Views and popularity in one pipelined write (no MULTI).
    await redis.multi().incr('catalogue:views').expire('catalogue:views', 3600).zIncrBy('catalogue:popular', 1, `sock-${counter % 5}`).execAsPipeline();
    if (counter % 9 === 0) {
      // A bug: the view counter is a string, HINCRBY answers WRONGTYPE, and the request fails.
      const error = await redis.hIncrBy('catalogue:views', 'hits', 1).then(() => '', (err) => String(err.message));
      return send(res, 500, { error: error || 'database timeout' }, 40);
    }
    return send(res, 200, JSON.parse(items), 5);
  },
  carts: async (req, res) => {
    counter++;
    if (counter % 7 === 0) return send(res, 404, { error: 'cart not found' });
    return send(res, 200, { customerId: '57a98d98e4b00679b4a830b2', items: [{ itemId: 'sock-1', quantity: 2 }] });
  },
  orders: async (req, res) => {
    const order = JSON.parse((await readBody(req)) || '{}');
    const payment = await call('POST', 'http://payment/paymentAuth', { amount: order.amount ?? 10 });
    const n = ++counter;
    const status = payment.status === 200 ? 'created' : 'declined';
    const insert = 'INSERT INTO orders (ref, customer, amount, status) VALUES ($1, $2, $3, $4) RETURNING id';
    const customer = '57a98d98e4b00679b4a830b2';
    // Every 6th order reuses the previous reference (a client retry): the unique key refuses it, and
    // the order is stored under a fresh one.
    const orders = await db();
    let id;
    try {
      ({ rows: [{ id }] } = await orders.query(insert, [`ord-${n % 6 === 0 ? n - 1 : n}`, customer, order.amount ?? 10, status]));
    } catch {
      ({ rows: [{ id }] } = await orders.query(insert, [`ord-${n}-retry`, customer, order.amount ?? 10, status]));
    }
    if (status !== 'created') return send(res, 406, { error: 'payment declined' });
    const { rows: [totals] } = await orders.query('SELECT count(*) AS orders, sum(amount) AS total FROM orders WHERE customer = $1 AND status = $2', [customer, 'created']);
    return send(res, 201, { id: `order-${id}`, amount: order.amount, status, customerOrders: Number(totals.orders) });
  },
  payment: async (req, res) => {
    const { amount } = JSON.parse((await readBody(req)) || '{}');
    counter++;
    if (amount > 100) return send(res, 402, { authorised: false, message: 'Payment declined: amount exceeds 100' });
    return send(res, 200, { authorised: true }, counter % 5 === 0 ? 350 : 15);
  },
  user: async (req, res) => {
    counter++;
    if (req.url?.endsWith('/0')) return send(res, 401, { error: 'unauthorised' });
    return send(res, 200, { id: req.url?.split('/').pop(), firstName: 'Ada', lastName: 'Lovelace' }, 8);
  },
};

const handler = handlers[service];
if (!handler) throw new Error(`unknown SERVICE ${service}`);
// A store that fails (it should not) answers 500 rather than ending the service mid-recording.
http.createServer((req, res) => void handler(req, res).catch((err) => send(res, 500, { error: String(err.message) }))).listen(port, () => process.stdout.write(`${service} listening on ${port}\n`));
