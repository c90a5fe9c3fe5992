/**
 * The bodies we decode, request and response, in every version of Kafka 4.0's message specs
 * (clients/src/main/resources/common/message/*.json, read as the reference; written here from the
 * protocol guide). Field names are Kafka's in lower camel case, except where Kubeshark's entries
 * named them otherwise (`topicData[].topic` in Produce, `topics[].topic` in Fetch and ListOffsets)
 * and `partition` for a partition index everywhere. Tagged fields are skipped.
 */
import { API_KEY } from './api-keys.ts';
import { arrayOf, f, struct, type Field } from './schema.ts';

export interface BodySchemas {
  readonly request: readonly Field[];
  readonly response: readonly Field[];
  /** Versions described (a higher one is decoded as the header only). */
  readonly maxVersion: number;
}

const int32s = arrayOf('int32');

const PRODUCE: BodySchemas = {
  maxVersion: 12,
  request: [
    f('transactionalId', 'string', 3),
    f('acks', 'int16'),
    f('timeoutMs', 'int32'),
    f('topicData', arrayOf(struct(
      f('topic', 'string', 0, 12),
      f('topicId', 'uuid', 13),
      f('partitions', arrayOf(struct(f('partition', 'int32'), f('records', 'records')))),
    ))),
  ],
  response: [
    f('responses', arrayOf(struct(
      f('topic', 'string', 0, 12),
      f('topicId', 'uuid', 13),
      f('partitions', arrayOf(struct(
        f('partition', 'int32'),
        f('errorCode', 'int16'),
        f('baseOffset', 'int64'),
        f('logAppendTimeMs', 'int64', 2),
        f('logStartOffset', 'int64', 5),
        f('recordErrors', arrayOf(struct(f('batchIndex', 'int32'), f('batchIndexErrorMessage', 'string'))), 8),
        f('errorMessage', 'string', 8),
      ))),
    ))),
    f('throttleTimeMs', 'int32', 1),
  ],
};

const FETCH: BodySchemas = {
  maxVersion: 17,
  request: [
    f('replicaId', 'int32', 0, 14),
    f('maxWaitMs', 'int32'),
    f('minBytes', 'int32'),
    f('maxBytes', 'int32', 3),
    f('isolationLevel', 'int8', 4),
    f('sessionId', 'int32', 7),
    f('sessionEpoch', 'int32', 7),
    f('topics', arrayOf(struct(
      f('topic', 'string', 0, 12),
      f('topicId', 'uuid', 13),
      f('partitions', arrayOf(struct(
        f('partition', 'int32'),
        f('currentLeaderEpoch', 'int32', 9),
        f('fetchOffset', 'int64'),
        f('lastFetchedEpoch', 'int32', 12),
        f('logStartOffset', 'int64', 5),
        f('partitionMaxBytes', 'int32'),
      ))),
    ))),
    f('forgottenTopicsData', arrayOf(struct(f('topic', 'string', 7, 12), f('topicId', 'uuid', 13), f('partitions', int32s))), 7),
    f('rackId', 'string', 11),
  ],
  response: [
    f('throttleTimeMs', 'int32', 1),
    f('errorCode', 'int16', 7),
    f('sessionId', 'int32', 7),
    f('responses', arrayOf(struct(
      f('topic', 'string', 0, 12),
      f('topicId', 'uuid', 13),
      f('partitions', arrayOf(struct(
        f('partition', 'int32'),
        f('errorCode', 'int16'),
        f('highWatermark', 'int64'),
        f('lastStableOffset', 'int64', 4),
        f('logStartOffset', 'int64', 5),
        f('abortedTransactions', arrayOf(struct(f('producerId', 'int64'), f('firstOffset', 'int64'))), 4),
        f('preferredReadReplica', 'int32', 11),
        f('records', 'records'),
      ))),
    ))),
  ],
};

