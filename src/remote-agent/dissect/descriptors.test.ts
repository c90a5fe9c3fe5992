/**
 * The registry of protocol descriptors: one per protocol of the Entry union, found by the entry's
 * `protocol.name`, one meaning per KFL name across all of them, and one for every dissector.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeVocabulary } from '../../kfl/fields.ts';
import type { Entry } from '../../model/entry.ts';
import { DESCRIPTORS, DESCRIPTOR_LIST, descriptorOf, dissectedProtocols, protocolLabel, representEntry, summarizeEntry, type DescriptorRegistry } from './descriptors.ts';
import { http1Dissector } from './http1/index.ts';
import { httpDescriptor } from './http1/descriptor.ts';
import type { DnsEntry } from './dns/entry.ts';
import type { ProtocolVariant } from '../../model/protocol-descriptor.ts';
import { withVariants } from '../../model/protocol-variants.ts';
import { makeEntry } from '../../../test/helpers/tui-store.ts';

test('every descriptor is registered under the protocol name of its entries, frozen', () => {
  assert.ok(Object.isFrozen(DESCRIPTORS));
  for (const [name, descriptor] of Object.entries(DESCRIPTORS)) {
    assert.equal(descriptor.name, name);
    assert.ok(Object.isFrozen(descriptor), name);
  }
  assert.deepEqual(DESCRIPTOR_LIST.map((d) => d.name), Object.keys(DESCRIPTORS));
});

test('the registry is exhaustive by type: a protocol of the Entry union without its line does not compile', () => {
  // @ts-expect-error: property 'http' is missing (tsc --noEmit checks this line)
  const missing: DescriptorRegistry = {};
  // @ts-expect-error: a descriptor of other entries under the http name
  const wrong: DescriptorRegistry = { http: { ...DESCRIPTORS.http, name: 'dns' } };
  assert.ok(missing !== undefined && wrong !== undefined);
});

test('the agent advertises the registered protocols of its dissectors; labels are the abbreviations', () => {
  assert.deepEqual(dissectedProtocols([http1Dissector]), ['http']);
  assert.deepEqual(dissectedProtocols([{ protocol: 'not-registered' }]), []);
  assert.equal(protocolLabel('http'), 'HTTP');
  assert.equal(protocolLabel('nope'), 'nope');
});

test('every dissector emits entries of a registered protocol', () => {
  for (const dissector of [http1Dissector]) assert.ok(dissector.protocol in DESCRIPTORS, `${dissector.id}: ${dissector.protocol}`);
});

test('descriptorOf finds the descriptor by protocol.name; other and garbage entries have none', () => {
  const entry = makeEntry();
  assert.equal(descriptorOf(entry), DESCRIPTORS.http);
  const other = (protocol: unknown): Entry => ({ ...makeEntry(), protocol }) as unknown as Entry;
  for (const protocol of [{ name: 'ldap', version: '3', abbr: 'LDAP' }, { name: 'toString' }, { name: '__proto__' }, null, 'http', {}]) {
    assert.equal(descriptorOf(other(protocol)), undefined, JSON.stringify(protocol));
  }
  for (const garbage of [null, undefined, 5, 'x', []]) assert.equal(descriptorOf(garbage as unknown as Entry), undefined);
});

test('an entry no descriptor reads gets an empty row and no detail sections, never an exception', () => {
  const ldap = { ...makeEntry(), protocol: { name: 'ldap', version: '3', abbr: 'LDAP' }, request: { type: 'bindRequest' } } as unknown as Entry;
  assert.deepEqual(summarizeEntry(ldap), { verb: '', target: '', outcome: '', outcomeClass: 'none', isError: false });
  assert.deepEqual(representEntry(ldap), []);
  // Claims to be HTTP, but its response has no content (NDJSON input can hold anything).
  const broken = { ...makeEntry(), response: { status: 200 } } as unknown as Entry;
  assert.equal(summarizeEntry(broken).verb, '');
  assert.deepEqual(representEntry(broken), []);
});

test('no KFL word or variable is defined twice across the descriptors and the envelope', () => {
  const names = DESCRIPTOR_LIST.flatMap((d) => [...d.kfl.words.map((w) => w.word), ...d.kfl.variables.map((v) => v.name)]);
  assert.equal(new Set(names).size, names.length, names.join(', '));
  assert.doesNotThrow(() => mergeVocabulary(DESCRIPTOR_LIST));
});

test('a duplicate KFL name is rejected, naming both owners', () => {
  const http = DESCRIPTORS.http;
  const copy = { name: 'copy', kfl: { words: [http.kfl.words[0]!], variables: [] } };
  assert.throws(() => mergeVocabulary([http, copy]), /KFL name "http" is defined by protocol "http" and by protocol "copy"/);
  const clash = { name: 'clash', kfl: { words: [], variables: [{ name: 'elapsed_time', kind: 'path' as const, path: 'x' }] } };
  assert.throws(() => mergeVocabulary([clash]), /"elapsed_time" is defined by the envelope and by protocol "clash"/);
  // A name reserved for a protocol we do not dissect yet gives way to the descriptor that defines it.
  const dns = { name: 'dns', kfl: { words: [{ word: 'dns', matches: () => true }], variables: [{ name: 'dns_questions', kind: 'path' as const, path: 'request.questions' }] } };
  const merged = mergeVocabulary([dns]);
  assert.equal(merged.words.get('dns')!({ protocol: { name: 'x' } }), true);
  assert.deepEqual(merged.aliases.get('dns_questions'), { kind: 'path', path: ['request', 'questions'] });
});

test('a variant composes with its family only when it reads what the family entries hold (tsc checks)', () => {
  const dnsOnly: ProtocolVariant<DnsEntry> = { abbr: 'x', appliesTo: () => false };
  // @ts-expect-error: a variant of DNS entries does not compose with HTTP's descriptor
  const wrong = withVariants(httpDescriptor, [dnsOnly]);
  assert.ok(wrong !== undefined);
  // What the registry lists under "http" is HTTP composed with gRPC: its row, words and redaction.
  assert.notEqual(DESCRIPTORS.http, httpDescriptor);
  assert.ok(Object.isFrozen(DESCRIPTORS.http.kfl));
  assert.deepEqual(DESCRIPTORS.http.kfl.words.map((w) => w.word).filter((w) => w === 'grpc' || w === 'http2'), ['http2', 'grpc']);
  assert.equal(withVariants(httpDescriptor, []), httpDescriptor, 'no variants: the family itself');
});
