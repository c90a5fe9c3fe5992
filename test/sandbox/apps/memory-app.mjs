// An app whose memory a test sets: an HTTP server (PORT) answering any request with a small JSON
// body, that holds as much memory as the last `POST /hold?mb=N` asked for (pages written, so the
// kernel charges them to the pod) and answers it with what it holds. Logs one line per request.
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
let held = [];
let heldMb = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST' && url.pathname === '/hold') {
    const mb = Math.max(0, Math.floor(Number(url.searchParams.get('mb') ?? '0')));
    // Grown a MiB at a time (non-zero fill: every page is touched), or let go at once.
    if (mb < heldMb) held = held.slice(0, mb);
    while (held.length < mb) held.push(Buffer.alloc(1024 * 1024, 0x5a));
    heldMb = held.length;
  }
  const text = JSON.stringify({ path: url.pathname, heldMb });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  console.log(`${new Date().toISOString()} ${req.method} ${req.url} holding ${heldMb} MiB`);
});

server.listen(port, '0.0.0.0', () => console.log(`memory app listening on :${port}`));
