// One service of the sandbox's demo shop: an HTTP server (PORT) that, for each request, asks its
// upstream (UPSTREAM, optional) and answers JSON; with CALL set it also calls that URL every
// INTERVAL_MS, like a front-end with users. Logs one line per request.
import http from 'node:http';

const name = process.env.SERVICE_NAME ?? 'service';
const port = Number(process.env.PORT ?? 8080);
const upstream = process.env.UPSTREAM;
const call = process.env.CALL;
const interval = Number(process.env.INTERVAL_MS ?? 1500);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 3000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const items = ['socks', 'shoes', 'hat', 'scarf', 'gloves'];

const server = http.createServer(async (req, res) => {
  const started = Date.now();
  let status = 200;
  let body;
  try {
    if (name === 'db') {
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? '';
      body = { rows: items.filter((i) => i.includes(q)).map((i, id) => ({ id, name: i, price: 5 + id })) };
    } else if (upstream) {
      const word = items[Math.floor(Math.random() * items.length)].slice(0, 2);
      const r = await get(`${upstream}/query?q=${word}`);
      status = r.status === 200 ? 200 : 502;
      body = { service: name, path: req.url, upstream: JSON.parse(r.body) };
    } else {
      body = { service: name, path: req.url };
    }
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
  const paths = ['/catalogue', '/catalogue?sort=price', '/catalogue/size', '/tags'];
  let n = 0;
  setInterval(async () => {
    const url = `${call}${paths[n++ % paths.length]}`;
    try {
      const r = await get(url);
      console.log(`${new Date().toISOString()} called ${url}: ${r.status}`);
    } catch (err) {
      console.log(`${new Date().toISOString()} called ${url}: ${err.message}`);
    }
  }, interval);
}

process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
