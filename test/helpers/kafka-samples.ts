/**
 * Kafka message bodies for the tests (unit, fuzz, benchmark): one request and one response per API
 * the dissector decodes, by API key, holding the fields of every version; the test-side encoder
 * (kafka-wire.ts) writes those of the version asked.
 */
export const RECORDS = { baseOffset: 42, records: [{ key: 'k1', value: 'hello' }, { key: null, value: 'world' }] };
const META = { base64: Buffer.from('subscription').toString('base64') };

/** One request body per API key with every field of every version (the encoder writes the ones of the version asked). */
export const REQUESTS: Readonly<Record<number, Record<string, unknown>>> = {
  0: { transactionalId: 'tx-1', acks: -1, timeoutMs: 1500, topicData: [{ topic: 'orders', partitions: [{ partition: 3, records: RECORDS }] }] },
  1: {
    replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 1000, isolationLevel: 1, sessionId: 7, sessionEpoch: 2,
    topics: [{ topic: 'orders', topicId: '0123456789abcdef0123456789abcdef', partitions: [{ partition: 1, currentLeaderEpoch: 4, fetchOffset: 100, lastFetchedEpoch: 3, logStartOffset: 0, partitionMaxBytes: 65536 }] }],
    forgottenTopicsData: [{ topic: 'old', topicId: 'fedcba9876543210fedcba9876543210', partitions: [0, 1] }], rackId: 'rack-a',
  },
  2: { replicaId: -1, isolationLevel: 0, topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 1, timestamp: -1, maxNumOffsets: 1 }] }] },
  3: { topics: [{ name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }, { name: 'payments' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true },
  8: { groupId: 'g1', generationId: 5, memberId: 'm-1', groupInstanceId: 'i-1', retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: 17, committedLeaderEpoch: 2, commitTimestamp: 99, committedMetadata: 'meta' }] }] },
  9: { groupId: 'g1', topics: [{ name: 'orders', partitionIndexes: [0, 1] }], groups: [{ groupId: 'g1', memberId: 'm-1', memberEpoch: 3, topics: [{ name: 'orders', partitionIndexes: [2] }] }], requireStable: true },
  10: { key: 'g1', keyType: 0, coordinatorKeys: ['g1', 'g2'] },
  11: { groupId: 'g1', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'RoundRobinAssigner', metadata: META }], reason: 'joining' },
  12: { groupId: 'g1', generationId: 5, memberId: 'm-1', groupInstanceId: null },
  13: { groupId: 'g1', memberId: 'm-1', members: [{ memberId: 'm-1', groupInstanceId: null, reason: 'bye' }] },
  14: { groupId: 'g1', generationId: 5, memberId: 'm-1', groupInstanceId: null, protocolType: 'consumer', protocolName: 'RoundRobinAssigner', assignments: [{ memberId: 'm-1', assignment: META }] },
  17: { mechanism: 'PLAIN' },
  18: { clientSoftwareName: 'kafkajs', clientSoftwareVersion: '2.2.4' },
  19: { topics: [{ name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [{ partition: 0, brokerIds: [1] }], configs: [{ name: 'retention.ms', value: '1000' }] }], timeoutMs: 5000, validateOnly: true },
  20: { topicNames: ['orders', 'payments'], topics: [{ name: 'orders', topicId: '0123456789abcdef0123456789abcdef' }], timeoutMs: 5000 },
  36: { authBytes: { base64: Buffer.from('\0user\0secret').toString('base64') } },
};

export const RESPONSES: Readonly<Record<number, Record<string, unknown>>> = {
  0: { responses: [{ topic: 'orders', partitions: [{ partition: 3, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [{ batchIndex: 0, batchIndexErrorMessage: null }], errorMessage: null }] }], throttleTimeMs: 0 },
  1: { throttleTimeMs: 0, errorCode: 0, sessionId: 7, responses: [{ topic: 'orders', topicId: '0123456789abcdef0123456789abcdef', partitions: [{ partition: 1, errorCode: 0, highWatermark: 44, lastStableOffset: 44, logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1, records: RECORDS }] }] },
  2: { throttleTimeMs: 0, topics: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, oldStyleOffsets: [44], timestamp: -1, offset: 44, leaderEpoch: 0 }] }] },
  3: {
    throttleTimeMs: 0, brokers: [{ nodeId: 1, host: 'broker-1', port: 9092, rack: null }], clusterId: 'c1', controllerId: 1,
    topics: [{ errorCode: 3, name: 'orders', topicId: '0123456789abcdef0123456789abcdef', isInternal: false, partitions: [{ errorCode: 0, partition: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }], topicAuthorizedOperations: 8 }],
    clusterAuthorizedOperations: 0, errorCode: 0,
  },
  8: { throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [{ partition: 0, errorCode: 0 }] }] },
  9: { throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: 17, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] }], errorCode: 0, groups: [{ groupId: 'g1', topics: [{ name: 'orders', partitions: [{ partition: 2, committedOffset: 5, committedLeaderEpoch: -1, metadata: null, errorCode: 0 }] }], errorCode: 0 }] },
  10: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: 'broker-1', port: 9092, coordinators: [{ key: 'g1', nodeId: 1, host: 'broker-1', port: 9092, errorCode: 0, errorMessage: null }] },
  11: { throttleTimeMs: 0, errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'RoundRobinAssigner', leader: 'm-1', skipAssignment: false, memberId: 'm-1', members: [{ memberId: 'm-1', groupInstanceId: null, metadata: META }] },
  12: { throttleTimeMs: 0, errorCode: 27 },
  13: { throttleTimeMs: 0, errorCode: 0, members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }] },
  14: { throttleTimeMs: 0, errorCode: 0, protocolType: 'consumer', protocolName: 'RoundRobinAssigner', assignment: META },
  17: { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
  18: { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0 },
  19: { throttleTimeMs: 0, topics: [{ name: 'orders', topicId: '0123456789abcdef0123456789abcdef', errorCode: 36, errorMessage: 'exists', numPartitions: 3, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false }] }] },
  20: { throttleTimeMs: 0, responses: [{ name: 'orders', topicId: '0123456789abcdef0123456789abcdef', errorCode: 0, errorMessage: null }] },
  36: { errorCode: 0, errorMessage: null, authBytes: { base64: '' }, sessionLifetimeMs: 0 },
};
