/**
 * HTTP/2 and gRPC entries through `kubectl shark read` of NDJSON written with redaction off (as
 * `read --no-redact -o json` or a `tap --no-redact` of a gRPC service writes them): the real CLI
 * redacts every secret the entries carry, in `:path`, `:authority`, headers, trailers, decoded
 * messages with and without a schema, and the raw protobuf bytes of a side that held one; it keeps
 * every neighbour; reading its output again changes nothing; `--no-redact` keeps them all.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { buildGrpcEntry, buildHttp2Entry, rawMessage, schemaMessage } from '../helpers/entries.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';
import { skipFor } from '../helpers/requirements.ts';
import { requireBuild } from '../helpers/tap.ts';

const skip = skipFor(requireBuild());

const SECRETS = ['path-token-1', 'authority-pw-2', 'bearer-3', 'trailer-key-4', 'json-password-5', 'json-apikey-6', 'field-token-7', 'field-key-block-8'];
const NEIGHBOURS = ['page-two', 'shop.v1.Cart', 'AddItem', 'alice', 'sku-A1', 'x-checksum-ok'];

function entries(): HttpEntry[] {
  const secretBytes = Buffer.from('\n\x0cjson-password-5').toString('base64');
  const schema = buildGrpcEntry({
    id: '1-0', service: 'shop.v1.Cart', rpc: 'AddItem', authority: 'svc:authority-pw-2@carts:50051',
    requestHeaders: { authorization: 'Bearer bearer-3', 'content-type': 'application/grpc' },
    requestMessages: [schemaMessage({ cart: { owner: 'alice' }, password: 'json-password-5', item: { sku: 'sku-A1', apiKey: 'json-apikey-6' } }, 'shop.v1.AddItemRequest')],
    trailers: { 'grpc-status': '0', 'x-api-key': 'trailer-key-4', 'x-checksum': 'x-checksum-ok' },
  });
  schema.request.postData = { mimeType: 'application/grpc', text: secretBytes, encoding: 'base64' };
  const raw = buildGrpcEntry({
    id: '1-1', rpc: 'AddItem', timestampUs: 1_700_000_001_000_000,
    responseMessages: [rawMessage([
      { no: 1, wire: 'len', string: 'sku-A1' },
      { no: 2, wire: 'len', message: [{ no: 1, wire: 'len', string: '{"token":"field-token-7"}' }] },
      { no: 3, wire: 'len', string: '-----BEGIN PRIVATE KEY-----\nfield-key-block-8\n-----END PRIVATE KEY-----' },
    ])],
  });
  const h2 = buildHttp2Entry({ id: '1-2', url: '/feed?page=page-two&token=path-token-1', timestampUs: 1_700_000_002_000_000 });
  return [schema, raw, h2];
}

test('read of HTTP/2 and gRPC NDJSON: every secret redacted, neighbours kept, idempotent; --no-redact keeps them', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shark-grpc-redact-'));
  try {
    const file = join(dir, 'unredacted.ndjson');
    const input = entries().map((e) => JSON.stringify(e)).join('\n') + '\n';
    for (const secret of SECRETS) assert.ok(input.includes(secret) || input.includes(Buffer.from(secret).toString('base64').slice(0, 8)), `the input carries ${secret}`);
    writeFileSync(file, input);

    const res = await runShark(['read', file, '-o', 'json']);
    assert.equal(res.code, 0, res.stderr);
    for (const secret of SECRETS) assert.ok(!res.stdout.includes(secret), `${secret} left the CLI`);
    assert.ok(!res.stdout.includes(Buffer.from('\n\x0cjson-password-5').toString('base64')), 'the raw bytes of the side that held a secret');
    for (const neighbour of NEIGHBOURS) assert.ok(res.stdout.includes(neighbour), `${neighbour} is kept`);
    const out = parseNdjson<HttpEntry>(res.stdout);
    assert.equal(out.length, 3);
    assert.equal(out[0]!.request.headers[':authority'], 'svc:[REDACTED]@carts:50051');
    assert.equal(out[2]!.request.headers[':path'], '/feed?page=page-two&token=[REDACTED]');
    assert.equal(out[1]!.response!.content.text, '[REDACTED]', 'raw response bytes of the call whose decoded message lost a secret');

    const again = join(dir, 'redacted.ndjson');
    writeFileSync(again, res.stdout);
    const second = await runShark(['read', again, '-o', 'json']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, res.stdout, 'redacting redacted output changes nothing');

    const open = await runShark(['read', file, '-o', 'json', '--no-redact']);
    assert.equal(open.code, 0, open.stderr);
    for (const secret of SECRETS) assert.ok(open.stdout.includes(secret), `--no-redact keeps ${secret}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
