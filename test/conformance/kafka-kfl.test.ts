/**
 * KFL on Kafka entries dissected from a public capture (rdkafka-and-console-producer: 14 requests,
 * 3 of them unanswered): the word `kafka`, Kubeshark's entry paths (request.apiKeyName,
 * request.payload.topicData[i].topic, request.payload.topics[i].name, response.payload.errorCode)
 * and KFL2's kafka_* variables select what they say.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { compileKfl } from '../../src/kfl/index.ts';
import { isKafkaEntry } from '../../src/remote-agent/dissect/kafka/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

const { all } = await readEntries([join(sharedPcapsDir(), 'kafka/rdkafka-and-console-producer.pcapng')]);
const entries = all.filter(isKafkaEntry);

/** `apiKeyName/correlationID` of the entries the query selects. */
function select(query: string): string[] {
  const r = compileKfl(query);
  if (!r.ok) throw new Error(r.error.display);
  return entries.filter((e) => r.filter.test(e as Entry)).map((e) => `${e.request.apiKeyName}/${e.request.correlationID}`).sort();
}

test('KFL words, Kubeshark paths and KFL2 kafka_* variables on Kafka entries', () => {
  assert.equal(entries.length, 14);
  assert.equal(select('kafka').length, 14);
  assert.deepEqual(select('http'), []);
  assert.deepEqual(select('kafka && kafka_api_key_name == "PRODUCE" && kafka_request_summary.contains("LB_MAIN")'), ['Produce/2', 'Produce/3']);
  assert.deepEqual(select('request.apiKeyName == "Produce" and request.payload.topicData[0].topic == "sampleTopic"'), ['Produce/6']);
  assert.deepEqual(select('request.payload.topics[0].name == "sampleTopic"'), ['Metadata/5']);
  assert.deepEqual(select('kafka_api_key == 22'), ['InitProducerId/4']);
  assert.deepEqual(select('kafka and kafka_client_id == "console-producer" and response.payload.errorCode == 0'), ['ApiVersions/3']);
  assert.deepEqual(select('kafka and not kafka_response'), ['ApiVersions/15', 'ApiVersions/4', 'Metadata/212']);
  assert.deepEqual(select('kafka_api_key_name == "API_VERSIONS" and kafka_response'), ['ApiVersions/129', 'ApiVersions/168', 'ApiVersions/3']);
  assert.equal(select('kafka_request and kafka_size == kafka_request_size + kafka_response_size and kafka_request_size > 0').length, 14);
  assert.deepEqual(select('kafka and response.errorCode > 0'), [], 'no error code in this capture');
  assert.deepEqual(select('kafka and response.errorCode == nil'), ['ApiVersions/15', 'ApiVersions/4', 'InitProducerId/4', 'Metadata/212'], 'unanswered, or a body not decoded');
});
