// One process per demo service (the role comes from SERVICE). Plain node:http so the recording is
// ordinary HTTP/1.1: keep-alive between services, JSON bodies, some errors and some slow calls.
import http from 'node:http';

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
    if (counter % 9 === 0) return send(res, 500, { error: 'database timeout' }, 40);
    return send(res, 200, Array.from({ length: 5 }, (_, i) => ({ id: `sock-${i}`, name: `Sock ${i}`, price: 7.99 + i })), 5);
  },
  carts: async (req, res) => {
    counter++;
    if (counter % 7 === 0) return send(res, 404, { error: 'cart not found' });
    return send(res, 200, { customerId: '57a98d98e4b00679b4a830b2', items: [{ itemId: 'sock-1', quantity: 2 }] });
  },
  orders: async (req, res) => {
    const order = JSON.parse((await readBody(req)) || '{}');
    const payment = await call('POST', 'http://payment/paymentAuth', { amount: order.amount ?? 10 });
    if (payment.status !== 200) return send(res, 406, { error: 'payment declined' });
    return send(res, 201, { id: `order-${++counter}`, amount: order.amount, status: 'created' });
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
http.createServer((req, res) => void handler(req, res)).listen(port, () => process.stdout.write(`${service} listening on ${port}\n`));
