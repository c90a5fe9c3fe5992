/**
 * KFL on DNS entries dissected from a public capture (udp-lab-queries: 11 lookups, one NXDOMAIN):
 * the word `dns`, Kubeshark's entry paths (request.opCode, request.questions, response.code,
 * response.answers) and KFL2's dns_* variables select what they say.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { compileKfl } from '../../src/kfl/index.ts';
import { dissectDnsCapture } from '../helpers/dns-read.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const { entries } = dissectDnsCapture(join(sharedPcapsDir(), 'dns/udp-lab-queries.pcapng'));

/** The first question's names of the entries the query selects, sorted. */
function select(query: string): string[] {
  const r = compileKfl(query);
  if (!r.ok) throw new Error(r.error.display);
  return entries.filter((e) => r.filter.test(e as unknown as Entry)).map((e) => e.request.questions[0]!.name).sort();
}

test('KFL words, paths and KFL2 variables on DNS entries', () => {
  assert.equal(entries.length, 11);
  assert.equal(select('dns').length, 11);
  assert.deepEqual(select('http'), []);
  assert.deepEqual(select('dns and response.code == "Non-Existent Domain"'), ['test.chrissanders.org']);
  assert.deepEqual(select('dns && dns_response && response.rcode != 0'), ['test.chrissanders.org'], "Kubeshark's failed-lookup idiom, on our numeric rcode");
  assert.deepEqual(select('dns and "cnn.com" in dns_questions'), ['cnn.com']);
  assert.deepEqual(select('dns and dns_questions == "intel.com"'), ['intel.com'], 'a list compared to a string: any element');
  assert.deepEqual(select('"PTR" in dns_question_types'), ['1.2.2.4.in-addr.arpa', '25.206.119.75.in-addr.arpa']);
  assert.deepEqual(select('request.questions[0].name.endsWith(".google.com")'), ['notifications.google.com', 'play.google.com']);
  assert.deepEqual(select('response.answers[*].cname == "www.cnn.com"').length, 0);
  assert.deepEqual(select('"23.96.52.53" in dns_answers'), ['microsoft.com']);
  assert.deepEqual(select('request.opCode == "Query" and size(response.answers) >= 6'), ['google.com', 'notifications.google.com']);
  assert.equal(select('dns_request and dns_total_size > 0 and dns_request_length < dns_response_length').length, 11);
});

test('KFL on flags and transports: the truncated UDP answer and its TCP retry', () => {
  const { entries: retry } = dissectDnsCapture(join(sharedPcapsDir(), 'dns/udp-truncated-then-tcp.pcapng'));
  const pick = (query: string): string[] => {
    const r = compileKfl(query);
    if (!r.ok) throw new Error(r.error.display);
    return retry.filter((e) => r.filter.test(e as unknown as Entry)).map((e) => e.protocol.version);
  };
  assert.deepEqual(pick('dns and response.flags.truncated'), ['udp']);
  assert.deepEqual(pick('dns and protocol.version == "tcp" and size(response.answers) == 8'), ['tcp']);
  assert.deepEqual(pick('"ANY" in dns_question_types and not response.flags.truncated'), ['tcp']);
});
