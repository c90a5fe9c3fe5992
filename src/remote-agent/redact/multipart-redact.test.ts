import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactBodyText } from './body-redact.ts';
import { boundaryOf, dispositionNames } from './multipart-redact.ts';
import { NameMatcher } from './name-matcher.ts';

const { isSensitive } = new NameMatcher();
const B = 'XyZ123';
const mp = (text: string): string => redactBodyText(text, `multipart/form-data; boundary=${B}`, isSensitive);

function part(name: string, body: string, extra = ''): string {
  return `--${B}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n${body}\r\n`;
}

test('sensitive parts lose their body, the rest stays byte for byte', () => {
  const text =
    `preamble\r\n${part('title', 'Hello')}${part('password', 'hunter2')}${part('user[email]', 'a@b.c')}` +
    `${part('avatar', 'PNG...', '; filename="me.png"\r\nContent-Type: image/png')}${part('note', '')}--${B}--\r\nepilogue`;
  const expected =
    `preamble\r\n${part('title', 'Hello')}${part('password', '[REDACTED]')}${part('user[email]', '[REDACTED]')}` +
    `${part('avatar', 'PNG...', '; filename="me.png"\r\nContent-Type: image/png')}${part('note', '')}--${B}--\r\nepilogue`;
  assert.equal(mp(text), expected);
});

test('a sensitive file name, an empty sensitive part, LF-only line ends', () => {
  assert.equal(
    mp(`${part('f', 'data', '; filename="client_secret.json"')}--${B}--`),
    `${part('f', '[REDACTED]', '; filename="client_secret.json"')}--${B}--`,
  );
  assert.equal(mp(part('passcode', 'data')), part('passcode', '[REDACTED]').slice(0, -2), 'no closing delimiter: the body runs to the end');
  assert.equal(mp(`${part('token', '')}--${B}--`), `${part('token', '[REDACTED]')}--${B}--`);
  const lf = `--${B}\nContent-Disposition: form-data; name=pin\n\n1234\n--${B}\nContent-Disposition: form-data; name=apiKey\n\nk\n--${B}--\n`;
  assert.equal(mp(lf), `--${B}\nContent-Disposition: form-data; name=pin\n\n1234\n--${B}\nContent-Disposition: form-data; name=apiKey\n\n[REDACTED]\n--${B}--\n`);
});

test('JSON and form-encoded parts are redacted inside', () => {
  const json = `--${B}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"token":"t","a":1}\r\n--${B}--`;
  assert.equal(mp(json), json.replace('"t"', '"[REDACTED]"'));
  const form = `--${B}\r\nContent-Disposition: form-data; name="f"\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=1&pass=2\r\n--${B}--`;
  assert.equal(mp(form), form.replace('pass=2', 'pass=[REDACTED]'));
});

test('truncated bodies never keep a present sensitive value', () => {
  const full = `${part('a', 'one')}${part('password', 'hunter2-long-secret')}--${B}--`;
  for (let cut = 0; cut <= full.length; cut++) {
    const out = mp(full.slice(0, cut));
    for (let len = 3; len <= 'hunter2-long-secret'.length; len++) {
      assert.ok(!out.includes('hunter2-long-secret'.slice(0, len)), `cut at ${cut}: ${JSON.stringify(out)}`);
    }
  }
  assert.equal(mp(`${part('a', 'one')}--${B}\r\nContent-Disposition: form-data; name="pass`), `${part('a', 'one')}--${B}\r\nContent-Disposition: form-data; name="pass`);
});

test('boundary from the media type, quoted, or guessed from the first line', () => {
  assert.equal(boundaryOf('multipart/form-data; boundary=abc', '--abc\r\n'), 'abc');
  assert.equal(boundaryOf('multipart/form-data; charset=x; boundary="a b"', '--a b\r\n'), 'a b');
  assert.equal(boundaryOf('multipart/form-data', '\r\n--guess\r\nX: y'), 'guess');
  assert.equal(boundaryOf('multipart/form-data; boundary=wrong', '--right\r\n'), 'right');
  assert.equal(boundaryOf('multipart/form-data', 'no parts'), null);
});

test('Content-Disposition names', () => {
  assert.deepEqual(dispositionNames(' form-data; name="a\\"b"; filename="c.txt"'), ['a"b', 'c.txt']);
  assert.deepEqual(dispositionNames(" form-data; name=pin; filename*=UTF-8''pass.txt"), ['pin', "UTF-8''pass.txt"]);
  assert.deepEqual(dispositionNames('name="x'), ['x']);
  assert.deepEqual(dispositionNames('form-data; filenames=1'), []);
});