const LIST_OFFSETS: BodySchemas = {
  maxVersion: 9,
  request: [
    f('replicaId', 'int32'),
    f('isolationLevel', 'int8', 2),
    f('topics', arrayOf(struct(
      f('topic', 'string'),
      f('partitions', arrayOf(struct(
        f('partition', 'int32'),
        f('currentLeaderEpoch', 'int32', 4),
        f('timestamp', 'int64'),
        f('maxNumOffsets', 'int32', 0, 0),
      ))),
    ))),
  ],
  response: [
    f('throttleTimeMs', 'int32', 2),
    f('topics', arrayOf(struct(
      f('topic', 'string'),
      f('partitions', arrayOf(struct(
        f('partition', 'int32'),
        f('errorCode', 'int16'),
        f('oldStyleOffsets', arrayOf('int64'), 0, 0),
        f('timestamp', 'int64', 1),
        f('offset', 'int64', 1),
        f('leaderEpoch', 'int32', 4),
      ))),
    ))),
  ],
};

const METADATA: BodySchemas = {
  maxVersion: 13,
  request: [
    f('topics', arrayOf(struct(f('topicId', 'uuid', 10), f('name', 'string')))),
    f('allowAutoTopicCreation', 'bool', 4),
    f('includeClusterAuthorizedOperations', 'bool', 8, 10),
    f('includeTopicAuthorizedOperations', 'bool', 8),
  ],
  response: [
    f('throttleTimeMs', 'int32', 3),
    f('brokers', arrayOf(struct(f('nodeId', 'int32'), f('host', 'string'), f('port', 'int32'), f('rack', 'string', 1)))),
    f('clusterId', 'string', 2),
    f('controllerId', 'int32', 1),
    f('topics', arrayOf(struct(
      f('errorCode', 'int16'),
      f('name', 'string'),
      f('topicId', 'uuid', 10),
      f('isInternal', 'bool', 1),
      f('partitions', arrayOf(struct(
        f('errorCode', 'int16'),
        f('partition', 'int32'),
        f('leaderId', 'int32'),
        f('leaderEpoch', 'int32', 7),
        f('replicaNodes', int32s),
        f('isrNodes', int32s),
        f('offlineReplicas', int32s, 5),
      ))),
      f('topicAuthorizedOperations', 'int32', 8),
    ))),
    f('clusterAuthorizedOperations', 'int32', 8, 10),
    f('errorCode', 'int16', 13),
  ],
};

const OFFSET_COMMIT: BodySchemas = {
  maxVersion: 9,
  request: [
    f('groupId', 'string'),
    f('generationId', 'int32', 1),
    f('memberId', 'string', 1),
    f('groupInstanceId', 'string', 7),
    f('retentionTimeMs', 'int64', 2, 4),
    f('topics', arrayOf(struct(
      f('name', 'string'),
      f('partitions', arrayOf(struct(
        f('partition', 'int32'),
        f('committedOffset', 'int64'),
        f('committedLeaderEpoch', 'int32', 6),
        f('commitTimestamp', 'int64', 1, 1),
        f('committedMetadata', 'string'),
      ))),
    ))),
  ],
  response: [
    f('throttleTimeMs', 'int32', 3),
    f('topics', arrayOf(struct(f('name', 'string'), f('partitions', arrayOf(struct(f('partition', 'int32'), f('errorCode', 'int16'))))))),
  ],
};

const offsetFetchPartitions = arrayOf(struct(
  f('partition', 'int32'),
  f('committedOffset', 'int64'),
  f('committedLeaderEpoch', 'int32', 5),
  f('metadata', 'string'),
  f('errorCode', 'int16'),
));

const OFFSET_FETCH: BodySchemas = {
  maxVersion: 9,
  request: [
    f('groupId', 'string', 0, 7),
    f('topics', arrayOf(struct(f('name', 'string'), f('partitionIndexes', int32s))), 0, 7),
    f('groups', arrayOf(struct(
      f('groupId', 'string'),
      f('memberId', 'string', 9),
      f('memberEpoch', 'int32', 9),
      f('topics', arrayOf(struct(f('name', 'string'), f('partitionIndexes', int32s)))),
    )), 8),
    f('requireStable', 'bool', 7),
  ],
  response: [
    f('throttleTimeMs', 'int32', 3),
    f('topics', arrayOf(struct(f('name', 'string'), f('partitions', offsetFetchPartitions))), 0, 7),
    f('errorCode', 'int16', 2, 7),
    f('groups', arrayOf(struct(
      f('groupId', 'string'),
      f('topics', arrayOf(struct(f('name', 'string'), f('partitions', offsetFetchPartitions)))),
      f('errorCode', 'int16'),
    )), 8),
  ],
};

