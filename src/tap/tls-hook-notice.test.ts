import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentFrame } from '../remote-agent/wire/protocol.ts';
import { TlsHookReports, tlsHookLine } from './tls-hook-notice.ts';

const source = { namespace: 'shop', pod: 'web' };
const report = (code: string, message: string): AgentFrame => ({ type: 'warning', code, message }) as unknown as AgentFrame;

test("an agent's TLS hook report is one line named by pod; hostile process names cannot break it or reach the terminal raw", () => {
  assert.equal(
    tlsHookLine(source, report('TLS_HOOKED', 'pid 7 (nginx): libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write, SSL_read_ex, SSL_write_ex')),
    'pod shop/web: TLS hooked: pid 7 (nginx): libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write, SSL_read_ex, SSL_write_ex',
  );
  assert.equal(
    tlsHookLine(source, report('TLS_NOT_HOOKED', 'pid 9 (server): Go binary is stripped (no symbol table): crypto/tls cannot be found')),
    'pod shop/web: TLS not hooked: pid 9 (server): Go binary is stripped (no symbol table): crypto/tls cannot be found',
  );
  const hostile = tlsHookLine(source, report('TLS_NOT_HOOKED', 'pid 3 (x\n\u001b]0;owned\u0007\r): no libssl'))!;
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(hostile), JSON.stringify(hostile));
  assert.match(hostile, /pid 3 \(x\\u000a\\u001b\]0;owned\\u0007\\u000d\): no libssl$/);
  assert.ok(tlsHookLine(source, report('TLS_HOOKED', 'x'.repeat(100_000)))!.length < 500, 'bounded');
  // Other frames are not hook reports.
  assert.equal(tlsHookLine(source, report('KERNEL_DROPS', 'x')), null);
  assert.equal(tlsHookLine(source, { type: 'bye', reason: 'stop' }), null);
});

test('each hook report is printed once per pod, also when a restarted agent reports it again', () => {
  const reports = new TlsHookReports();
  const frame = report('TLS_HOOKED', 'pid 7 (nginx): libssl.so.3');
  assert.equal(reports.line(source, frame), 'pod shop/web: TLS hooked: pid 7 (nginx): libssl.so.3');
  assert.equal(reports.line(source, frame), null);
  assert.equal(reports.line({ namespace: 'shop', pod: 'api' }, frame), 'pod shop/api: TLS hooked: pid 7 (nginx): libssl.so.3');
  assert.equal(reports.line(source, report('KERNEL_DROPS', 'x')), null);
  assert.ok(TlsHookReports.isReport(frame));
  assert.ok(!TlsHookReports.isReport(report('KERNEL_DROPS', 'x')));
});
