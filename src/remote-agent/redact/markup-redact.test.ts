import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactMarkup } from './markup-redact.ts';
import { NameMatcher } from './name-matcher.ts';

const { isSensitive } = new NameMatcher();
const R = '[REDACTED]';
const markup = (text: string): string => redactMarkup(text, isSensitive);

test('XML: element content and attribute values under sensitive names; the rest byte for byte', () => {
  assert.equal(
    markup('<?xml version="1.0"?>\n<login><username>ann</username><password>s1</password><remember>yes</remember></login>'),
    `<?xml version="1.0"?>\n<login><username>${R}</username><password>${R}</password><remember>yes</remember></login>`,
  );
  assert.equal(markup('<Account><Password>s2</Password><DisplayName>Ann</DisplayName></Account>'), `<Account><Password>${R}</Password><DisplayName>Ann</DisplayName></Account>`);
  assert.equal(markup(`<session token="t1" lang="en" ttl='300'/>`), `<session token="${R}" lang="en" ttl='300'/>`);
  assert.equal(markup(`<a apiKey='k' b=c x-token=v>z</a>`), `<a apiKey='${R}' b=c x-token=${R}>z</a>`);
  assert.equal(markup('<r xmlns:auth="urn:auth"><n>eu</n></r>'), '<r xmlns:auth="urn:auth"><n>eu</n></r>', 'namespace declarations are names, not secrets');
  assert.equal(markup('<auth:Region>eu</auth:Region>'), `<auth:Region>${R}</auth:Region>`, 'a prefix is a word of the name');
});

test('XML: namespaced names, nested elements, CDATA, comments', () => {
  const soap =
    '<soap:Envelope><soap:Header><wsse:Security><wsse:UsernameToken><wsse:Username>u</wsse:Username>' +
    '<wsse:Password Type="#PasswordText">p</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>' +
    '<soap:Body><Symbol>ACME</Symbol></soap:Body></soap:Envelope>';
  assert.equal(markup(soap), `<soap:Envelope><soap:Header><wsse:Security><wsse:UsernameToken>${R}</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><Symbol>ACME</Symbol></soap:Body></soap:Envelope>`);
  assert.equal(markup('<apiKey><![CDATA[k</apiKey>x]]></apiKey><q>1</q>'), `<apiKey>${R}</apiKey><q>1</q>`, 'a fake end tag inside CDATA does not end the element');
  assert.equal(markup('<secret><secret>a</secret>b</secret><n>1</n>'), `<secret>${R}</secret><n>1</n>`, 'nested elements of the same name');
  assert.equal(markup('<!-- <password>x</password> --><a>1</a>'), '<!-- <password>x</password> --><a>1</a>', 'comments are skipped');
  assert.equal(markup('<credentials/><n>1</n>'), '<credentials/><n>1</n>');
});

test('labels: name/key attributes and type="password" hide value, content and text', () => {
  assert.equal(markup('<property name="password" value="s"/><property name="url" value="jdbc:x"/>'), `<property name="password" value="${R}"/><property name="url" value="jdbc:x"/>`);
  assert.equal(markup('<entry key="api.secret">s</entry><entry key="api.url">u</entry>'), `<entry key="${R}">${R}</entry><entry key="${R}">u</entry>`,
    'a "key" attribute is itself a sensitive name; its label still decides the content');
  assert.equal(markup('<textarea name="private_key">k</textarea><textarea name="bio">b</textarea>'), `<textarea name="private_key">${R}</textarea><textarea name="bio">b</textarea>`);
});

test('HTML forms: hidden CSRF inputs, meta tags, password inputs, quoting styles', () => {
  const page =
    '<form><input type="hidden" name="csrf_token" value="c1"><input name="q" value="shoes">' +
    "<input type='hidden' name='_csrf' value='c2'/><input type=hidden name=csrfmiddlewaretoken value=c3>" +
    '<input name="__RequestVerificationToken" type="hidden" value="c4" /><input value="c5" name="authenticity_token">' +
    '<input type=password name=pw value=c6><input type="text" name="nick" value="ann"></form>' +
    '<meta name="csrf-token" content="c7"><meta name="viewport" content="width=device-width">';
  const out = markup(page);
  for (const c of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) assert.ok(!out.includes(`"${c}"`) && !out.includes(`'${c}'`) && !out.includes(`=${c}`), `${c} in ${out}`);
  for (const kept of ['value="shoes"', 'value="ann"', 'content="width=device-width"', 'name="csrf_token"', "name='_csrf'"]) assert.ok(out.includes(kept), kept);
  assert.equal(markup('<input name="password" value="x"><p>after</p>'), `<input name="password" value="${R}"><p>after</p>`, 'void elements have no content');
});

test('HTML: inline script state goes through the JSON scanner', () => {
  assert.equal(
    markup('<script>window.__STATE__ = {"csrfToken":"t","page":"home"};</script><p>x</p>'),
    `<script>window.__STATE__ = {"csrfToken":"${R}","page":"home"};</script><p>x</p>`,
  );
  assert.equal(markup('<SCRIPT>var a = "<password>";</SCRIPT>'), '<SCRIPT>var a = "<password>";</SCRIPT>', 'tags inside a script are text');
});

test('cut or invalid markup never keeps a present secret', () => {
  const docs = [
    '<a><b>n</b><password>SECRETVALUE123</password><c>n</c></a>',
    '<form><input type="hidden" value="SECRETVALUE123" name="csrf_token"><p>n</p></form>',
    '<session token="SECRETVALUE123" lang="en"/>',
    '<x><entry key="db.password">SECRETVALUE123</entry></x>',
    '<script>var s = {"apiKey": "SECRETVALUE123"}</script>',
  ];
  for (const doc of docs) {
    for (let cut = 0; cut <= doc.length; cut++) {
      const out = markup(doc.slice(0, cut));
      for (let len = 4; len <= 14; len++) assert.ok(!out.includes('SECRETVALUE123'.slice(0, len)), `cut at ${cut}: ${out}`);
    }
  }
  assert.equal(markup('<a><credential>s</a'), `<a><credential>${R}`, 'never closed: hidden to the end');
  assert.equal(markup('a < b and c<d'), 'a < b and c<d');
  assert.equal(markup('<'), '<');
  assert.equal(markup(''), '');
});

test('idempotent', () => {
  const once = markup('<a token="t"><password>p</password><input name="pin" value="1"></a>');
  assert.equal(markup(once), once);
});

test('hostile input stays linear and never throws', () => {
  const hostile = ['<password'.repeat(20_000), '<a b="'.repeat(20_000), '<secret>' + '<secret '.repeat(20_000), '<!--'.repeat(20_000), '<x y=z '.repeat(20_000)];
  for (const text of hostile) {
    const start = process.hrtime.bigint();
    assert.doesNotThrow(() => markup(text));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms < 500, `${text.slice(0, 12)}...: ${ms.toFixed(0)} ms`);
  }
});
