import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEntry } from '../../../test/helpers/entries.ts';
import type { Entry, EntryErrorType } from '../../model/entry.ts';
import { formatEntryLine } from './text-line.ts';

function entry(over: { method: string; url: string; srcName: string; errorType?: string }): Entry {
  return buildEntry({
    id: '1-0',
    src: { name: over.srcName },
    timestampUs: 1_764_000_000_000_000,
    elapsedMs: 1.5,
    method: over.method,
    url: over.url,
    path: over.url,
    queryString: {},
    requestHeadersSize: 10,
    status: null,
    // NDJSON input can hold any text where the model has a union.
    error: { type: (over.errorType ?? 'pair-not-found') as EntryErrorType, msg: '' },
  });
}

test('read -o text: one display-safe line whatever the entry holds', () => {
  const line = formatEntryLine(entry({ method: "G'|id|'\u009b", url: '/a\u001b]0;pwned\u0007b\nX\r\u007f', srcName: 'n\u001b]52;c;aWQ=\u0007', errorType: 'e\u0085' }));
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/);
  assert.equal(line, "16:00:00.000  n\\u001b]52;c;aWQ=\\u0007:40000 -> 10.0.0.2:80  G'|id|'\\u009b  /a\\u001b]0;pwned\\u0007b\\u000aX\\u000d\\u007f  e\\u0085  1.5ms  ");
});
