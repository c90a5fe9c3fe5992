import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry, EntryErrorType } from '../../model/entry.ts';
import { HTTP1_1 } from '../../remote-agent/dissect/http1/entry.ts';
import { formatEntryLine } from './text-line.ts';

function entry(over: { method: string; url: string; srcName: string; errorType?: string }): Entry {
  return {
    id: '1-0',
    protocol: HTTP1_1,
    src: { ip: '10.0.0.1', port: 40000, name: over.srcName, namespace: '' },
    dst: { ip: '10.0.0.2', port: 80, name: '', namespace: '' },
    timestamp: 1_764_000_000_000,
    startTime: '2025-11-24T16:00:00.000000Z',
    elapsedTime: 1.5,
    requestSize: 10,
    responseSize: 0,
    tls: false,
    request: { method: over.method, url: over.url, path: over.url, httpVersion: 'HTTP/1.1', headers: {}, cookies: {}, queryString: {}, postData: null, headersSize: 10, bodySize: 0 },
    response: null,
    // NDJSON input can hold any text where the model has a union.
    error: { type: (over.errorType ?? 'pair-not-found') as EntryErrorType, msg: '' },
  };
}

test('read -o text: one display-safe line whatever the entry holds', () => {
  const line = formatEntryLine(entry({ method: "G'|id|'\u009b", url: '/a\u001b]0;pwned\u0007b\nX\r\u007f', srcName: 'n\u001b]52;c;aWQ=\u0007', errorType: 'e\u0085' }));
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/);
  assert.equal(line, "16:00:00.000  n\\u001b]52;c;aWQ=\\u0007:40000 -> 10.0.0.2:80  G'|id|'\\u009b  /a\\u001b]0;pwned\\u0007b\\u000aX\\u000d\\u007f  e\\u0085  1.5ms  ");
});
