/**
 * Adversarial HTTP/1.x conversations: grammar that is almost right (bad Content-Length, chunk
 * sizes, header floods, broken encodings) plus random byte damage to otherwise valid messages.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import type { Prng } from '../bench/prng.ts';
import type { Exchange } from './tcp-capture.ts';

const enc = new TextEncoder();
const s = (text: string): Uint8Array => enc.encode(text);

function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bufs = parts.map((p) => (typeof p === 'string' ? s(p) : p));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bufs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

const BAD_LENGTHS = ['-1', 'abc', '99999999999999999999', '1e3', ' 12', '0x10', '12, 13', '4294967296', '9007199254740993', '', '+5', '5 5', '١٢'];
const BAD_CHUNKS = ['ffffffffffffffff', '-1', 'zz', '1;ext="a"', '7fffffff', '', ' 10', '0x10', '10000000000000000000000', '4\r\nab'];

let gzipBombCache: Uint8Array | undefined;
/** 8 MiB of zeros, gzip-compressed to a few KiB. */
function gzipBomb(): Uint8Array {
  gzipBombCache ??= new Uint8Array(gzipSync(new Uint8Array(8 * 1024 * 1024), { level: 9 }));
  return gzipBombCache;
}

function request(rng: Prng, extra = '', body: Uint8Array | string = ''): Uint8Array {
  const m = rng.pick(['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'PATCH', 'DELETE', 'CONNECT', 'M-SEARCH', 'PRI']);
  return cat(`${m} /x/${rng.int(0, 99)}?a=${rng.int(0, 9)}&a=2&b HTTP/1.1\r\nHost: svc\r\n${extra}\r\n`, body);
}

function response(status: number, extra: string, body: Uint8Array | string = ''): Uint8Array {
  return cat(`HTTP/1.1 ${status} X\r\n${extra}\r\n`, body);
}

type Template = (rng: Prng) => { name: string; exchanges: Exchange[] };

export const TEMPLATES: readonly Template[] = [
  (rng) => {
    const cl = rng.pick(BAD_LENGTHS);
    return { name: `bad-content-length(${JSON.stringify(cl)})`, exchanges: [{ client: request(rng, `Content-Length: ${cl}\r\n`, 'hello world'), server: response(200, `Content-Length: ${rng.pick(BAD_LENGTHS)}\r\n`, 'body bytes') }, { client: request(rng), server: response(200, 'Content-Length: 2\r\n', 'ok') }] };
  },
  (rng) => ({
    name: 'conflicting-content-lengths',
    exchanges: [{ client: request(rng, 'Content-Length: 3\r\nContent-Length: 300\r\n', 'abc'), server: response(200, 'Content-Length: 1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n') }],
  }),
  (rng) => {
    const size = rng.pick(BAD_CHUNKS);
    return { name: `bad-chunk-size(${JSON.stringify(size)})`, exchanges: [{ client: request(rng), server: response(200, 'Transfer-Encoding: chunked\r\n', `5\r\nhello\r\n${size}\r\nsome data\r\n0\r\n\r\n`) }, { client: request(rng), server: response(404, 'Content-Length: 0\r\n') }] };
  },
  (rng) => ({
    name: 'chunked-trailer-flood',
    exchanges: [{ client: request(rng), server: response(200, 'Transfer-Encoding: chunked\r\n', `3\r\nabc\r\n0\r\n${'X-Trailer: v\r\n'.repeat(rng.int(100, 20000))}\r\n`) }],
  }),
  (rng) => ({
    name: 'header-flood',
    exchanges: [{ client: request(rng, `X-H: ${'v'.repeat(10)}\r\n`.repeat(rng.int(1000, 20000))), server: response(200, `Set-Cookie: a${rng.int(0, 9)}=b; Path=/\r\n`.repeat(rng.int(100, 5000)) + 'Content-Length: 0\r\n') }],
  }),
  (rng) => ({
    name: 'huge-header-line',
    exchanges: [{ client: request(rng, `Cookie: ${'a=b; '.repeat(rng.int(1000, 200_000))}\r\n`), server: response(200, `X-Long: ${'z'.repeat(rng.int(10_000, 500_000))}\r\nContent-Length: 0\r\n`) }],
  }),
  (rng) => ({
    name: 'never-ending-headers',
    exchanges: [{ client: cat('GET / HTTP/1.1\r\n', 'X-A: b\r\n'.repeat(rng.int(10_000, 100_000))), server: new Uint8Array(0) }],
  }),
  (rng) => ({
    name: 'huge-url-and-query',
    exchanges: [{ client: cat(`GET /${'p/'.repeat(rng.int(100, 50_000))}?${Array.from({ length: rng.int(10, 5000) }, (_, i) => `k${i % 7}=%zz%${i}`).join('&')} HTTP/1.1\r\nHost: h\r\n\r\n`), server: response(200, 'Content-Length: 0\r\n') }],
  }),
  (rng) => {
    const kind = rng.pick(['gzip', 'deflate', 'br', 'zstd', 'gzip, gzip', 'identity', 'x-unknown']);
    const body = rng.chance(0.5) ? rng.bytes(rng.int(0, 3000)) : new Uint8Array(gzipSync(s('{"a":1}'.repeat(200)))).subarray(0, rng.int(0, 60));
    return { name: `broken-content-encoding(${kind})`, exchanges: [{ client: request(rng), server: response(200, `Content-Encoding: ${kind}\r\nContent-Length: ${body.length}\r\n`, body) }] };
  },
  (rng) => {
    const bomb = gzipBomb();
    return { name: 'gzip-bomb-8MiB', exchanges: [{ client: request(rng), server: response(200, `Content-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n`, bomb) }, { client: request(rng, 'Content-Encoding: deflate\r\nContent-Length: 0\r\n'), server: response(200, `Content-Encoding: deflate\r\nContent-Length: ${deflateSync(new Uint8Array(100_000)).length}\r\n`, new Uint8Array(deflateSync(new Uint8Array(100_000)))) }] };
  },
  (rng) => ({
    name: 'orphan-responses-and-1xx',
    exchanges: [
      { client: new Uint8Array(0), server: response(200, 'Content-Length: 3\r\n', 'abc') },
      { client: request(rng, 'Expect: 100-continue\r\nContent-Length: 4\r\n', 'data'), server: cat(response(100, ''), response(102, ''), response(103, 'Link: </a>\r\n'), response(200, 'Content-Length: 0\r\n')) },
      { client: new Uint8Array(0), server: response(204, 'Content-Length: 5\r\n', 'stray') },
    ],
  }),
  (rng) => ({
    name: 'head-and-304-with-length',
    exchanges: [
      { client: cat('HEAD / HTTP/1.1\r\nHost: h\r\n\r\n'), server: response(200, 'Content-Length: 123456\r\n') },
      { client: request(rng), server: response(304, 'Content-Length: 99\r\n') },
      { client: request(rng), server: response(200, 'Content-Length: 1\r\n', 'x') },
    ],
  }),
  (rng) => {
    const n = rng.int(2, 200);
    let reqs = '';
    let resps = '';
    for (let i = 0; i < n; i++) {
      reqs += `GET /p${i} HTTP/1.1\r\nHost: h\r\n\r\n`;
      if (rng.chance(0.9)) resps += `HTTP/1.1 200 OK\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`;
    }
    return { name: `pipelined-${n}`, exchanges: [{ client: s(reqs), server: s(resps) }] };
  },
  (rng) => ({
    name: 'weird-start-lines',
    exchanges: [
      { client: s(rng.pick(['GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', ' / HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1 extra\r\n\r\n', 'G\x00T / HTTP/1.1\r\n\r\n', 'GET /\n\n', 'GET http://h:99999/x HTTP/1.1\r\n\r\n'])), server: s(rng.pick(['HTTP/1.1 999999999999 X\r\n\r\n', 'HTTP/1.1 -5 Y\r\n\r\n', 'HTTP/1.1\r\n\r\n', 'HTTP/2 200\r\n\r\n', 'HTTP/1.1 200\n\n', 'HTTP/1.0 200 OK\r\n\r\nbody until close'])) },
      { client: request(rng), server: response(200, 'Content-Length: 0\r\n') },
    ],
  }),
  (rng) => ({
    name: 'upgrade-then-binary',
    exchanges: [{ client: cat('GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', rng.bytes(rng.int(0, 4000))), server: cat('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', rng.bytes(rng.int(0, 4000))) }],
  }),
  (rng) => ({
    name: 'connect-tunnel',
    exchanges: [{ client: cat('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n', rng.bytes(rng.int(0, 3000))), server: cat('HTTP/1.1 200 Connection established\r\n\r\n', rng.bytes(rng.int(0, 3000))) }],
  }),
  (rng) => ({
    name: 'obs-fold-nul-and-bad-utf8',
    exchanges: [{ client: cat('POST /a HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n  b\r\n\tc\r\nNoColon\r\n: empty-name\r\nX-Nul: a\x00b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\n', new Uint8Array([0xff, 0xfe, 0xc3, 0x28])), server: response(200, `Content-Type: application/json\r\nSet-Cookie: =\r\nSet-Cookie: ;;;\r\nContent-Length: 3\r\n`, new Uint8Array([0xed, 0xa0, 0x80])) }],
  }),
  (rng) => ({
    name: 'body-until-close-and-random-tail',
    exchanges: [{ client: request(rng), server: cat('HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n', rng.bytes(rng.int(0, 20_000))) }, { client: rng.bytes(rng.int(0, 500)), server: rng.bytes(rng.int(0, 500)) }],
  }),
];

/** A plausible exchange to damage byte-wise. */
export function validExchange(rng: Prng): Exchange {
  const body = s(JSON.stringify({ id: rng.int(0, 1000), items: Array.from({ length: rng.int(0, 40) }, (_, i) => ({ i, v: rng.hex(6) })) }));
  const gz = rng.chance(0.3);
  const chunked = rng.chance(0.4);
  const payload = gz ? new Uint8Array(gzipSync(body)) : body;
  let framed: Uint8Array;
  if (chunked) {
    const parts: (Uint8Array | string)[] = [];
    for (let o = 0; o < payload.length; ) {
      const n = Math.min(payload.length - o, rng.int(1, 300));
      parts.push(`${n.toString(16)}\r\n`, payload.subarray(o, o + n), '\r\n');
      o += n;
    }
    parts.push('0\r\n\r\n');
    framed = cat(...parts);
  } else {
    framed = payload;
  }
  const head = `Content-Type: application/json\r\n${gz ? 'Content-Encoding: gzip\r\n' : ''}${chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${payload.length}\r\n`}`;
  const post = rng.chance(0.4);
  return {
    client: post ? request(rng, `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`, body) : request(rng),
    server: response(rng.pick([200, 201, 404, 500]), head, framed),
  };
}

/** Random byte-level damage to one message: flips, CR/LF insertion, deletions, duplications. */
export function damageBytes(rng: Prng, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  if (bytes.length === 0) return { bytes, what: 'none' };
  const kind = rng.int(0, 4);
  const b = bytes.slice();
  switch (kind) {
    case 0: {
      const n = rng.int(1, 8);
      for (let i = 0; i < n; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return { bytes: b, what: `flip${n}` };
    }
    case 1: {
      const at = rng.int(0, b.length);
      return { bytes: cat(b.subarray(0, at), rng.pick(['\r\n', '\n', '\r\n\r\n', '\r', ':', '0\r\n\r\n']), b.subarray(at)), what: `insert@${at}` };
    }
    case 2: {
      const at = rng.int(0, b.length - 1);
      const n = rng.int(1, Math.min(64, b.length - at));
      return { bytes: cat(b.subarray(0, at), b.subarray(at + n)), what: `delete${n}@${at}` };
    }
    case 3: {
      const at = rng.int(0, b.length - 1);
      const n = rng.int(1, Math.min(200, b.length - at));
      return { bytes: cat(b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)), what: `dup${n}@${at}` };
    }
    default: {
      const at = rng.int(0, b.length);
      return { bytes: b.subarray(0, at), what: `cut@${at}` };
    }
  }
}
