// One service of the sandbox's demo shop: an HTTP server (PORT) answering JSON, as a small real
// system would, with deterministic misfortune so that filters and the service map have something
// to show (demo-app.ts lists what each call of the front-end gets):
// - SERVICE_NAME=db: the store. GET /items/ID (404 for an unknown item), POST /orders (201; 400 on
//   a body that is not an order), GET /tags, GET /query?q=WORD (a few ms), GET /query?...&scan=full
//   (a full scan: 200-400 ms). With FAIL_EVERY=N every Nth request gets 503 (pool exhausted).
// - with UPSTREAM: the catalogue. Each request makes at most one call to its upstream (the db):
//   /catalogue/item/ID, /catalogue/search?q=, /tags, POST /orders (validated here first: 400
//   without asking the db), anything else a query. The db's 4xx are passed on, its 5xx become 502.
// - otherwise an echo of the request.
// With CALL set it also calls that URL every INTERVAL_MS, like a front-end with users: the calls of
// PLAN (a JSON list of {method, path, body}) in turn, by default four GETs. Logs one line per request.
import http from 'node:http';

const name = process.env.SERVICE_NAME ?? 'service';
const port = Number(process.env.PORT ?? 8080);
const upstream = process.env.UPSTREAM;
const call = process.env.CALL;
const interval = Number(process.env.INTERVAL_MS ?? 1500);
const failEvery = Number(process.env.FAIL_EVERY ?? 0);
const plan = process.env.PLAN
  ? JSON.parse(process.env.PLAN)
  : ['/catalogue', '/catalogue?sort=price', '/catalogue/size', '/tags'].map((path) => ({ method: 'GET', path }));
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** One HTTP call; `body` (any JSON value) is sent as application/json. */
function send(url, method = 'GET', body = undefined) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const req = http.request(url, { method, agent, timeout: 3000, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 65536) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const items = ['socks', 'shoes', 'hat', 'scarf', 'gloves'];
const rows = (q) => items.map((item, id) => ({ id, name: item, price: 5 + id })).filter((r) => r.name.includes(q));
let served = 0;
let orders = 0;

/** The db: [status, body] for one request, after the time the store takes for it. */
async function db(req, url, text) {
  served += 1;
  if (failEvery > 0 && served % failEvery === 0) return [503, { error: 'db: connection pool exhausted, try again' }];
  const item = /^\/items\/(\d+)$/.exec(url.pathname);
  if (item) {
    const row = rows('').find((r) => r.id === Number(item[1]));
    return row ? [200, row] : [404, { error: `no item ${item[1]}` }];
  }
  if (url.pathname === '/orders' && req.method === 'POST') {
    const order = parseJson(text);
    if (!order || typeof order.item !== 'number' || typeof order.qty !== 'number') return [400, { error: 'an order is {"item": ID, "qty": N}' }];
    orders += 1;
    return [201, { order: orders, ...order, state: 'accepted' }];
  }
  if (url.pathname === '/tags') return [200, { tags: ['wool', 'summer', 'sale'] }];
  // A full scan is the slow one (200-400 ms, spread by request); lookups take a few ms.
  await sleep(url.searchParams.get('scan') === 'full' ? 200 + ((served * 53) % 200) : (served * 7) % 12);
  return [200, { rows: rows(url.searchParams.get('q') ?? '') }];
}

/** The catalogue: [status, body], asking the upstream at most once. */
async function catalogue(req, url, text) {
  served += 1;
  const ask = async (path, method = 'GET', body = undefined) => {
    const r = await send(`${upstream}${path}`, method, body);
    const answer = parseJson(r.body) ?? { error: r.body };
    return r.status >= 500 ? [502, { error: `upstream answered ${r.status}`, upstream: answer }] : [r.status, answer];
  };
  const item = /^\/catalogue\/item\/(\d+)$/.exec(url.pathname);
  if (item) return ask(`/items/${item[1]}`);
  if (url.pathname === '/catalogue/search') return ask(`/query?q=${encodeURIComponent(url.searchParams.get('q') ?? '')}&scan=full`);
  if (url.pathname === '/tags') return ask('/tags');
  if (url.pathname === '/orders' && req.method === 'POST') {
    const order = parseJson(text);
    if (!order || !Number.isInteger(order.qty) || order.qty < 1) return [400, { error: 'qty must be a whole number of at least 1' }];
    return ask('/orders', 'POST', { item: order.item, qty: order.qty });
  }
  const word = items[served % items.length].slice(0, 2);
  const [status, answer] = await ask(`/query?q=${word}`);
  return [status, { service: name, path: req.url, upstream: answer }];
}

const server = http.createServer(async (req, res) => {
  const started = Date.now();
  let status = 200;
  let body;
  try {
    const url = new URL(req.url ?? '/', 'http://x');
    const text = await readBody(req);
    if (name === 'db') [status, body] = await db(req, url, text);
    else if (upstream) [status, body] = await catalogue(req, url, text);
    else body = { service: name, path: req.url };
  } catch (err) {
    status = 502;
    body = { error: String(err) };
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  console.log(`${new Date().toISOString()} ${req.method} ${req.url} ${status} ${Date.now() - started}ms`);
});

server.listen(port, '0.0.0.0', () => console.log(`${name} listening on :${port}`));

if (call) {
  let n = 0;
  setInterval(async () => {
    const { method, path, body } = plan[n++ % plan.length];
    const url = `${call}${path}`;
    try {
      const r = await send(url, method, body);
      console.log(`${new Date().toISOString()} called ${method} ${url}: ${r.status}`);
    } catch (err) {
      console.log(`${new Date().toISOString()} called ${method} ${url}: ${err.message}`);
    }
  }, interval);
}

process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
