import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactBodyText } from './body-redact.ts';
import { redactPrivateKeyBlocks } from './key-block-redact.ts';
import { NameMatcher } from './name-matcher.ts';

const { isSensitive } = new NameMatcher();
const R = '[REDACTED]';
const block = (label: string, body: string): string => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

test('private key blocks of every armor lose their content; markers, certificates and public keys stay', () => {
  for (const label of ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'PGP PRIVATE KEY BLOCK']) {
    assert.equal(redactPrivateKeyBlocks(`x\n${block(label, 'MIIEsecret\nmore')}y`), `x\n-----BEGIN ${label}-----${R}-----END ${label}-----\ny`, label);
  }
  const cert = block('CERTIFICATE', 'MIIBcert');
  const pub = block('PUBLIC KEY', 'MIIBpub');
  assert.equal(redactPrivateKeyBlocks(cert + pub), cert + pub);
  assert.equal(redactPrivateKeyBlocks(cert + block('PRIVATE KEY', 'k1') + block('PRIVATE KEY', 'k2')), `${cert}-----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY-----\n`);
});

test('in any body type: JSON strings, form values, plain text, multipart files, XML', () => {
  const json = JSON.stringify({ pem: block('RSA PRIVATE KEY', 'MIIEk1'), host: 'db' });
  assert.deepEqual(JSON.parse(redactBodyText(json, 'application/json', isSensitive)), { pem: `-----BEGIN RSA PRIVATE KEY-----${R}-----END RSA PRIVATE KEY-----\n`, host: 'db' });
  const form = `pem=${encodeURIComponent(block('PRIVATE KEY', 'MIIEk2')).replace(/%20/g, '+')}&host=db`;
  assert.equal(redactBodyText(form, 'application/x-www-form-urlencoded', isSensitive), `pem=-----BEGIN+PRIVATE+KEY-----${R}-----END+PRIVATE+KEY-----%0A&host=db`);
  assert.equal(redactBodyText(`<tls><m>${block('PRIVATE KEY', 'k3')}</m><h>db</h></tls>`, 'application/xml', isSensitive), `<tls><m>-----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY-----\n</m><h>db</h></tls>`);
  assert.ok(!redactBodyText(block('PRIVATE KEY', 'k4'), 'application/octet-stream', isSensitive).includes('k4'));
  assert.ok(!redactBodyText(block('PRIVATE KEY', 'k5'), undefined, isSensitive).includes('k5'));
});

test('a block cut before its END line is hidden to the end; idempotent; odd input', () => {
  const full = block('PRIVATE KEY', 'MIIESECRETVALUE123');
  for (let cut = 0; cut <= full.length; cut++) {
    const out = redactPrivateKeyBlocks(full.slice(0, cut));
    for (let len = 4; len <= 15; len++) assert.ok(!out.includes('SECRETVALUE123'.slice(0, len)), `cut at ${cut}: ${out}`);
  }
  const once = redactPrivateKeyBlocks(`a${full}b${full}`);
  assert.equal(redactPrivateKeyBlocks(once), once);
  for (const odd of ['-----BEGIN', '-----BEGIN-----', `-----BEGIN ${'X'.repeat(100)} PRIVATE KEY-----k`, '-----BEGIN PRIVATE KEY']) assert.doesNotThrow(() => redactPrivateKeyBlocks(odd));
  assert.equal(redactPrivateKeyBlocks('-----BEGIN'.repeat(50_000)).length, 500_000);
});
