/**
 * Quick timing of EntryRedactor.redact (not a test): a typical small JSON API entry, then a page
 * entry (a 5 KB HTML response with a login form, scanned by the markup scanner):
 *   node --import tsx src/remote-agent/redact/test-bench-redact.ts
 */
import type { HttpEntry as Entry } from '../../remote-agent/dissect/http1/entry.ts';
import { HTTP1_1 } from '../dissect/http1/entry.ts';
import { EntryRedactor } from './index.ts';

function typicalEntry(i: number): Entry {
  const reqBody = `{"name":"widget-${i}","qty":3,"tags":["a","b"],"owner":{"id":42,"email":"x@y.z"},"password":"hunter2"}`;
  const resBody = `{"id":${i},"status":"created","items":[{"sku":"A1","price":9.5},{"sku":"B2","price":1}],"token":"abc.def"}`;
  return {
    id: `${i}-0`,
    protocol: HTTP1_1,
    src: { ip: '10.0.0.1', port: 40000, name: '', namespace: '' },
    dst: { ip: '10.0.0.2', port: 8080, name: '', namespace: '' },
    timestamp: 1700000000000,
    startTime: '2023-11-14T22:13:20.000000Z',
    elapsedTime: 3.2,
    requestSize: 400,
    responseSize: 300,
    tls: false,
    request: {
      method: 'POST',
      url: `/api/v1/orders?page=${i % 7}&limit=20`,
      path: '/api/v1/orders',
      httpVersion: 'HTTP/1.1',
      headers: {
        Host: 'orders.default.svc',
        'User-Agent': 'Go-http-client/1.1',
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'Content-Length': String(reqBody.length),
        Authorization: 'Bearer abc',
        'X-Request-Id': `req-${i}`,
      },
      cookies: {},
      queryString: { page: String(i % 7), limit: '20' },
      postData: { mimeType: 'application/json', text: reqBody },
      headersSize: 250,
      bodySize: reqBody.length,
    },
    response: {
      status: 201,
      statusText: 'Created',
      httpVersion: 'HTTP/1.1',
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(resBody.length), Date: 'Tue, 14 Nov 2023 22:13:20 GMT' },
      cookies: {},
      content: { size: resBody.length, mimeType: 'application/json; charset=utf-8', text: resBody },
      headersSize: 120,
      bodySize: resBody.length,
    },
    error: null,
  };
}

/** A GET of an HTML page of about 5 KB: navigation, a table, a login form with a CSRF input. */
function pageEntry(i: number): Entry {
  const rows = Array.from({ length: 60 }, (_, r) => `<tr class="row"><td><a href="/item/${r}?ref=list">Item ${r}</a></td><td>${r * 3}</td></tr>`).join('\n');
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><meta name="csrf-token" content="tok-${i}"><title>Shop</title>` +
    `<link rel="stylesheet" href="/s.css"></head><body><nav><a href="/">Home</a> <a href="/cart">Cart</a></nav>` +
    `<table>${rows}</table><form method="post" action="/login"><input type="hidden" name="csrf_token" value="c-${i}">` +
    `<input name="email" type="email"><input name="password" type="password"><button>Sign in</button></form>` +
    `<script>window.__STATE__ = {"page":"list","n":${i}};</script></body></html>`;
  const e = typicalEntry(i);
  e.request.method = 'GET';
  e.request.postData = null;
  e.request.url = `/shop?page=${i % 7}`;
  e.response!.content = { size: html.length, mimeType: 'text/html; charset=utf-8', text: html };
  return e;
}

// Entries are built in small batches outside the timed part: the agent redacts short-lived
// entries one at a time, so a 200k-entry heap would mostly time the garbage collector.
function bench(name: string, make: (i: number) => Entry, batches: number): void {
  const BATCH = 1000;
  const redactor = new EntryRedactor();
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    let ns = 0;
    for (let b = 0; b < batches; b++) {
      const entries = Array.from({ length: BATCH }, (_, i) => make(b * BATCH + i));
      const start = process.hrtime.bigint();
      for (const e of entries) redactor.redact(e);
      ns += Number(process.hrtime.bigint() - start);
    }
    const us = ns / (BATCH * batches) / 1000;
    best = Math.min(best, us);
    console.log(`${name} round ${round}: ${us.toFixed(2)} µs per redact()`);
  }
  console.log(`${name} best: ${best.toFixed(2)} µs per redact()`);
}

bench('json-api', typicalEntry, 300);
bench('html-page', pageEntry, 20);
