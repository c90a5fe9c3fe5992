/**
 * The Kafka benchmark case: one consumer-and-producer connection as a Java client of Kafka 3.x
 * talks (ApiVersions v3 and Metadata v12 first, then Produce v9, Fetch v12 answered with record
 * batches, Heartbeat v4 and OffsetCommit v8), built with the test-side encoder from the protocol
 * guide (test/helpers/kafka-wire.ts), whose answers kafkajs accepts in the round-trip test.
 */
import { encodeRequest, encodeResponse } from '../../helpers/kafka-wire.ts';
import type { Exchange } from '../../robustness/tcp-capture.ts';
import type { Prng } from '../prng.ts';
import type { ProtocolBenchCase } from './bench-case.ts';

const CLIENT_ID = 'consumer-billing-1';
const TOPICS = ['orders', 'payments', 'shipments'];

function pair(apiKey: number, version: number, id: number, request: Record<string, unknown>, response: Record<string, unknown>): Exchange {
  return { client: encodeRequest(apiKey, version, id, CLIENT_ID, request), server: encodeResponse(apiKey, version, id, response) };
}

function records(rng: Prng, base: number): { baseOffset: number; records: { key: string; value: string }[] } {
  const n = rng.int(1, 8);
  return {
    baseOffset: base,
    records: Array.from({ length: n }, (_, i) => ({ key: `order-${base + i}`, value: JSON.stringify({ id: base + i, amount: rng.int(1, 10_000), currency: 'EUR' }) })),
  };
}

export const benchCase: ProtocolBenchCase = {
  protocol: 'kafka',
  serverPort: 9092,
  tshark: { filter: 'kafka', args: ['-d', 'tcp.port==9092,kafka'] },
  conversation(rng: Prng, index: number) {
    let id = index * 1000;
    let offset = 0;
    const exchanges: Exchange[] = [
      pair(18, 3, id++, { clientSoftwareName: 'apache-kafka-java', clientSoftwareVersion: '3.6.1' }, {
        errorCode: 0,
        apiKeys: Array.from({ length: 60 }, (_, k) => ({ apiKey: k, minVersion: 0, maxVersion: 9 })),
        throttleTimeMs: 0,
      }),
      pair(3, 12, id++, { topics: TOPICS.map((name) => ({ name })), allowAutoTopicCreation: true }, {
        brokers: [{ nodeId: 1, host: 'kafka-0.kafka.svc', port: 9092, rack: null }],
        clusterId: 'bench',
        controllerId: 1,
        topics: TOPICS.map((name) => ({ errorCode: 0, name, partitions: [{ errorCode: 0, partition: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] })),
      }),
    ];
    const rounds = rng.int(20, 40);
    for (let i = 0; i < rounds; i++) {
      const topic = rng.pick(TOPICS);
      const kind = rng.int(0, 3);
      if (kind === 0) {
        const batch = records(rng, offset);
        exchanges.push(pair(0, 9, id++, { acks: -1, timeoutMs: 30000, topicData: [{ topic, partitions: [{ partition: 0, records: batch }] }] }, {
          responses: [{ topic, partitions: [{ partition: 0, errorCode: 0, baseOffset: offset }] }],
        }));
        offset += batch.records.length;
      } else if (kind === 1) {
        exchanges.push(pair(1, 12, id++, { maxWaitMs: 500, minBytes: 1, sessionId: 0, sessionEpoch: -1, topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset }] }] }, {
          responses: [{ topic, partitions: [{ partition: 0, errorCode: 0, highWatermark: offset + 5, records: records(rng, offset) }] }],
        }));
      } else if (kind === 2) {
        exchanges.push(pair(12, 4, id++, { groupId: 'billing', generationId: 3, memberId: `${CLIENT_ID}-member` }, { errorCode: 0 }));
      } else {
        exchanges.push(pair(8, 8, id++, { groupId: 'billing', generationId: 3, memberId: `${CLIENT_ID}-member`, topics: [{ name: topic, partitions: [{ partition: 0, committedOffset: offset }] }] }, {
          topics: [{ name: topic, partitions: [{ partition: 0, errorCode: 0 }] }],
        }));
      }
    }
    return { exchanges, entries: exchanges.length };
  },
};