const FIND_COORDINATOR: BodySchemas = {
  maxVersion: 6,
  request: [f('key', 'string', 0, 3), f('keyType', 'int8', 1), f('coordinatorKeys', arrayOf('string'), 4)],
  response: [
    f('throttleTimeMs', 'int32', 1),
    f('errorCode', 'int16', 0, 3),
    f('errorMessage', 'string', 1, 3),
    f('nodeId', 'int32', 0, 3),
    f('host', 'string', 0, 3),
    f('port', 'int32', 0, 3),
    f('coordinators', arrayOf(struct(
      f('key', 'string'),
      f('nodeId', 'int32'),
      f('host', 'string'),
      f('port', 'int32'),
      f('errorCode', 'int16'),
      f('errorMessage', 'string'),
    )), 4),
  ],
};

const JOIN_GROUP: BodySchemas = {
  maxVersion: 9,
  request: [
    f('groupId', 'string'),
    f('sessionTimeoutMs', 'int32'),
    f('rebalanceTimeoutMs', 'int32', 1),
    f('memberId', 'string'),
    f('groupInstanceId', 'string', 5),
    f('protocolType', 'string'),
    f('protocols', arrayOf(struct(f('name', 'string'), f('metadata', 'bytes')))),
    f('reason', 'string', 8),
  ],
  response: [
    f('throttleTimeMs', 'int32', 2),
    f('errorCode', 'int16'),
    f('generationId', 'int32'),
    f('protocolType', 'string', 7),
    f('protocolName', 'string'),
    f('leader', 'string'),
    f('skipAssignment', 'bool', 9),
    f('memberId', 'string'),
    f('members', arrayOf(struct(f('memberId', 'string'), f('groupInstanceId', 'string', 5), f('metadata', 'bytes')))),
  ],
};

const HEARTBEAT: BodySchemas = {
  maxVersion: 4,
  request: [f('groupId', 'string'), f('generationId', 'int32'), f('memberId', 'string'), f('groupInstanceId', 'string', 3)],
  response: [f('throttleTimeMs', 'int32', 1), f('errorCode', 'int16')],
};

const LEAVE_GROUP: BodySchemas = {
  maxVersion: 5,
  request: [
    f('groupId', 'string'),
    f('memberId', 'string', 0, 2),
    f('members', arrayOf(struct(f('memberId', 'string'), f('groupInstanceId', 'string'), f('reason', 'string', 5))), 3),
  ],
  response: [
    f('throttleTimeMs', 'int32', 1),
    f('errorCode', 'int16'),
    f('members', arrayOf(struct(f('memberId', 'string'), f('groupInstanceId', 'string'), f('errorCode', 'int16'))), 3),
  ],
};

const SYNC_GROUP: BodySchemas = {
  maxVersion: 5,
  request: [
    f('groupId', 'string'),
    f('generationId', 'int32'),
    f('memberId', 'string'),
    f('groupInstanceId', 'string', 3),
    f('protocolType', 'string', 5),
    f('protocolName', 'string', 5),
    f('assignments', arrayOf(struct(f('memberId', 'string'), f('assignment', 'bytes')))),
  ],
  response: [
    f('throttleTimeMs', 'int32', 1),
    f('errorCode', 'int16'),
    f('protocolType', 'string', 5),
    f('protocolName', 'string', 5),
    f('assignment', 'bytes'),
  ],
};

const SASL_HANDSHAKE: BodySchemas = {
  maxVersion: 1,
  request: [f('mechanism', 'string')],
  response: [f('errorCode', 'int16'), f('mechanisms', arrayOf('string'))],
};

