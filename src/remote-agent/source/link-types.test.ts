import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSupportedLinkType, linkTypeName } from './link-types.ts';

test('the link types the decoder handles are supported, others are not', () => {
  for (const t of [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]) assert.equal(isSupportedLinkType(t), true, `type ${t}`);
  for (const t of [2, 9, 105, 127, 147, 189, 65535]) assert.equal(isSupportedLinkType(t), false, `type ${t}`);
});

test('link type names: LINKTYPE_ names when known, LINKTYPE_<n> when not', () => {
  assert.equal(linkTypeName(1), 'LINKTYPE_ETHERNET');
  assert.equal(linkTypeName(113), 'LINKTYPE_LINUX_SLL');
  assert.equal(linkTypeName(276), 'LINKTYPE_LINUX_SLL2');
  assert.equal(linkTypeName(105), 'LINKTYPE_IEEE802_11');
  assert.equal(linkTypeName(4242), 'LINKTYPE_4242');
});
