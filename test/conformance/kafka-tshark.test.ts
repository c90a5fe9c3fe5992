/**
 * Conformance with tshark on the public Kafka captures (test/fixtures/pcaps/kafka): every
 * request/response pair tshark makes (pdml_truth.py do_kafka: linked by tshark, or by correlation
 * id where tshark does not know the API version) must be one of our entries, between the same
 * client and server, with the same API key, name, version, correlation id and client id, and with a
 * response exactly when tshark has one. Requests tshark saw unanswered are ours unanswered too.
 *
 * tshark also lists responses whose request the capture does not hold (it calls anything on port
 * 9092 Kafka). They are not pairs and not entries here: a response alone neither identifies Kafka
 * nor can be decoded (its body's layout depends on the request's API key and version); the test
 * asserts that no entry claims their correlation ids.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKafkaEntry, type KafkaEntry } from '../../src/remote-agent/dissect/kafka/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** A tshark Kafka record (pdml_truth.py, "kafka" kind). */
interface TruthRecord {
  readonly tcp_stream: number;
  readonly client_ip: string;
  readonly client_port: number;
  readonly server_ip: string;
  readonly server_port: number;
  readonly frame_request: number | null;
  readonly api_key: number | null;
  readonly api_name: string | null;
  readonly api_version: number | null;
  readonly correlation_id: number;
  readonly client_id: string | null;
  readonly frame_response: number | null;
  readonly paired_by: 'tshark' | 'correlation_id' | null;
}

function differences(t: TruthRecord, e: KafkaEntry): string[] {
  const out: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    if (ours !== theirs) out.push(`${what}: ours ${JSON.stringify(ours)}, tshark ${JSON.stringify(theirs)}`);
  };
  check('api key', e.request.apiKey, t.api_key);
  check('api name', e.request.apiKeyName, t.api_name);
  check('api version', e.request.apiVersion, t.api_version);
  check('client id', e.request.clientID, t.client_id ?? '');
  check('answered', e.response !== null, t.frame_response !== null);
  if (e.response !== null) check('response correlation id', e.response.correlationID, t.correlation_id);
  return out;
}

const dir = sharedPcapsDir();
const KAFKA_FILES = readIndex(dir).filter((r) => r.protocol === 'kafka');

test('tshark conformance on Kafka captures', async (t) => {
  assert.equal(KAFKA_FILES.length, 4, 'the corpus lists the 4 Kafka captures');
  const summary: string[] = [];
  for (const index of KAFKA_FILES) {
    await t.test(index.file, async () => {
      const truth = readTruth<TruthRecord>(dir, index.truth);
      const { all, result } = await readEntries([join(dir, index.file)]);
      const entries = all.filter(isKafkaEntry);
      const unused = new Set(entries);
      const problems: string[] = [];
      let pairs = 0;
      let matched = 0;
      const orphans: TruthRecord[] = [];
      for (const tx of truth) {
        if (tx.frame_request === null) {
          orphans.push(tx);
          continue;
        }
        pairs++;
        const entry = [...unused].find(
          (e) =>
            e.src.ip === tx.client_ip &&
            e.src.port === tx.client_port &&
            e.dst.ip === tx.server_ip &&
            e.dst.port === tx.server_port &&
            e.request.correlationID === tx.correlation_id,
        );
        if (entry === undefined) {
          problems.push(`missing ${tx.api_name} correlation id ${tx.correlation_id} (${tx.client_ip}:${tx.client_port}, frame ${tx.frame_request})`);
          continue;
        }
        unused.delete(entry);
        const diff = differences(tx, entry);
        if (diff.length > 0) problems.push(`frame ${tx.frame_request} ${tx.api_name} ${tx.correlation_id}: ${diff.join('; ')}`);
        else matched++;
      }
      const line = `${index.file}: ${matched}/${pairs} tshark pairs matched, ${entries.length} entries, ${orphans.length} responses without their request`;
      summary.push(line);
      t.diagnostic(line);
      assert.deepEqual(problems, [], `${index.file} differs from tshark`);
      assert.equal(entries.length, pairs, 'no entry beyond tshark pairs');
      assert.equal(all.length, entries.length, 'nothing else in the capture');
      for (const o of orphans) {
        const claimed = entries.find((e) => e.src.port === o.client_port && e.request.correlationID === o.correlation_id);
        assert.equal(claimed, undefined, `the response without request ${o.correlation_id} (frame ${o.frame_response}) is not an entry`);
      }
      assert.equal(result.stats.dissectionErrors, 0, 'no violation');
      for (const e of entries) {
        // Every message of these captures is whole and well formed: none is read only in part.
        assert.notEqual(e.request.decoded, 'partial', `${e.id} request: ${e.request.note}`);
        assert.notEqual(e.response?.decoded, 'partial', `${e.id} response: ${e.response?.note}`);
      }
    });
  }
  process.stdout.write(`# conformance summary\n${summary.map((l) => `#   ${l}`).join('\n')}\n`);
});