const API_VERSIONS: BodySchemas = {
  maxVersion: 4,
  request: [f('clientSoftwareName', 'string', 3), f('clientSoftwareVersion', 'string', 3)],
  response: [
    f('errorCode', 'int16'),
    f('apiKeys', arrayOf(struct(f('apiKey', 'int16'), f('minVersion', 'int16'), f('maxVersion', 'int16')))),
    f('throttleTimeMs', 'int32', 1),
  ],
};

const CREATE_TOPICS: BodySchemas = {
  maxVersion: 7,
  request: [
    f('topics', arrayOf(struct(
      f('name', 'string'),
      f('numPartitions', 'int32'),
      f('replicationFactor', 'int16'),
      f('assignments', arrayOf(struct(f('partition', 'int32'), f('brokerIds', int32s)))),
      f('configs', arrayOf(struct(f('name', 'string'), f('value', 'string')))),
    ))),
    f('timeoutMs', 'int32'),
    f('validateOnly', 'bool', 1),
  ],
  response: [
    f('throttleTimeMs', 'int32', 2),
    f('topics', arrayOf(struct(
      f('name', 'string'),
      f('topicId', 'uuid', 7),
      f('errorCode', 'int16'),
      f('errorMessage', 'string', 1),
      f('numPartitions', 'int32', 5),
      f('replicationFactor', 'int16', 5),
      f('configs', arrayOf(struct(
        f('name', 'string'),
        f('value', 'string'),
        f('readOnly', 'bool'),
        f('configSource', 'int8'),
        f('isSensitive', 'bool'),
      )), 5),
    ))),
  ],
};

const DELETE_TOPICS: BodySchemas = {
  maxVersion: 6,
  request: [
    f('topicNames', arrayOf('string'), 0, 5),
    f('topics', arrayOf(struct(f('name', 'string'), f('topicId', 'uuid'))), 6),
    f('timeoutMs', 'int32'),
  ],
  response: [
    f('throttleTimeMs', 'int32', 1),
    f('responses', arrayOf(struct(f('name', 'string'), f('topicId', 'uuid', 6), f('errorCode', 'int16'), f('errorMessage', 'string', 5)))),
  ],
};

const SASL_AUTHENTICATE: BodySchemas = {
  maxVersion: 2,
  request: [f('authBytes', 'bytes')],
  response: [f('errorCode', 'int16'), f('errorMessage', 'string'), f('authBytes', 'bytes'), f('sessionLifetimeMs', 'int64', 1)],
};

const BY_KEY: ReadonlyMap<number, BodySchemas> = new Map([
  [API_KEY.Produce, PRODUCE],
  [API_KEY.Fetch, FETCH],
  [API_KEY.ListOffsets, LIST_OFFSETS],
  [API_KEY.Metadata, METADATA],
  [API_KEY.OffsetCommit, OFFSET_COMMIT],
  [API_KEY.OffsetFetch, OFFSET_FETCH],
  [API_KEY.FindCoordinator, FIND_COORDINATOR],
  [API_KEY.JoinGroup, JOIN_GROUP],
  [API_KEY.Heartbeat, HEARTBEAT],
  [API_KEY.LeaveGroup, LEAVE_GROUP],
  [API_KEY.SyncGroup, SYNC_GROUP],
  [API_KEY.SaslHandshake, SASL_HANDSHAKE],
  [API_KEY.ApiVersions, API_VERSIONS],
  [API_KEY.CreateTopics, CREATE_TOPICS],
  [API_KEY.DeleteTopics, DELETE_TOPICS],
  [API_KEY.SaslAuthenticate, SASL_AUTHENTICATE],
]);

/** The bodies of `apiKey` in `version`, or null when we do not decode them (unknown key or version). */
export function bodySchemas(apiKey: number, version: number): BodySchemas | null {
  const s = BY_KEY.get(apiKey);
  return s !== undefined && version >= 0 && version <= s.maxVersion ? s : null;
}

/** API keys whose bodies are decoded (docs, tests). */
export const DECODED_API_KEYS: readonly number[] = [...BY_KEY.keys()];
