import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guessSourceIsClient, isLikelyServicePort } from './client-guess.ts';

describe('guessSourceIsClient', () => {
  const cases: ReadonlyArray<readonly [string, number, number, boolean]> = [
    ['ephemeral to well-known', 51000, 443, true],
    ['well-known to ephemeral', 80, 51000, false],
    ['to a common service port above 1023', 40000, 5432, true],
    ['from a common service port above 1023', 6379, 3001, false],
    ['two high ports: the higher one', 20000, 51000, false],
    ['two well-known ports: the higher one', 1023, 80, true],
    ['same port: the sender', 8080, 8080, true],
  ];
  for (const [name, src, dst, want] of cases) {
    it(name, () => assert.equal(guessSourceIsClient(src, dst), want));
  }
});

describe('isLikelyServicePort', () => {
  it('knows the ports named in the design', () => {
    for (const port of [22, 80, 443, 1023, 3000, 5432, 6379, 8080, 9092]) assert.equal(isLikelyServicePort(port), true, `${port}`);
  });
  it('treats ephemeral ports as clients', () => {
    for (const port of [1024, 32768, 51000, 65535]) assert.equal(isLikelyServicePort(port), false, `${port}`);
  });
});
